// 搜索: the box with suggestions as you type, sorts, facet filters with counts, results in
// pages as you scroll. Everything chosen lives in the address (#/search?q=…&condition=…),
// so back/forward and reload show the same results.

import { api } from "../../shared/api.js";
import { CONDITIONS, emptyState, h, showError, toFen, yuan } from "../../shared/dom.js";
import { trackList } from "../../shared/track.js";
import { goodsCard } from "../components.js";
import { loadCategories } from "./categories.js";

const PAGE_SIZE = 20;
const MAX_WINDOW = 10_000;
const SUGGEST_DELAY_MS = 120;
const SORTS = [
  ["relevance", "综合"],
  ["newest", "最新"],
  ["price_asc", "价格↑"],
  ["price_desc", "价格↓"],
  ["hot", "最热"],
];
const CITY_CHIPS = 12;

/** The search as the address says it. */
function readState(search) {
  return {
    q: (search.get("q") || "").trim(),
    category: Number(search.get("category")) || null,
    sort: SORTS.some(([value]) => value === search.get("sort")) ? search.get("sort") : "relevance",
    condition: search.getAll("condition").filter((value) => CONDITIONS.includes(value)),
    city: search.getAll("city").filter(Boolean),
    price_min: toInt(search.get("price_min")),
    price_max: toInt(search.get("price_max")),
  };
}
const toInt = (value) => (value !== null && value !== "" && /^\d+$/.test(value) ? Number(value) : null);

function addressOf(state) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.category) params.set("category", String(state.category));
  if (state.sort && state.sort !== "relevance") params.set("sort", state.sort);
  for (const value of state.condition) params.append("condition", value);
  for (const value of state.city) params.append("city", value);
  if (state.price_min !== null) params.set("price_min", String(state.price_min));
  if (state.price_max !== null) params.set("price_max", String(state.price_max));
  const text = params.toString();
  return `/search${text ? `?${text}` : ""}`;
}

const filterCount = (state) => (state.category ? 1 : 0) + state.condition.length + state.city.length + (state.price_min !== null || state.price_max !== null ? 1 : 0);

const HISTORY_KEY = "idlemarket.searches";
function remember(q) {
  if (!q) return;
  const list = [q, ...recent().filter((one) => one !== q)].slice(0, 10);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(list));
}
function recent() {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]").filter((one) => typeof one === "string");
  } catch {
    return [];
  }
}

