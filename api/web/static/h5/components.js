// Pieces more than one H5 page draws: the goods card, the seller line, the login gate.

import { auth } from "../shared/api.js";
import { h, markedText, yuan } from "../shared/dom.js";
import { navigate } from "../shared/router.js";

/**
 * A goods card for two-column grids. `position` (0-based) and `list` ({requestId,
 * rankerVersion}) let track.js report the impression and the click.
 */
export function goodsCard(item, position, list = {}) {
  const photo = item.photo
    ? h("img", { src: item.photo, alt: item.title, loading: "lazy", decoding: "async", width: 180, height: 180 })
    : h("div", { class: "no-photo", role: "img", "aria-label": "暂无图片" });
  return h(
    "a",
    {
      class: "goods-card",
      href: `#/goods/${item.id}`,
      dataset: {
        goodsId: String(item.id),
        position: String(position),
        ...(list.requestId ? { requestId: list.requestId } : {}),
        ...(list.rankerVersion !== undefined && list.rankerVersion !== null ? { rankerVersion: String(list.rankerVersion) } : {}),
      },
    },
    photo,
    h(
      "div",
      { class: "body" },
      h("div", { class: "title" }, item.highlighted_title ? markedText(item.highlighted_title) : item.title),
      h(
        "div",
        { class: "meta" },
        h("span", null, h("span", { class: "price" }, yuan(item.price)), item.original_price ? h("span", { class: "price-original" }, yuan(item.original_price)) : null),
        h("span", { class: "muted" }, item.city || ""),
      ),
      item.condition ? h("div", null, h("span", { class: "tag" }, item.condition)) : null,
    ),
  );
}

/** Send a visitor to log in, coming back here afterwards. Returns false when logged out. */
export function requireLogin(ctx) {
  if (auth.token) return true;
  const here = `${ctx.path}${ctx.search?.toString() ? `?${ctx.search}` : ""}`;
  navigate(`/login?next=${encodeURIComponent(here)}`);
  return false;
}
