// Every order, newest first, filtered by status, buyer or seller.

import { api } from "../../shared/api.js";
import { dateTime, h, yuan } from "../../shared/dom.js";
import { ORDER_STATUS, pageFrame, showPagedTable } from "./kit.js";

export default async function render(view, ctx) {
  const status = h("select", { name: "status", "aria-label": "订单状态" }, h("option", { value: "" }, "全部状态"), Object.entries(ORDER_STATUS).map(([value, text]) => h("option", { value, selected: ctx.query.status === value }, text)));
  const buyer = h("input", { name: "buyer_id", inputmode: "numeric", placeholder: "买家ID", "aria-label": "买家ID", value: ctx.query.buyer_id || "", size: 8 });
  const seller = h("input", { name: "seller_id", inputmode: "numeric", placeholder: "卖家ID", "aria-label": "卖家ID", value: ctx.query.seller_id || "", size: 8 });
  const form = h("form", { class: "inline-form", role: "search", "aria-label": "筛选订单" }, status, buyer, seller, h("button", { type: "submit", class: "btn btn-small btn-primary" }, "筛选"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(1);
  });
  status.addEventListener("change", () => load(1));
  const body = pageFrame(view, "订单", form);

  async function load(page) {
    await showPagedTable(body, {
      fetch: () => api("/admin/orders", { query: { status: status.value, buyer_id: buyer.value.trim(), seller_id: seller.value.trim(), page } }),
      empty: "没有符合条件的订单",
      caption: "订单列表",
      go: load,
      columns: [
        ["订单", (o) => h("a", { href: `#/orders/${o.id}` }, `#${o.id}`)],
        ["宝贝", (o) => `#${o.goods_id}`],
        ["买家", (o) => `#${o.buyer_id}`],
        ["卖家", (o) => `#${o.seller_id}`],
        ["金额", (o) => h("span", { class: "price" }, yuan(o.price))],
        ["状态", (o) => h("span", { class: "tag" }, ORDER_STATUS[o.status] || o.status)],
        ["截止", (o) => (o.due_at ? dateTime(o.due_at) : "—")],
        ["下单时间", (o) => dateTime(o.created_at)],
      ],
    });
  }
  await load(1);
}
