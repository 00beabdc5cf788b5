// 首页: a search entry, the carousel, the category grid, 热门 and 新发布, then the endless
// 猜你喜欢 feed. Every list reports impressions and clicks with its surface, position,
// request id and ranker version.

import { api } from "../../shared/api.js";
import { emptyState, h, loading, showError } from "../../shared/dom.js";
import { deviceId, trackList } from "../../shared/track.js";
import { goodsCard } from "../components.js";
import { categoryIcon } from "./categories.js";

const ADVANCE_MS = 4000;

/** A link target from a banner: in-app fragments stay in the app, others open as given. */
function bannerHref(link) {
  const text = String(link || "").trim();
  if (text.startsWith("#/")) return text;
  // Site paths: "/#/search?q=…" or "/?…" are the app itself; other paths are app routes.
  if (text.startsWith("/#/")) return text.slice(1);
  if (text.startsWith("/") && !text.startsWith("//")) return `#${text}`;
  if (/^https?:\/\//.test(text)) return text;
  return "#/";
}

function carousel(banners) {
  const track = h("div", { class: "banner-track" });
  const dots = h("div", { class: "banner-dots", role: "tablist", "aria-label": "轮播图" });
  banners.forEach((banner, index) => {
    // Without an image (or when it fails to load) the title on a colour still reads well.
    const image = banner.image
      ? h("img", {
          src: banner.image,
          alt: "",
          loading: index === 0 ? "eager" : "lazy",
          decoding: "async",
          onerror: (event) => event.target.remove(),
        })
      : null;
    const external = /^https?:\/\//.test(bannerHref(banner.link));
    track.append(
      h(
        "a",
        {
          class: `banner banner-tone-${index % 4}`,
          href: bannerHref(banner.link),
          target: external ? "_blank" : undefined,
          rel: external ? "noopener" : undefined,
          "aria-label": `${banner.title}（第${index + 1}张，共${banners.length}张）`,
        },
        image,
        h("span", { class: "banner-title" }, banner.title),
      ),
    );
    dots.append(h("button", { type: "button", role: "tab", class: "banner-dot", "aria-label": `第${index + 1}张`, onclick: () => go(index) }));
  });
  let current = 0;
  const mark = (index) => {
    current = index;
    [...dots.children].forEach((dot, i) => dot.setAttribute("aria-selected", String(i === index)));
  };
  const go = (index) => {
    const width = track.clientWidth || 1;
    track.scrollTo({ left: index * width, behavior: "smooth" });
    mark(index);
  };
  track.addEventListener(
    "scroll",
    () => {
      const width = track.clientWidth || 1;
      const index = Math.round(track.scrollLeft / width);
      if (index !== current && index >= 0 && index < banners.length) mark(index);
    },
    { passive: true },
  );
  mark(0);
  // Auto-advance, paused while a finger is on the carousel or the tab is hidden.
  let touching = false;
  track.addEventListener("touchstart", () => (touching = true), { passive: true });
  track.addEventListener("touchend", () => (touching = false), { passive: true });
  const timer =
    banners.length > 1
      ? setInterval(() => {
          if (touching || document.hidden) return;
          go((current + 1) % banners.length);
        }, ADVANCE_MS)
      : null;
  const element = h("section", { class: "banners", "aria-roledescription": "carousel", "aria-label": "活动推荐" }, track, banners.length > 1 ? dots : null);
  return { element, stop: () => clearInterval(timer) };
}

function categoryGrid(categories) {
  return h(
    "nav",
    { class: "cat-grid", "aria-label": "分类" },
    categories.map((category) =>
      h("a", { class: "cat-grid-item", href: `#/search?category=${category.id}` }, categoryIcon(category), h("span", { class: "cat-grid-name" }, category.name)),
    ),
  );
}

function goodsSection(title, items, { surface, requestId, rankerVersion, more }) {
  const grid = h("div", { class: "goods-grid", role: "list", "aria-label": title });
  items.forEach((item, position) => grid.append(goodsCard(item, position, { requestId, rankerVersion })));
  const section = h(
    "section",
    { class: "section home-section", "aria-label": title },
    h("h2", { class: "section-title" }, h("span", null, title), more ? h("a", { class: "muted", href: more }, "更多 ›") : null),
    grid,
  );
  const stop = trackList(grid, { surface, requestId, rankerVersion });
  return { section, stop };
}

export default async function render(view, ctx) {
  const stops = [];
  const cleanup = () => stops.splice(0).forEach((stop) => stop());
  const searchEntry = h(
    "a",
    { class: "search-entry", href: "#/search", role: "search", "aria-label": "搜索闲置" },
    h("span", { class: "search-glass", "aria-hidden": "true" }),
    " 搜索你想要的宝贝",
  );
  const header = h("header", { class: "home-header" }, h("span", { class: "home-logo" }, "闲置好物"), searchEntry);
  view.append(header, loading());

  let feed;
  try {
    feed = await api("/feed/home");
  } catch (error) {
    showError(error);
    view.replaceChildren(header, emptyState("首页加载失败", h("button", { class: "btn", onclick: () => ctx.navigate("/") }, "重试")));
    return cleanup;
  }
  if (!ctx.isCurrent()) return cleanup;
  view.replaceChildren(header);

  if (feed.banners?.length) {
    const banners = carousel(feed.banners);
    stops.push(banners.stop);
    view.append(banners.element);
  }
  if (feed.categories?.length) view.append(categoryGrid(feed.categories));
  const meta = { requestId: feed.request_id, rankerVersion: feed.ranker_version };
  if (feed.hot?.length) {
    const hot = goodsSection("热门", feed.hot, { ...meta, surface: "home_hot", more: "#/search?sort=hot" });
    stops.push(hot.stop);
    view.append(hot.section);
  }
  if (feed.new?.length) {
    const fresh = goodsSection("新发布", feed.new, { ...meta, surface: "home_new", more: "#/search?sort=newest" });
    stops.push(fresh.stop);
    view.append(fresh.section);
  }

  // 猜你喜欢: pages follow the cursor until the server says there is no more.
  const grid = h("div", { class: "goods-grid", role: "list", "aria-label": "猜你喜欢" });
  const status = h("div", { class: "state feed-status", role: "status" });
  const sentinel = h("div", { class: "feed-sentinel", "aria-hidden": "true" });
  view.append(h("section", { class: "section home-section", "aria-label": "猜你喜欢" }, h("h2", { class: "section-title" }, "猜你喜欢"), grid, status, sentinel));
  stops.push(trackList(grid, { surface: "for_you" }));

  let cursor = null;
  let done = false;
  let busy = false;
  let position = 0;
  const controller = new AbortController();
  stops.push(() => controller.abort());

  async function loadMore() {
    if (busy || done) return;
    busy = true;
    status.textContent = "加载中…";
    try {
      const page = await api("/feed/for-you", { query: { cursor, device_id: deviceId() }, signal: controller.signal });
      for (const item of page.items) grid.append(goodsCard(item, position++, { requestId: page.request_id, rankerVersion: page.ranker_version }));
      cursor = page.next_cursor;
      done = !cursor;
      status.textContent = done ? (position ? "没有更多了" : "暂时没有推荐") : "";
    } catch (error) {
      if (error.name === "AbortError") return;
      status.replaceChildren("加载失败，", h("button", { type: "button", class: "link", onclick: () => loadMore() }, "点击重试"));
      busy = false;
      return;
    }
    busy = false;
    // A short page may leave the sentinel on screen: keep going until it is pushed out.
    if (!done && sentinel.getBoundingClientRect().top < innerHeight + 400) loadMore();
  }
  const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && loadMore(), { rootMargin: "400px 0px" });
  observer.observe(sentinel);
  stops.push(() => observer.disconnect());
  return cleanup;
}
