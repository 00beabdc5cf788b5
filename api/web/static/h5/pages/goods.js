// 宝贝详情: the photo gallery, price and facts, the description, the seller, 看了又看, and a
// bottom bar to chat, bargain or buy (or "这是你发布的" on one's own goods).

import { api, auth, newIdempotencyKey } from "../../shared/api.js";
import { emptyState, h, loading, showError, timeAgo, yuan } from "../../shared/dom.js";
import { trackList } from "../../shared/track.js";
import { goodsCard, requireLogin } from "../components.js";

const STATE_TEXT = {
  reserved: "已被拍下",
  sold: "已售出",
  withdrawn: "已下架",
  draft: "草稿",
  pending_review: "审核中",
  rejected: "未通过审核",
};

function gallery(goods) {
  const photos = goods.photos || [];
  if (!photos.length) return h("div", { class: "gallery gallery-empty", role: "img", "aria-label": "暂无图片" }, "暂无图片");
  const track = h(
    "div",
    { class: "gallery-track", tabindex: "0", "aria-label": `宝贝图片，共${photos.length}张，左右滑动查看` },
    photos.map((photo, index) =>
      h("img", {
        src: photo.url,
        alt: `${goods.title} 第${index + 1}张`,
        width: photo.width || undefined,
        height: photo.height || undefined,
        loading: index === 0 ? "eager" : "lazy",
        decoding: "async",
      }),
    ),
  );
  const counter = h("span", { class: "gallery-counter", "aria-live": "polite" }, `1/${photos.length}`);
  track.addEventListener(
    "scroll",
    () => {
      const index = Math.min(photos.length - 1, Math.max(0, Math.round(track.scrollLeft / (track.clientWidth || 1))));
      counter.textContent = `${index + 1}/${photos.length}`;
    },
    { passive: true },
  );
  return h("section", { class: "gallery", "aria-label": "图片" }, track, counter);
}

function sellerCard(goods) {
  const seller = goods.seller;
  if (!seller) return null;
  const rating = seller.rating !== null && seller.rating !== undefined ? `★ ${seller.rating.toFixed(1)}（${seller.ratings}条评价）` : "暂无评分";
  return h(
    "section",
    { class: "card seller-card", "aria-label": "卖家" },
    h("div", { class: "seller-avatar", "aria-hidden": "true" }, (seller.nickname || "?").slice(0, 1)),
    h("div", { class: "seller-info" }, h("div", { class: "seller-name" }, seller.nickname), h("div", { class: "muted" }, h("span", { class: "seller-rating" }, rating), " · ", `已卖出 ${seller.sales} 件`)),
  );
}

export default async function render(view, ctx) {
  const id = Number(ctx.params.id);
  const stops = [];
  const cleanup = () => stops.splice(0).forEach((stop) => stop());
  view.append(loading());
  let goods;
  try {
    goods = await api(`/goods/${id}`);
  } catch (error) {
    if (!ctx.isCurrent()) return cleanup;
    view.replaceChildren(emptyState(error.status === 404 ? "宝贝不存在或已下架" : error.message, h("a", { class: "btn", href: "#/" }, "去首页逛逛")));
    return cleanup;
  }
  if (!ctx.isCurrent()) return cleanup;

  const listed = goods.status === "listed";
  const own = auth.user && auth.user.id === goods.seller_id;
  const stateText = listed ? null : STATE_TEXT[goods.status] || "暂不可购买";

  const facts = h(
    "section",
    { class: "card goods-facts" },
    h(
      "div",
      { class: "goods-price-line" },
      h("span", { class: "price goods-price" }, yuan(goods.price)),
      goods.original_price ? h("span", { class: "price-original" }, `原价 ${yuan(goods.original_price)}`) : null,
      stateText ? h("span", { class: "tag tag-danger goods-state" }, stateText) : null,
    ),
    h("h2", { class: "goods-title" }, goods.title),
    h(
      "div",
      { class: "goods-tags" },
      h("span", { class: "tag" }, goods.condition),
      goods.no_bargaining ? h("span", { class: "tag tag-warn" }, "不议价") : null,
      h("span", { class: "muted" }, goods.city),
      goods.published_at ? h("span", { class: "muted" }, `${timeAgo(goods.published_at)}发布`) : null,
    ),
    goods.description ? h("p", { class: "goods-description" }, goods.description) : h("p", { class: "muted" }, "卖家没有写描述"),
  );

  const similarGrid = h("div", { class: "goods-grid", role: "list", "aria-label": "看了又看" });
  const similarSection = h("section", { class: "section", "aria-label": "看了又看", hidden: true }, h("h2", { class: "section-title" }, "看了又看"), similarGrid);

  // --- the action bar ---
  let bar;
  if (own) {
    bar = h("div", { class: "action-bar goods-actions" }, h("span", { class: "own-note" }, "这是你发布的"), h("a", { class: "btn", href: "#/my-goods" }, "管理我的宝贝"));
  } else {
    const busy = (button, run) => async () => {
      if (!requireLogin(ctx)) return;
      button.disabled = true;
      try {
        await run();
      } catch (error) {
        showError(error);
      } finally {
        button.disabled = !listed;
      }
    };
    const openChat = async (suffix = "") => {
      const conversation = await api(`/goods/${goods.id}/conversations`, { method: "POST" });
      ctx.navigate(`/chat/${conversation.id}${suffix}`);
    };
    const chat = h("button", { type: "button", class: "btn goods-chat" }, "聊一聊");
    chat.addEventListener("click", busy(chat, () => openChat()));
    const bargain = goods.no_bargaining ? null : h("button", { type: "button", class: "btn goods-bargain" }, "砍价");
    bargain?.addEventListener("click", busy(bargain, () => openChat("?offer=1")));
    const buy = h("button", { type: "button", class: "btn btn-accent goods-buy" }, listed ? "立即购买" : stateText);
    const key = newIdempotencyKey();
    buy.addEventListener(
      "click",
      busy(buy, async () => {
        const order = await api("/orders", { method: "POST", body: { goods_id: goods.id }, idempotencyKey: key });
        ctx.navigate(`/orders/${order.id}`);
      }),
    );
    for (const button of [chat, bargain, buy]) if (button && !listed) button.disabled = true;
    bar = h("div", { class: "action-bar goods-actions", role: "group", "aria-label": "购买操作" }, chat, bargain, buy);
  }

  view.replaceChildren(h("article", { class: "goods-page" }, gallery(goods), facts, sellerCard(goods), similarSection), bar);

  api(`/goods/${goods.id}/similar`)
    .then((answer) => {
      if (!ctx.isCurrent() || !answer.items?.length) return;
      answer.items.forEach((item, position) => similarGrid.append(goodsCard(item, position)));
      similarSection.hidden = false;
      stops.push(trackList(similarGrid, { surface: "similar" }));
    })
    .catch(() => {
      // 看了又看 is a bonus; the page is whole without it.
    });
  return () => {
    bar.remove();
    cleanup();
  };
}
