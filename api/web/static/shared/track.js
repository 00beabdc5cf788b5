// Behaviour events for ranking: every goods card a list shows reports its impression once
// (at least half of it on screen), and a tap reports a click, with the surface, the
// position, the feed's request id and the ranker version the server gave that list.

import { api, auth } from "./api.js";

const DEVICE_KEY = "idlemarket.device";
const FLUSH_MS = 1000;
const MAX_BATCH = 500;
let queue = [];
let timer = null;

export function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2)}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

function enqueue(event) {
  queue.push({ ...event, device_id: deviceId(), ts: new Date().toISOString() });
  if (queue.length >= MAX_BATCH) flush();
  else if (!timer) timer = setTimeout(flush, FLUSH_MS);
}

/** Send what is queued. With `keepalive` the request outlives the page (on hiding it). */
export function flush({ keepalive = false } = {}) {
  clearTimeout(timer);
  timer = null;
  if (!queue.length) return Promise.resolve();
  const events = queue.splice(0, MAX_BATCH);
  const headers = { "Content-Type": "application/json" };
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  const sent = fetch("/api/v1/events", { method: "POST", headers, body: JSON.stringify({ events }), keepalive })
    .then((response) => {
      document.dispatchEvent(new CustomEvent("events:sent", { detail: { count: events.length, status: response.status } }));
    })
    .catch(() => {
      // Behaviour events are best effort: a lost batch costs ranking a little, never the user.
    });
  if (queue.length) timer = setTimeout(flush, FLUSH_MS);
  return sent;
}

addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") flush({ keepalive: true });
});

/** Report one event now (a favourite, a share, a goods page opened from outside a list). */
export function track(type, goodsId, extra = {}) {
  enqueue({ type, goods_id: Number(goodsId), ...extra });
}

/**
 * Watch a list: cards are elements with data-goods-id and data-position inside `container`
 * (added now or later, as infinite scroll appends). `meta()` gives the list's surface,
 * request id and ranker version (a card may carry its own data-request-id and
 * data-ranker-version when pages of one feed come from different responses).
 * Returns a function that stops watching.
 */
export function trackList(container, meta) {
  const seen = new Set();
  const describe = (card) => {
    const base = typeof meta === "function" ? meta() : meta;
    const event = { goods_id: Number(card.dataset.goodsId), surface: base.surface, position: Number(card.dataset.position) };
    const requestId = card.dataset.requestId || base.requestId;
    const rankerVersion = card.dataset.rankerVersion || base.rankerVersion;
    if (requestId) event.request_id = requestId;
    if (rankerVersion !== undefined && rankerVersion !== null && rankerVersion !== "") event.ranker_version = Number(rankerVersion);
    return event;
  };
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const card = entry.target;
        const key = `${card.dataset.requestId || ""}:${card.dataset.goodsId}:${card.dataset.position}`;
        observer.unobserve(card);
        if (seen.has(key)) continue;
        seen.add(key);
        enqueue({ type: "impression", ...describe(card) });
      }
    },
    { threshold: 0.5 },
  );
  const watch = (root) => {
    for (const card of root.querySelectorAll?.("[data-goods-id][data-position]") || []) observer.observe(card);
    if (root.dataset?.goodsId && root.dataset?.position) observer.observe(root);
  };
  watch(container);
  const mutations = new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) if (node.nodeType === 1) watch(node);
  });
  mutations.observe(container, { childList: true, subtree: true });
  const onClick = (event) => {
    const card = event.target.closest?.("[data-goods-id][data-position]");
    if (card && container.contains(card)) enqueue({ type: "click", ...describe(card) });
  };
  container.addEventListener("click", onClick, true);
  return () => {
    observer.disconnect();
    mutations.disconnect();
    container.removeEventListener("click", onClick, true);
  };
}