export default async function render(view, ctx) {
  let state = readState(ctx.search);
  const stops = [];
  const controllers = { results: null, suggest: null };
  let suggestTimer = null;
  stops.push(() => {
    clearTimeout(suggestTimer);
    controllers.results?.abort();
    controllers.suggest?.abort();
  });

  // ---------- the search box and its suggestions ----------
  const input = h("input", {
    type: "search",
    name: "q",
    value: state.q,
    placeholder: "搜索宝贝、品牌、型号",
    autocomplete: "off",
    enterkeyhint: "search",
    role: "combobox",
    "aria-label": "搜索关键词",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": "search-suggestions",
    maxlength: 100,
  });
  const listbox = h("ul", { id: "search-suggestions", class: "suggestions", role: "listbox", "aria-label": "搜索建议", hidden: true });
  const form = h("form", { class: "search-form", role: "search", "aria-label": "搜索" }, h("div", { class: "search-input-wrap" }, h("span", { class: "search-glass", "aria-hidden": "true" }), input), h("button", { type: "submit", class: "btn btn-primary btn-small" }, "搜索"), listbox);
  let options = [];
  let active = -1;

  function closeSuggestions() {
    controllers.suggest?.abort();
    clearTimeout(suggestTimer);
    listbox.hidden = true;
    listbox.replaceChildren();
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  function highlight(index) {
    active = index;
    [...listbox.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", listbox.children[index].id);
    else input.removeAttribute("aria-activedescendant");
  }
  function choose(option) {
    closeSuggestions();
    if (option.kind === "category" && option.category_id) {
      input.value = "";
      update({ ...blank(), category: option.category_id, sort: state.sort });
    } else {
      input.value = option.text;
      update({ ...state, q: option.text });
    }
  }
  function showOptions(items, heading) {
    options = items;
    listbox.replaceChildren(
      ...items.map((item, index) =>
        h(
          "li",
          {
            id: `suggestion-${index}`,
            role: "option",
            class: "suggestion",
            "aria-selected": "false",
            // pointerdown, not click: the input keeps focus, so the list is still there.
            onpointerdown: (event) => event.preventDefault(),
            onclick: () => choose(item),
          },
          item.kind === "category" ? h("span", { class: "tag" }, "分类") : heading ? h("span", { class: "tag" }, "历史") : null,
          h("span", { class: "suggestion-text" }, item.text),
          item.kind === "word" && item.count ? h("span", { class: "muted" }, `约${item.count}件`) : null,
        ),
      ),
    );
    active = -1;
    listbox.hidden = !items.length;
    input.setAttribute("aria-expanded", String(items.length > 0));
  }
  async function suggest() {
    const text = input.value.trim();
    controllers.suggest?.abort();
    if (!text) {
      const history = recent();
      showOptions(history.map((one) => ({ text: one, kind: "history" })), true);
      return;
    }
    const controller = new AbortController();
    controllers.suggest = controller;
    try {
      const answer = await api("/search/suggest", { query: { q: text }, signal: controller.signal });
      if (controller.signal.aborted || document.activeElement !== input) return;
      showOptions(answer.items || []);
    } catch (error) {
      if (error.name !== "AbortError") closeSuggestions();
    }
  }
  input.addEventListener("input", () => {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(suggest, SUGGEST_DELAY_MS);
  });
  input.addEventListener("focus", () => {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(suggest, SUGGEST_DELAY_MS);
  });
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 150));
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      highlight((active + 1) % options.length);
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      highlight(active <= 0 ? options.length - 1 : active - 1);
    } else if (event.key === "Escape") {
      closeSuggestions();
    } else if (event.key === "Enter" && active >= 0 && options[active]) {
      event.preventDefault();
      choose(options[active]);
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    closeSuggestions();
    input.blur();
    update({ ...state, q: input.value.trim() });
  });

  // ---------- sorts, filters, results ----------
  const sortBar = h("div", { class: "sort-bar", role: "group", "aria-label": "排序" });
  const filterToggle = h("button", { type: "button", class: "sort-item filter-toggle", "aria-expanded": "false", "aria-controls": "search-filters" }, "筛选");
  const filterPanel = h("div", { id: "search-filters", class: "filter-panel", hidden: true, role: "region", "aria-label": "筛选条件" });
  filterToggle.addEventListener("click", () => {
    filterPanel.hidden = !filterPanel.hidden;
    filterToggle.setAttribute("aria-expanded", String(!filterPanel.hidden));
  });
  const summary = h("p", { class: "search-summary", role: "status", "aria-live": "polite" });
  const grid = h("div", { class: "goods-grid", role: "list", "aria-label": "搜索结果" });
  const extra = h("div", { class: "search-extra" });
  const status = h("div", { class: "state feed-status" });
  const sentinel = h("div", { class: "feed-sentinel", "aria-hidden": "true" });
  view.append(h("div", { class: "search-top" }, form, h("div", { class: "sort-row" }, sortBar, filterToggle), filterPanel), summary, grid, extra, status, sentinel);
  stops.push(trackList(grid, { surface: "search" }));

  const blank = () => ({ q: "", category: null, sort: "relevance", condition: [], city: [], price_min: null, price_max: null });

  /** A new search: into the address (a history entry), then the results in place. */
  function update(next) {
    state = next;
    remember(state.q);
    const address = `#${addressOf(state)}`;
    if (location.hash !== address) history.pushState(null, "", address);
    input.value = state.q;
    load();
  }

  let page = 0;
  let total = 0;
  let done = false;
  let busy = false;
  let tree = null;

  function drawSorts() {
    sortBar.replaceChildren(
      ...SORTS.map(([value, label]) =>
        h("button", { type: "button", class: "sort-item", "aria-pressed": String(state.sort === value), onclick: () => state.sort !== value && update({ ...state, sort: value }) }, label),
      ),
    );
    const count = filterCount(state);
    filterToggle.textContent = count ? `筛选(${count})` : "筛选";
    filterToggle.classList.toggle("filter-on", count > 0);
  }

  function chip({ type, name, label, count, checked, onchange }) {
    return h("label", { class: ["chip", checked && "chip-on"] }, h("input", { type, name, checked, onchange, class: "chip-input" }), h("span", null, label), count !== undefined ? h("span", { class: "chip-count" }, String(count)) : null);
  }

  function drawFilters(answer) {
    const facets = answer?.facets || {};
    const groups = [];
    // 分类: one level at a time, the chosen category's children (or its siblings).
    if (tree) {
      const counts = facets.category || {};
      const chosen = state.category ? tree.byId.get(state.category) : null;
      const baseId = chosen ? (chosen.children?.length ? chosen.id : chosen.parent?.id) : null;
      const base = baseId ? tree.byId.get(baseId) : null;
      const level = base ? base.children : tree.roots;
      const chips = [];
      chips.push(chip({ type: "radio", name: "category", label: base ? `全部${base.name}` : "全部分类", checked: !chosen || chosen.id === base?.id, onchange: () => update({ ...state, category: base ? base.id : null }) }));
      if (base) chips.push(h("button", { type: "button", class: "chip chip-back", onclick: () => update({ ...state, category: base.parent ? base.parent.id : null }) }, "‹ 上一级"));
      for (const node of level) {
        const count = counts[String(node.id)] || 0;
        const checked = chosen?.id === node.id;
        if (!count && !checked) continue;
        chips.push(chip({ type: "radio", name: "category", label: node.name, count, checked, onchange: () => update({ ...state, category: node.id }) }));
      }
      groups.push(filterGroup("分类", chips));
    }
    // 成色 and 城市: several may be chosen; the counts ignore the group's own choice.
    const toggle = (key, value) => (event) => {
      const list = event.target.checked ? [...state[key], value] : state[key].filter((one) => one !== value);
      update({ ...state, [key]: list });
    };
    const conditionCounts = facets.condition || {};
    groups.push(
      filterGroup(
        "成色",
        CONDITIONS.filter((value) => conditionCounts[value] || state.condition.includes(value)).map((value) =>
          chip({ type: "checkbox", name: "condition", label: value, count: conditionCounts[value] || 0, checked: state.condition.includes(value), onchange: toggle("condition", value) }),
        ),
      ),
    );
    const cityCounts = facets.city || {};
    const cities = Object.entries(cityCounts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, CITY_CHIPS)
      .map(([city]) => city);
    for (const city of state.city) if (!cities.includes(city)) cities.push(city);
    groups.push(filterGroup("城市", cities.map((city) => chip({ type: "checkbox", name: "city", label: city, count: cityCounts[city] || 0, checked: state.city.includes(city), onchange: toggle("city", city) }))));
    // 价格: yuan typed, fen in the address and the API.
    const stats = answer?.price_stats;
    const yuanText = (fen) => (fen === null || fen === undefined ? "" : String(fen / 100));
    const min = h("input", { type: "text", inputmode: "decimal", "aria-label": "最低价（元）", placeholder: stats ? `最低 ${yuan(stats.min)}` : "最低价", value: yuanText(state.price_min) });
    const max = h("input", { type: "text", inputmode: "decimal", "aria-label": "最高价（元）", placeholder: stats ? `最高 ${yuan(stats.max)}` : "最高价", value: yuanText(state.price_max) });
    const priceError = h("div", { class: "field-error", role: "alert" });
    const priceForm = h("form", { class: "price-range", "aria-label": "价格区间" }, min, h("span", { "aria-hidden": "true" }, "—"), max, h("button", { type: "submit", class: "btn btn-small" }, "确定"));
    priceForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const low = min.value.trim() ? toFen(min.value) : null;
      const high = max.value.trim() ? toFen(max.value) : null;
      if ((min.value.trim() && low === null) || (max.value.trim() && high === null)) return void (priceError.textContent = "请输入正确的价格");
      if (low !== null && high !== null && low > high) return void (priceError.textContent = "最低价不能高于最高价");
      update({ ...state, price_min: low, price_max: high });
    });
    groups.push(filterGroup("价格（元）", [priceForm, priceError]));
    const reset = filterCount(state) ? h("button", { type: "button", class: "btn btn-small", onclick: () => update({ ...blank(), q: state.q, sort: state.sort }) }, "清除筛选") : null;
    filterPanel.replaceChildren(...groups, reset ? h("div", { class: "filter-actions" }, reset) : "");
  }

  function filterGroup(title, chips) {
    return h("fieldset", { class: "filter-group" }, h("legend", null, title), chips.length ? h("div", { class: "chips" }, chips) : h("span", { class: "muted" }, "无"));
  }

  async function emptyHelp() {
    const tips = [];
    if (filterCount(state)) tips.push(h("button", { type: "button", class: "btn btn-primary", onclick: () => update({ ...blank(), q: state.q, sort: state.sort }) }, "清除筛选条件"));
    else if (state.q) tips.push(h("p", { class: "muted" }, "换个说法试试，比如用品牌、型号或拼音"));
    extra.replaceChildren(emptyState(filterCount(state) ? "没有符合条件的宝贝，试试减少筛选条件" : `没有找到“${state.q}”相关的宝贝`, h("div", { class: "empty-actions" }, tips)));
    try {
      const home = await api("/feed/home");
      const items = home.hot?.length ? home.hot : home.new || [];
      if (!items.length || !ctx.isCurrent()) return;
      const hotGrid = h("div", { class: "goods-grid", role: "list", "aria-label": "大家都在看" });
      items.forEach((item, position) => hotGrid.append(goodsCard(item, position, { requestId: home.request_id, rankerVersion: home.ranker_version })));
      extra.append(h("section", { class: "section" }, h("h2", { class: "section-title" }, "大家都在看"), hotGrid));
      stops.push(trackList(hotGrid, { surface: "search_empty", requestId: home.request_id, rankerVersion: home.ranker_version }));
    } catch {
      // The tip above is enough when even the home feed is unavailable.
    }
  }

  async function fetchPage() {
    if (busy || done) return;
    busy = true;
    const controller = controllers.results;
    const next = page + 1;
    status.textContent = "加载中…";
    try {
      const answer = await api("/search", {
        query: { q: state.q, category: state.category, sort: state.sort, condition: state.condition, city: state.city, price_min: state.price_min, price_max: state.price_max, page: next, page_size: PAGE_SIZE },
        signal: controller.signal,
      });
      if (controller !== controllers.results) return;
      page = next;
      total = answer.total;
      answer.hits.forEach((hit, index) => grid.append(goodsCard(hit, (page - 1) * PAGE_SIZE + index)));
      done = page * PAGE_SIZE >= total || (page + 1) * PAGE_SIZE > MAX_WINDOW || !answer.hits.length;
      if (page === 1) {
        summary.textContent = total ? `共 ${total} 件宝贝` : "共 0 件宝贝";
        drawFilters(answer);
        if (!total) emptyHelp();
      }
      status.textContent = done && total ? "没有更多了" : "";
    } catch (error) {
      if (error.name === "AbortError" || controller !== controllers.results) return;
      showError(error);
      status.replaceChildren("加载失败，", h("button", { type: "button", class: "link", onclick: () => ((busy = false), fetchPage()) }, "点击重试"));
      return;
    } finally {
      if (controller === controllers.results) busy = false;
    }
    if (!done && sentinel.getBoundingClientRect().top < innerHeight + 300) fetchPage();
  }

  function load() {
    controllers.results?.abort();
    controllers.results = new AbortController();
    page = 0;
    total = 0;
    done = false;
    busy = false;
    grid.replaceChildren();
    extra.replaceChildren();
    summary.textContent = "";
    drawSorts();
    fetchPage();
  }

  const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && page > 0 && fetchPage(), { rootMargin: "300px 0px" });
  observer.observe(sentinel);
  stops.push(() => observer.disconnect());

  try {
    tree = await loadCategories();
  } catch (error) {
    showError(error);
  }
  if (!ctx.isCurrent()) return () => stops.forEach((stop) => stop());
  drawSorts();
  load();
  if (!state.q && !state.category && !filterCount(state) && ctx.query.focus !== "0") input.focus();
  return () => stops.splice(0).forEach((stop) => stop());
}
