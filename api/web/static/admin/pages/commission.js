// The platform's commission: stored in basis points (100 = 1%), shown and set as a percent.

import { api } from "../../shared/api.js";
import { emptyState, h, showError, toast } from "../../shared/dom.js";
import { pageFrame } from "./kit.js";

export default async function render(view) {
  const body = pageFrame(view, "佣金");
  let rate;
  try {
    rate = (await api("/admin/commission")).rate_bp;
  } catch (error) {
    showError(error);
    body.replaceChildren(emptyState(error.message));
    return;
  }
  const shown = h("strong", { class: "commission-now" });
  const draw = () => (shown.textContent = `${(rate / 100).toFixed(2)}%`);
  draw();
  const input = h("input", { name: "rate", type: "number", min: 0, max: 30, step: 0.01, required: true, value: (rate / 100).toFixed(2), "aria-label": "新的佣金比例（%）" });
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    { class: "panel", "aria-label": "设置佣金" },
    h("p", null, "当前佣金比例：", shown),
    h("p", { class: "muted" }, "只影响之后新下的订单；进行中的订单按下单时的比例结算。范围 0%–30%。"),
    h("div", { class: "inline-form" }, h("label", { class: "field" }, h("span", null, "新的佣金比例（%）"), input), h("button", { type: "submit", class: "btn btn-primary" }, "保存")),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const bp = Math.round(Number(input.value) * 100);
    if (!Number.isFinite(bp) || bp < 0 || bp > 3000) {
      error.textContent = "请输入 0 到 30 之间的百分比";
      return;
    }
    try {
      rate = (await api("/admin/commission", { method: "PUT", body: { rate_bp: bp } })).rate_bp;
      draw();
      toast(`佣金已设为 ${(rate / 100).toFixed(2)}%`);
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  body.replaceChildren(form);
}
