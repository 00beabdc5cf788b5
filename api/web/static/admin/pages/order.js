// One order as an operator sees it (GET /orders/{id} admits staff who may see orders):
// money, logistics, dispute and the full timeline.

import { api } from "../../shared/api.js";
import { dateTime, emptyState, h, showError, yuan } from "../../shared/dom.js";
import { ACTOR, ORDER_STATUS, OUTCOME, pageFrame } from "./kit.js";

export default async function render(view, ctx) {
  const body = pageFrame(view, `订单 #${ctx.params.id}`, h("a", { href: "#/orders", class: "btn btn-small" }, "← 返回订单列表"));
  let order;
  try {
    order = await api(`/orders/${encodeURIComponent(ctx.params.id)}`);
  } catch (error) {
    showError(error);
    body.replaceChildren(emptyState(error.message));
    return;
  }
  const fact = (label, value) => [h("dt", null, label), h("dd", null, value ?? "—")];
  body.replaceChildren(
    h(
      "section",
      { class: "panel", "aria-label": "订单信息" },
      h("h2", null, "订单信息"),
      h(
        "dl",
        { class: "facts" },
        fact("状态", h("strong", null, ORDER_STATUS[order.status] || order.status)),
        fact("宝贝", h("a", { href: `/#/goods/${order.goods_id}`, target: "_blank", rel: "noopener" }, `#${order.goods_id}`)),
        fact("买家", `#${order.buyer_id}`),
        fact("卖家", `#${order.seller_id}`),
        fact("成交价", yuan(order.price)),
        fact("佣金", `${yuan(order.commission)}（${(order.commission_rate_bp / 100).toFixed(2)}%）`),
        fact("卖家实收", yuan(order.seller_receives)),
        fact("下单时间", dateTime(order.created_at)),
        fact("付款时间", order.paid_at ? dateTime(order.paid_at) : null),
        fact("物流", order.carrier ? `${order.carrier} ${order.tracking_number}` : null),
        fact("发货时间", order.shipped_at ? dateTime(order.shipped_at) : null),
        fact("结束时间", order.finished_at ? dateTime(order.finished_at) : null),
        fact("截止时间", order.due_at ? dateTime(order.due_at) : null),
        fact("验货视频", order.video_url ? `已上传（${Math.round(order.video_seconds || 0)} 秒）` : null),
      ),
    ),
    order.dispute
      ? h(
          "section",
          { class: "panel", "aria-label": "纠纷" },
          h("h2", null, "纠纷"),
          h(
            "dl",
            { class: "facts" },
            fact("发起方", ACTOR[order.dispute.opener] || order.dispute.opener),
            fact("原因", order.dispute.reason),
            fact("发起时间", dateTime(order.dispute.opened_at)),
            fact("结果", order.dispute.outcome ? OUTCOME[order.dispute.outcome] : h("a", { href: "#/disputes" }, "待处理，去处理")),
            fact("退款金额", order.dispute.refund_amount ? yuan(order.dispute.refund_amount) : null),
            fact("处理说明", order.dispute.resolution_note || null),
          ),
        )
      : null,
    h(
      "section",
      { class: "panel", "aria-label": "订单时间线" },
      h("h2", null, "时间线"),
      h(
        "ol",
        { class: "timeline" },
        order.timeline.map((step) =>
          h("li", null, h("strong", null, ORDER_STATUS[step.to_status] || step.to_status), ` · ${ACTOR[step.actor] || step.actor}${step.actor_id ? ` #${step.actor_id}` : ""} · ${dateTime(step.at)}`, step.note ? h("div", { class: "muted" }, step.note) : null),
        ),
      ),
    ),
  );
}
