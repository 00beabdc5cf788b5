// Pieces every admin page uses: a titled page, a table from rows, a pager, Chinese
// names for the API's states, and a reason prompt with quick picks.

import { api } from "../../shared/api.js";
import { emptyState, h, loading, promptDialog, showError } from "../../shared/dom.js";

export const ORDER_STATUS = {
  awaiting_payment: "待付款",
  paid: "已付款（待卖家视频）",
  video_uploaded: "待买家确认视频",
  video_confirmed: "待发货",
  shipped: "已发货",
  seller_completed: "卖家已完成",
  disputed: "纠纷中",
  completed: "已完成",
  cancelled: "已取消",
  refunded: "已退款",
};
export const ACTOR = { buyer: "买家", seller: "卖家", operator: "客服", system: "系统" };
export const ROLE = { user: "普通用户", reviewer: "审核员", operator: "运营", admin: "管理员" };
export const USER_STATUS = { active: "正常", banned: "已封禁" };
export const WITHDRAWAL_STATUS = { requested: "待打款", paid: "已打款", rejected: "已驳回" };
export const PAYOUT_KIND = { alipay: "支付宝", wechat: "微信", bank_card: "银行卡" };
export const OUTCOME = { refund_full: "全额退款", refund_partial: "部分退款", release: "放款给卖家" };

/** Clear the view and give it a heading and an optional toolbar; returns the body box. */
export function pageFrame(view, title, ...tools) {
  const body = h("div", { class: "admin-body" });
  view.replaceChildren(h("h1", null, title), tools.length ? h("div", { class: "toolbar" }, ...tools) : null, body);
  return body;
}

/** A table: columns are [header, row => cell content]. */
export function table(columns, rows, { caption, rowAttrs } = {}) {
  return h(
    "table",
    { class: "table" },
    caption ? h("caption", { class: "sr-only" }, caption) : null,
    h("thead", null, h("tr", null, columns.map(([title]) => h("th", { scope: "col" }, title)))),
    h(
      "tbody",
      null,
      rows.map((row) => h("tr", rowAttrs ? rowAttrs(row) : null, columns.map(([, cell]) => h("td", null, cell(row))))),
    ),
  );
}

/** Previous/next buttons for a Page answer; `go(page)` reloads. */
export function pager(answer, go) {
  const pages = Math.max(1, Math.ceil(answer.total / answer.page_size));
  return h(
    "div",
    { class: "pager" },
    h("span", { class: "muted" }, `共 ${answer.total} 条 · 第 ${answer.page}/${pages} 页`),
    h("button", { type: "button", class: "btn btn-small", disabled: answer.page <= 1, onclick: () => go(answer.page - 1) }, "上一页"),
    h("button", { type: "button", class: "btn btn-small", disabled: answer.page >= pages, onclick: () => go(answer.page + 1) }, "下一页"),
  );
}

/**
 * One page of a list into `body`: loading, then a table with a pager, the `empty` text, or
 * the refusal. `fetch()` answers a Page; `go(page)` shows another one.
 */
export async function showPagedTable(body, { fetch, empty, columns, caption, rowAttrs, go }) {
  body.replaceChildren(loading());
  try {
    const answer = await fetch();
    if (!answer.items.length) return body.replaceChildren(emptyState(empty));
    body.replaceChildren(table(columns, answer.items, { caption, rowAttrs }), pager(answer, go));
  } catch (error) {
    showError(error);
    body.replaceChildren(emptyState(error.message));
  }
}

/** Ask for a reason; resolves to the text or null. */
export async function askReason(title, { label = "原因", minLength = 1 } = {}) {
  const data = await promptDialog({ title, fields: [{ name: "reason", label, type: "textarea", required: true, maxlength: 500 }] });
  if (!data) return null;
  const text = String(data.get("reason") || "").trim();
  return text.length >= minLength ? text : null;
}

let categoryNames = null;
/** id → "父类 / 子类" for every category (the public tree, cached). */
export async function categoryLabels() {
  if (categoryNames) return categoryNames;
  const tree = await api("/categories");
  const names = new Map();
  for (const parent of tree.items) {
    names.set(parent.id, parent.name);
    for (const child of parent.children || []) names.set(child.id, `${parent.name} / ${child.name}`);
  }
  categoryNames = names;
  return names;
}
