// 实名认证: the latest verification's state, and the form when there is none to wait for.

import { api, auth } from "../../shared/api.js";
import { dateTime, emptyState, h, loading, showError, toast } from "../../shared/dom.js";
import { VERIFICATION_STATUS } from "./me.js";
import { clearFieldErrors, field, setFieldError, showFieldErrors } from "./publish.js";

const TONES = { pending: "tag-warn", approved: "tag-ok", rejected: "tag-danger" };

export default async function render(view, ctx) {
  view.replaceChildren(loading());
  let latest = null;
  let user = auth.user;
  try {
    const [me, verification] = await Promise.all([
      api("/me"),
      api("/me/verification").catch((error) => {
        if (error.status === 404) return null;
        throw error;
      }),
    ]);
    user = me;
    latest = verification;
    auth.updateUser(me);
  } catch (error) {
    view.replaceChildren(emptyState(error.message, h("button", { type: "button", class: "btn", onclick: () => render(view, ctx) }, "重试")));
    return;
  }
  if (!ctx.isCurrent()) return;

  const parts = [];
  if (latest) {
    parts.push(
      h(
        "section",
        { class: "card sell-card verify-status", "aria-label": "认证状态" },
        h("div", { class: "verify-row" }, h("span", null, "认证状态"), h("span", { class: `tag ${TONES[latest.status] || ""}` }, VERIFICATION_STATUS[latest.status] || latest.status)),
        h("div", { class: "verify-row" }, h("span", null, "姓名"), h("span", null, latest.real_name)),
        h("div", { class: "verify-row" }, h("span", null, "身份证号"), h("span", { class: "mono" }, latest.id_number)),
        h("div", { class: "verify-row" }, h("span", null, "提交时间"), h("span", null, dateTime(latest.submitted_at))),
        latest.status === "rejected" && latest.reason ? h("p", { class: "rejection" }, `未通过原因：${latest.reason}`) : null,
        latest.status === "pending" ? h("p", { class: "muted" }, "资料已提交，运营人员审核后会通知你") : null,
      ),
    );
  } else if (user?.verified) {
    parts.push(h("section", { class: "card sell-card" }, h("span", { class: "tag tag-ok" }, "已认证")));
  }
  const canSubmit = !user?.verified && latest?.status !== "pending" && latest?.status !== "approved";
  if (canSubmit) parts.push(verificationForm(view, ctx, latest));
  parts.push(h("p", { class: "muted page-note" }, "实名认证后才能提现。身份证号加密保存，页面上只显示打码后的号码。"));
  view.replaceChildren(h("div", { class: "page-pad verify-page" }, parts));
}

function verificationForm(view, ctx, latest) {
  const name = h("input", { type: "text", autocomplete: "name", maxlength: 40, placeholder: "与身份证一致" });
  const idNumber = h("input", { type: "text", autocomplete: "off", maxlength: 18, inputmode: "text", placeholder: "18 位身份证号码" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, latest?.status === "rejected" ? "重新提交" : "提交认证");
  const form = h(
    "form",
    { class: "card sell-card", novalidate: true, "aria-label": "实名认证" },
    h("h2", { class: "sell-card-title" }, latest?.status === "rejected" ? "重新提交认证" : "填写实名信息"),
    field("真实姓名", "real_name", name),
    field("身份证号", "id_number", idNumber),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = { real_name: name.value.trim(), id_number: idNumber.value.trim().toUpperCase() };
    let bad = false;
    if (body.real_name.length < 2) bad = setFieldError(form, "real_name", "请输入真实姓名（至少 2 个字）");
    if (!/^\d{17}[\dX]$/.test(body.id_number)) bad = setFieldError(form, "id_number", "请输入 18 位身份证号码");
    if (bad) return;
    submit.disabled = true;
    try {
      await api("/me/verification", { method: "POST", body });
      toast("已提交，等待审核");
      if (ctx.isCurrent()) await render(view, ctx);
    } catch (error) {
      if (error.code === "verification_pending" || error.code === "already_verified") {
        showError(error);
        await render(view, ctx);
      } else showFieldErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
