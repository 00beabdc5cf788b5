// Staff log in here; a shopper's account is refused (the console is for reviewers,
// operators and admins only).

import { auth, login, logout } from "../../shared/api.js";
import { h } from "../../shared/dom.js";
import { landingPath } from "../app.js";

const STAFF = ["reviewer", "operator", "admin"];

export default function render(view, ctx) {
  const message = h("p", { class: "form-error", role: "alert" });
  const identity = h("input", { name: "identity", autocomplete: "username", required: true, placeholder: "邮箱或手机号" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "登录");
  const form = h(
    "form",
    { class: "card admin-login", "aria-label": "后台登录" },
    h("h1", null, "闲置好物 · 管理后台"),
    h("label", { class: "field" }, h("span", null, "邮箱或手机号"), identity),
    h("label", { class: "field" }, h("span", null, "密码"), password),
    message,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    submit.disabled = true;
    try {
      const user = await login(identity.value.trim(), password.value);
      if (!STAFF.includes(user.role)) {
        await logout();
        message.textContent = "该账号不是后台工作人员，无法登录管理后台";
        return;
      }
      ctx.navigate(ctx.query.next && ctx.query.next.startsWith("/") ? ctx.query.next : landingPath());
    } catch (error) {
      message.textContent = error.message || "登录失败";
    } finally {
      submit.disabled = false;
    }
  });
  if (auth.user && !STAFF.includes(auth.user.role)) message.textContent = "该账号不是后台工作人员，无法登录管理后台";
  view.append(form);
  identity.focus();
}
