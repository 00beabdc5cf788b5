// 登录 / 注册: email or phone with a password; a register tab; field errors under the
// fields they are about; afterwards back to `next` (default 我的).

import { api, auth, login } from "../../shared/api.js";
import { h } from "../../shared/dom.js";

const PHONE = /^1[3-9]\d{9}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// The login form's own wording where the shared one (api.js) would say less.
const CODE_MESSAGES = {
  login_taken: "该手机号或邮箱已注册，请直接登录",
  rate_limited: "尝试次数太多，请稍后再试",
};

// Pydantic's English field messages, by type, in Chinese.
function fieldMessage(field) {
  const type = field.type || "";
  if (field.field === "password" && type.includes("too_short")) return "密码至少 8 位";
  if (field.field === "email") return "邮箱格式不正确";
  if (field.field === "phone") return "手机号格式不正确";
  if (field.field === "nickname") return "昵称为 1–40 个字";
  if (type === "missing") return "请填写";
  return "格式不正确";
}

function errorText(error) {
  return CODE_MESSAGES[error.code] || error.message || "出错了，请稍后再试";
}

function safeNext(next) {
  // Only in-app fragments: "next" comes from the address bar.
  const path = String(next || "").replace(/^#/, "");
  return path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/login") ? path : "/me";
}

function field({ label, name, type = "text", autocomplete, inputmode, placeholder }) {
  const id = `login-${name}-${Math.random().toString(36).slice(2, 7)}`;
  const error = h("div", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
  const input = h("input", { id, name, type, autocomplete, inputmode, placeholder, required: true, "aria-describedby": `${id}-error` });
  return {
    element: h("div", { class: "field" }, h("label", { for: id }, h("span", null, label)), input, error),
    input,
    setError(text) {
      error.textContent = text || "";
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
  };
}

export default function render(view, ctx) {
  const next = safeNext(ctx.query.next);
  const mode = ctx.query.tab === "register" ? "register" : "login";

  // --- 登录 ---
  const account = field({ label: "手机号或邮箱", name: "account", autocomplete: "username", placeholder: "手机号 / 邮箱" });
  const password = field({ label: "密码", name: "password", type: "password", autocomplete: "current-password", placeholder: "请输入密码" });
  const loginError = h("p", { class: "form-error", role: "alert" });
  const loginButton = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "登录");
  const loginForm = h("form", { class: "login-form", "aria-label": "登录", novalidate: true }, account.element, password.element, loginError, loginButton);
  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const identity = account.input.value.trim();
    account.setError("");
    password.setError("");
    loginError.textContent = "";
    let bad = false;
    if (!identity) (account.setError("请输入手机号或邮箱"), (bad = true));
    else if (!(identity.includes("@") ? EMAIL.test(identity) : PHONE.test(identity))) (account.setError("请输入正确的手机号或邮箱"), (bad = true));
    if (!password.input.value) (password.setError("请输入密码"), (bad = true));
    if (bad) return;
    loginButton.disabled = true;
    loginButton.textContent = "登录中…";
    try {
      await login(identity, password.input.value);
      document.dispatchEvent(new Event("unread:changed"));
      ctx.navigate(next, { replace: true });
    } catch (error) {
      for (const item of error.fields || []) (item.field === "password" ? password : account).setError(fieldMessage(item));
      loginError.textContent = errorText(error);
    } finally {
      loginButton.disabled = false;
      loginButton.textContent = "登录";
    }
  });

  // --- 注册 ---
  const regAccount = field({ label: "手机号或邮箱", name: "reg-account", autocomplete: "username", placeholder: "手机号 / 邮箱" });
  const regPassword = field({ label: "设置密码", name: "reg-password", type: "password", autocomplete: "new-password", placeholder: "至少 8 位" });
  const nickname = field({ label: "昵称", name: "nickname", autocomplete: "nickname", placeholder: "给自己起个名字" });
  const regError = h("p", { class: "form-error", role: "alert" });
  const regButton = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "注册并登录");
  const registerForm = h("form", { class: "login-form", "aria-label": "注册", novalidate: true }, regAccount.element, regPassword.element, nickname.element, regError, regButton);
  registerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const identity = regAccount.input.value.trim();
    const fieldsByName = { email: regAccount, phone: regAccount, password: regPassword, nickname };
    for (const one of [regAccount, regPassword, nickname]) one.setError("");
    regError.textContent = "";
    let bad = false;
    if (!identity) (regAccount.setError("请输入手机号或邮箱"), (bad = true));
    else if (!(identity.includes("@") ? EMAIL.test(identity) : PHONE.test(identity))) (regAccount.setError("请输入正确的手机号或邮箱"), (bad = true));
    if (regPassword.input.value.length < 8) (regPassword.setError("密码至少 8 位"), (bad = true));
    if (!nickname.input.value.trim()) (nickname.setError("请输入昵称"), (bad = true));
    if (bad) return;
    regButton.disabled = true;
    try {
      const body = { [identity.includes("@") ? "email" : "phone"]: identity, password: regPassword.input.value, nickname: nickname.input.value.trim() };
      const result = await api("/auth/register", { method: "POST", body });
      auth.save(result.token, result.user);
      ctx.navigate(next, { replace: true });
    } catch (error) {
      for (const item of error.fields || []) (fieldsByName[item.field] || regAccount).setError(fieldMessage(item));
      if (error.code === "login_taken") regAccount.setError("该手机号或邮箱已注册");
      regError.textContent = errorText(error);
    } finally {
      regButton.disabled = false;
    }
  });

  // --- tabs ---
  const tabLogin = h("button", { type: "button", role: "tab", id: "tab-login", "aria-controls": "panel-login" }, "登录");
  const tabRegister = h("button", { type: "button", role: "tab", id: "tab-register", "aria-controls": "panel-register" }, "注册");
  const panelLogin = h("div", { role: "tabpanel", id: "panel-login", "aria-labelledby": "tab-login" }, loginForm);
  const panelRegister = h("div", { role: "tabpanel", id: "panel-register", "aria-labelledby": "tab-register" }, registerForm);
  function select(which) {
    const isLogin = which === "login";
    tabLogin.setAttribute("aria-selected", String(isLogin));
    tabRegister.setAttribute("aria-selected", String(!isLogin));
    panelLogin.hidden = !isLogin;
    panelRegister.hidden = isLogin;
  }
  tabLogin.addEventListener("click", () => select("login"));
  tabRegister.addEventListener("click", () => select("register"));
  select(mode);

  view.append(
    h(
      "div",
      { class: "login-page" },
      h("div", { class: "login-brand" }, h("div", { class: "login-logo", "aria-hidden": "true" }, "闲"), h("p", null, "闲置好物 · 让闲置流动起来")),
      auth.user ? h("p", { class: "muted login-current" }, `当前已登录：${auth.user.nickname}`) : null,
      h("div", { class: "login-tabs", role: "tablist", "aria-label": "登录或注册" }, tabLogin, tabRegister),
      panelLogin,
      panelRegister,
    ),
  );
}
