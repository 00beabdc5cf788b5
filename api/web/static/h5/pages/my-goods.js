// 我发布的: the seller's goods in every state, a tab per state, with what each state allows.

import { api } from "../../shared/api.js";
import { confirmDialog, emptyState, h, loading, showError, timeAgo, toast, yuan } from "../../shared/dom.js";

export const GOODS_STATUS = {
  draft: ["草稿", ""],
  pending_review: ["审核中", "tag-warn"],
  listed: ["在售", "tag-ok"],
  rejected: ["未通过", "tag-danger"],
  withdrawn: ["已下架", ""],
  reserved: ["交易中", "tag-warn"],
  sold: ["已卖出", ""],
};
const TABS = [["", "全部"], ["listed", "在售"], ["pending_review", "审核中"], ["draft", "草稿"], ["rejected", "未通过"], ["withdrawn", "已下架"], ["reserved", "交易中"], ["sold", "已卖出"]];
const EDITABLE = new Set(["draft", "rejected", "withdrawn", "listed"]);
const WITHDRAWABLE = new Set(["draft", "pending_review", "listed", "rejected"]);
const RESUBMITTABLE = new Set(["withdrawn"]);
const VIEWABLE = new Set(["listed", "reserved", "sold"]);
const PAGE_SIZE = 20;

export default async function render(view, ctx) {
  const status = TABS.some(([key]) => key === ctx.query.status) ? ctx.query.status : "";
  const tabs = h(
    "div",
    { class: "status-tabs", role: "tablist", "aria-label": "按状态筛选" },
    TABS.map(([key, label]) =>
      h(
        "button",
        { type: "button", role: "tab", "aria-selected": String(key === status), class: "status-tab", onclick: () => ctx.navigate(key ? `/my-goods?status=${key}` : "/my-goods", { replace: true }) },
        label,
      ),
    ),
  );
  const list = h("ul", { class: "my-goods-list", "aria-label": "我发布的宝贝" });
  const more = h("div", { class: "more-row" });
  const summary = h("p", { class: "muted list-summary", "aria-live": "polite" });
  view.replaceChildren(
    tabs,
    h("div", { class: "my-goods-head" }, summary, h("a", { class: "btn btn-primary btn-small", href: "#/publish" }, "+ 发布闲置")),
    list,
    more,
  );
  tabs.querySelector('[aria-selected="true"]')?.scrollIntoView({ inline: "center", block: "nearest" });

  let page = 0;
  async function loadPage() {
    more.replaceChildren(loading());
    try {
      const answer = await api("/me/goods", { query: { status: status || undefined, page: page + 1, page_size: PAGE_SIZE } });
      if (!ctx.isCurrent()) return;
      page += 1;
      list.append(...answer.items.map((item) => goodsRow(item, ctx)));
      summary.textContent = `共 ${answer.total} 件`;
      if (!answer.total) {
        more.replaceChildren(emptyState(status ? `没有${GOODS_STATUS[status][0]}的宝贝` : "还没有发布过宝贝", h("a", { class: "btn btn-primary", href: "#/publish" }, "发布闲置")));
      } else if (page * PAGE_SIZE < answer.total) {
        more.replaceChildren(h("button", { type: "button", class: "btn btn-block", onclick: loadPage }, "加载更多"));
      } else more.replaceChildren();
    } catch (error) {
      more.replaceChildren(emptyState(error.message, h("button", { type: "button", class: "btn", onclick: loadPage }, "重试")));
    }
  }
  await loadPage();
}

function goodsRow(item, ctx) {
  const [label, tone] = GOODS_STATUS[item.status] || [item.status, ""];
  const row = h("li", { class: "my-goods-item card", dataset: { goodsId: String(item.id) } });
  const act = async (path, done, question) => {
    if (question && !(await confirmDialog(question))) return;
    try {
      const updated = await api(`/goods/${item.id}/${path}`, { method: "POST" });
      toast(done);
      row.replaceWith(goodsRow(updated, ctx));
    } catch (error) {
      if (error.code === "verification_required") {
        toast("发布前请先完成实名认证", "error");
        ctx.navigate("/verify");
      } else showError(error);
    }
  };
  const actions = [
    VIEWABLE.has(item.status) ? h("a", { class: "btn btn-small", href: `#/goods/${item.id}` }, "查看") : null,
    EDITABLE.has(item.status) ? h("a", { class: "btn btn-small", href: `#/publish/${item.id}` }, item.status === "rejected" ? "修改" : "编辑") : null,
    RESUBMITTABLE.has(item.status) ? h("button", { type: "button", class: "btn btn-small", onclick: () => act("submit", "已提交审核") }, "重新上架") : null,
    WITHDRAWABLE.has(item.status) ? h("button", { type: "button", class: "btn btn-small btn-danger", onclick: () => act("withdraw", "已下架", `确定下架「${item.title}」吗？`) }, "下架") : null,
  ];
  row.append(
    item.photo
      ? h("img", { class: "my-goods-photo", src: item.photo, alt: "", loading: "lazy", decoding: "async", width: 84, height: 84 })
      : h("div", { class: "my-goods-photo no-photo", role: "img", "aria-label": "暂无图片" }),
    h(
      "div",
      { class: "my-goods-body" },
      h("div", { class: "my-goods-title" }, h("span", { class: `tag ${tone}` }, label), " ", h("span", null, item.title)),
      h("div", null, h("span", { class: "price" }, yuan(item.price)), h("span", { class: "muted" }, ` · ${timeAgo(item.updated_at)}更新`)),
      item.status === "rejected" && item.rejection_reason ? h("p", { class: "rejection" }, `未通过原因：${item.rejection_reason}`) : null,
      h("div", { class: "my-goods-actions" }, actions),
    ),
  );
  return row;
}
