// My orders: what I bought and what I sold, filtered by status, each card with the goods,
// the price, the status in words and what happens next.

import { api } from "../../shared/api.js";
import { clear, emptyState, h, loading, timeLeft, yuan } from "../../shared/dom.js";
import { goodsByIds, goodsThumb } from "./chat.js";
import { nextStep, STATUS } from "./order.js";

const FILTERS = [
  ["", "全部"],
  ["awaiting_payment", "待付款"],
  ["paid", "已付款"],
  ["video_uploaded", "待确认视频"],
  ["video_confirmed", "待发货"],
  ["shipped", "已发货"],
  ["completed", "已完成"],
  ["disputed", "纠纷"],
  ["cancelled", "已取消"],
];
const PAGE_SIZE = 20;

export default async function render(view, ctx) {
  const role = ctx.query.role === "seller" ? "seller" : "buyer";
  const status = FILTERS.some(([value]) => value && value === ctx.query.status) ? ctx.query.status : "";
  const link = (nextRole, nextStatus) => `#/orders?role=${nextRole}${nextStatus ? `&status=${nextStatus}` : ""}`;
  const list = h("ul", { class: "trade-list order-list", "aria-label": "订单列表" });
  const more = h("div");
  view.append(
    h(
      "nav",
      { class: "trade-tabs", "aria-label": "买卖" },
      h("a", { href: link("buyer", status), "aria-current": role === "buyer" ? "page" : null }, "我买到的"),
      h("a", { href: link("seller", status), "aria-current": role === "seller" ? "page" : null }, "我卖出的"),
    ),
    h(
      "nav",
      { class: "trade-filters", "aria-label": "订单状态" },
      FILTERS.map(([value, text]) => h("a", { class: "chip", href: link(role, value), "aria-current": value === status ? "page" : null }, text)),
    ),
    list,
    more,
  );
  let page = 1;
  let shown = 0;

  async function loadPage() {
    more.replaceChildren(loading());
    let answer;
    try {
      answer = await api("/orders", { query: { role, status, page, page_size: PAGE_SIZE } });
    } catch (error) {
      more.replaceChildren(emptyState(error.message));
      return;
    }
    const goods = await goodsByIds(answer.items.map((order) => order.goods_id));
    if (!ctx.isCurrent()) return;
    for (const order of answer.items) {
      const good = goods.get(order.goods_id);
      list.append(
        h(
          "li",
          null,
          h(
            "a",
            { class: "card order-card", href: `#/orders/${order.id}`, "aria-label": `订单 #${order.id} ${good?.title || ""} ${STATUS[order.status]}`, dataset: { orderId: String(order.id) } },
            h("div", { class: "order-card-top" }, h("span", { class: "muted" }, `订单 #${order.id}`), h("strong", { class: "order-card-status" }, STATUS[order.status] || order.status)),
            h(
              "div",
              { class: "order-card-body" },
              goodsThumb(good, 64),
              h("div", { class: "conversation-body" }, h("div", { class: "chat-goods-title" }, good?.title || `宝贝 #${order.goods_id}`), h("span", { class: "price" }, yuan(order.price))),
            ),
            h("div", { class: "order-card-hint" }, nextStep(order.status, role), order.due_at ? h("span", { class: "muted" }, ` · 剩余${timeLeft(order.due_at)}`) : null),
          ),
        ),
      );
    }
    shown += answer.items.length;
    if (!shown) more.replaceChildren(emptyState(role === "buyer" ? "还没有买到的宝贝" : "还没有卖出的宝贝", role === "buyer" ? h("a", { class: "btn", href: "#/" }, "去逛逛") : null));
    else if (shown < answer.total) {
      more.replaceChildren(
        h("button", { type: "button", class: "btn btn-block", onclick: () => ((page += 1), loadPage()) }, "加载更多"),
      );
    } else more.replaceChildren(h("div", { class: "state muted" }, "没有更多了"));
  }

  await loadPage();
}
