// Open disputes, oldest first: refund in full, refund part (in yuan), or release the
// money to the seller, with a note both sides see.

import { api, newIdempotencyKey } from "../../shared/api.js";
import { dateTime, h, promptDialog, showError, toast, toFen, yuan } from "../../shared/dom.js";
import { ACTOR, OUTCOME, pageFrame, showPagedTable } from "./kit.js";

export default async function render(view) {
  const body = pageFrame(view, "纠纷");

  async function resolve(dispute) {
    const order = await api(`/orders/${dispute.order_id}`).catch(() => null);
    const data = await promptDialog({
      title: `处理订单 #${dispute.order_id} 的纠纷${order ? `（成交价 ${yuan(order.price)}）` : ""}`,
      fields: [
        { name: "outcome", label: "处理结果", type: "select", options: Object.entries(OUTCOME) },
        { name: "amount", label: "部分退款金额（元，仅部分退款时填写）", inputmode: "decimal", placeholder: "例如 50.00" },
        { name: "note", label: "处理说明", type: "textarea", maxlength: 1000 },
      ],
      submitText: "确认处理",
    });
    if (!data) return;
    const outcome = data.get("outcome");
    const body = { outcome, note: String(data.get("note") || "").trim() };
    if (outcome === "refund_partial") {
      const fen = toFen(data.get("amount"));
      if (!fen) return toast("请填写正确的退款金额", "error");
      if (order && fen >= order.price) return toast("部分退款须小于成交价，全额请选全额退款", "error");
      body.refund_amount = fen;
    }
    try {
      await api(`/admin/orders/${dispute.order_id}/resolve-dispute`, { method: "POST", body, idempotencyKey: newIdempotencyKey() });
      toast(`纠纷已处理：${OUTCOME[outcome]}`);
      load(1);
    } catch (error) {
      showError(error);
    }
  }

  async function load(page) {
    await showPagedTable(body, {
      fetch: () => api("/admin/disputes", { query: { page } }),
      empty: "没有待处理的纠纷",
      caption: "待处理纠纷",
      go: load,
      columns: [
        ["订单", (d) => h("a", { href: `#/orders/${d.order_id}` }, `#${d.order_id}`)],
        ["发起方", (d) => ACTOR[d.opener] || d.opener],
        ["原因", (d) => d.reason],
        ["发起时间", (d) => dateTime(d.opened_at)],
        ["操作", (d) => h("button", { type: "button", class: "btn btn-small btn-primary", "aria-label": `处理订单 #${d.order_id} 的纠纷`, onclick: () => resolve(d) }, "处理")],
      ],
    });
  }
  await load(1);
}
