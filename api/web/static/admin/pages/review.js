// The review queue, built for speed: one goods in focus with large photos, the queue
// beside it, and the keyboard doing the work (J/K move, A approve, R reject, X select,
// Shift+A approve the selection). The next goods takes the focus after each decision.

import { api } from "../../shared/api.js";
import { dateTime, h, showError, toast, yuan } from "../../shared/dom.js";
import { categoryLabels } from "./kit.js";

const QUICK_REASONS = ["站外联系方式", "违禁品", "图片不清晰", "描述不符", "价格异常"];
const LEGEND = [
  ["J / ↓", "下一件"],
  ["K / ↑", "上一件"],
  ["A", "通过"],
  ["R", "驳回（填写原因，Enter 提交）"],
  ["X", "选中 / 取消选中"],
  ["Shift + A", "批量通过已选"],
];

export default async function render(view, ctx) {
  const state = { items: [], total: 0, index: 0, selected: new Set(), approved: 0, rejected: 0, busy: false, rejecting: false };
  let names = new Map();

  const counters = h("p", { class: "review-counters", role: "status", "aria-live": "polite" });
  const list = h("ol", { class: "review-list", "aria-label": "待审列表" });
  const focus = h("section", { class: "review-focus", "aria-label": "当前审核" });
  const legend = h(
    "aside",
    { class: "review-legend", "aria-label": "快捷键" },
    h("h2", null, "快捷键"),
    h("dl", null, LEGEND.map(([key, text]) => [h("dt", null, h("kbd", null, key)), h("dd", null, text)])),
  );
  view.replaceChildren(
    h("div", { class: "review-head" }, h("h1", null, "审核队列"), counters),
    h("div", { class: "review-layout" }, h("div", { class: "review-side" }, list, legend), focus),
  );

  const current = () => state.items[state.index];

  function drawCounters() {
    const left = Math.max(0, state.total);
    counters.textContent = `剩余 ${left} 件待审 · 本次已通过 ${state.approved} · 已驳回 ${state.rejected} · 已选 ${state.selected.size}`;
  }

  function drawList() {
    list.replaceChildren(
      ...state.items.map((item, index) =>
        h(
          "li",
          {
            class: ["review-item", index === state.index && "is-current", state.selected.has(item.id) && "is-selected"],
            "aria-current": index === state.index ? "true" : null,
            dataset: { goodsId: item.id },
            onclick: () => move(index - state.index),
          },
          h("span", { class: "review-check", "aria-label": state.selected.has(item.id) ? "已选" : null }, state.selected.has(item.id) ? "☑" : "☐"),
          item.photos[0] ? h("img", { src: item.photos[0].thumb_url, alt: "", loading: "lazy", width: 40, height: 40 }) : h("span", { class: "review-noimg" }),
          h("span", { class: "review-item-title" }, item.title),
          h("span", { class: "price" }, yuan(item.price)),
        ),
      ),
    );
    list.querySelector(".is-current")?.scrollIntoView({ block: "nearest" });
  }

  async function drawFocus() {
    const item = current();
    state.rejecting = false;
    if (!item) {
      focus.replaceChildren(h("div", { class: "state state-empty" }, h("p", null, "队列已清空，辛苦了！"), h("button", { type: "button", class: "btn", onclick: () => load() }, "刷新队列")));
      return;
    }
    const big = h("img", { class: "review-photo", src: item.photos[0]?.url || "", alt: `${item.title} 的图片`, loading: "lazy" });
    const trail = h("div", { class: "review-trail" }, h("h3", null, "审核记录"), h("p", { class: "muted" }, "加载中…"));
    const seller = h("span", null, `#${item.seller_id}`);
    focus.replaceChildren(
      h(
        "div",
        { class: "review-photos" },
        item.photos.length ? big : h("div", { class: "state" }, "没有图片"),
        item.photos.length > 1
          ? h(
              "div",
              { class: "review-thumbs" },
              item.photos.map((photo, n) =>
                h("button", { type: "button", class: "review-thumb", "aria-label": `第${n + 1}张图片`, onclick: () => (big.src = photo.url) }, h("img", { src: photo.thumb_url, alt: "", loading: "lazy" })),
              ),
            )
          : null,
      ),
      h(
        "div",
        { class: "review-info" },
        h("h2", { id: "review-title" }, item.title),
        h("p", null, h("span", { class: "price review-price" }, yuan(item.price)), item.original_price ? h("span", { class: "price-original" }, yuan(item.original_price)) : null),
        h(
          "dl",
          { class: "review-facts" },
          h("dt", null, "卖家"),
          h("dd", null, seller),
          h("dt", null, "类目"),
          h("dd", null, names.get(item.category_id) || `#${item.category_id}`),
          h("dt", null, "成色"),
          h("dd", null, item.condition),
          h("dt", null, "城市"),
          h("dd", null, item.city),
          h("dt", null, "提交时间"),
          h("dd", null, dateTime(item.submitted_at)),
          h("dt", null, "编号"),
          h("dd", null, `#${item.id}（第 ${item.version} 版）`),
        ),
        h("h3", null, "描述"),
        h("p", { class: "review-desc" }, item.description || "（无描述）"),
        h(
          "div",
          { class: "review-actions" },
          h("button", { type: "button", class: "btn btn-primary", onclick: () => approve() }, "通过 (A)"),
          h("button", { type: "button", class: "btn btn-danger", onclick: () => openReject() }, "驳回 (R)"),
          h("button", { type: "button", class: "btn", onclick: () => toggleSelect() }, state.selected.has(item.id) ? "取消选中 (X)" : "选中 (X)"),
        ),
        h("div", { class: "review-reject-slot" }),
        trail,
      ),
    );
    const id = item.id;
    api(`/goods/${id}`)
      .then((full) => {
        if (full.seller && current()?.id === id) seller.textContent = `${full.seller.nickname}（#${full.seller_id}，成交 ${full.seller.sales}）`;
      })
      .catch(() => {});
    api(`/admin/goods/${id}/reviews`)
      .then((answer) => {
        if (current()?.id !== id) return;
        trail.replaceChildren(
          h("h3", null, "审核记录"),
          answer.items.length
            ? h("ul", null, answer.items.map((d) => h("li", null, `${dateTime(d.decided_at)} 审核员#${d.reviewer_id} ${d.decision === "approve" ? "通过" : "驳回"}（第 ${d.goods_version} 版）${d.reason ? `：${d.reason}` : ""}`)))
            : h("p", { class: "muted" }, "首次审核"),
        );
      })
      .catch(() => trail.replaceChildren(h("h3", null, "审核记录"), h("p", { class: "muted" }, "无法加载")));
  }

  function draw() {
    drawCounters();
    drawList();
    drawFocus();
  }

  function move(step) {
    if (!state.items.length) return;
    state.index = Math.min(state.items.length - 1, Math.max(0, state.index + step));
    draw();
  }

  function removeDecided(ids) {
    const currentId = current()?.id;
    const before = state.items.length;
    state.items = state.items.filter((item) => !ids.includes(item.id));
    for (const id of ids) state.selected.delete(id);
    state.total -= before - state.items.length;
    // The goods after the decided one takes the focus (same index, or the last one).
    if (!ids.includes(currentId)) state.index = Math.max(0, state.items.findIndex((item) => item.id === currentId));
    state.index = Math.min(state.index, Math.max(0, state.items.length - 1));
    if (!state.items.length && state.total > 0) load();
    else draw();
  }

  async function decide(run) {
    if (state.busy) return;
    state.busy = true;
    try {
      await run();
    } catch (error) {
      showError(error);
    } finally {
      state.busy = false;
    }
  }

  function approve() {
    const item = current();
    if (!item) return;
    decide(async () => {
      await api(`/admin/goods/${item.id}/approve`, { method: "POST", body: { version: item.version } });
      state.approved += 1;
      toast(`已通过：${item.title}`);
      removeDecided([item.id]);
    });
  }

  function openReject() {
    const item = current();
    if (!item || state.rejecting) return;
    state.rejecting = true;
    const reason = h("textarea", { name: "reason", rows: 2, maxlength: 500, required: true, placeholder: "写给卖家的驳回原因" });
    const form = h(
      "form",
      { class: "review-reject", "aria-label": "驳回原因" },
      h("label", { class: "field" }, h("span", null, "驳回原因（Enter 提交，Esc 取消）"), reason),
      h(
        "div",
        { class: "review-picks", role: "group", "aria-label": "常用原因" },
        QUICK_REASONS.map((text) =>
          h(
            "button",
            {
              type: "button",
              class: "btn btn-small",
              onclick: () => {
                reason.value = text;
                reason.focus();
              },
            },
            text,
          ),
        ),
      ),
      h("div", { class: "review-actions" }, h("button", { type: "submit", class: "btn btn-danger" }, "确认驳回"), h("button", { type: "button", class: "btn", onclick: () => closeReject() }, "取消")),
    );
    const closeReject = () => {
      state.rejecting = false;
      form.remove();
      view.querySelector(".review-layout")?.focus?.();
    };
    const submit = () => {
      const text = reason.value.trim();
      if (!text) {
        toast("请填写驳回原因", "error");
        return;
      }
      decide(async () => {
        await api(`/admin/goods/${item.id}/reject`, { method: "POST", body: { reason: text, version: item.version } });
        state.rejected += 1;
        toast(`已驳回：${item.title}`);
        removeDecided([item.id]);
      });
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    reason.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      } else if (event.key === "Escape") {
        event.preventDefault();
        closeReject();
      }
      event.stopPropagation();
    });
    focus.querySelector(".review-reject-slot").replaceChildren(form);
    reason.focus();
  }

  function toggleSelect() {
    const item = current();
    if (!item) return;
    if (state.selected.has(item.id)) state.selected.delete(item.id);
    else state.selected.add(item.id);
    draw();
  }

  function bulkApprove() {
    const ids = [...state.selected];
    if (!ids.length) {
      toast("先按 X 选中要通过的宝贝");
      return;
    }
    decide(async () => {
      const answer = await api("/admin/review/bulk", { method: "POST", body: { ids, decision: "approve" } });
      const done = answer.items.filter((one) => one.ok).map((one) => one.goods_id);
      state.approved += done.length;
      toast(answer.succeeded === answer.total ? `已批量通过 ${done.length} 件` : `通过 ${answer.succeeded}/${answer.total} 件，其余已被他人处理或已修改`);
      removeDecided(ids);
    });
  }

  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && (target.closest("input, textarea, select, dialog") || target.isContentEditable)) return;
    const key = event.key.toLowerCase();
    const actions = {
      j: () => move(1),
      arrowdown: () => move(1),
      k: () => move(-1),
      arrowup: () => move(-1),
      a: () => (event.shiftKey ? bulkApprove() : approve()),
      r: () => openReject(),
      x: () => toggleSelect(),
    };
    const action = actions[key];
    if (!action) return;
    event.preventDefault();
    action();
  }

  async function load() {
    try {
      const answer = await api("/admin/review-queue", { query: { page_size: 100, category_id: ctx.query.category_id } });
      state.items = answer.items;
      state.total = answer.total;
      const wanted = Number(ctx.query.focus);
      const at = wanted ? state.items.findIndex((item) => item.id === wanted) : -1;
      state.index = at >= 0 ? at : 0;
      state.selected = new Set([...state.selected].filter((id) => state.items.some((item) => item.id === id)));
      draw();
    } catch (error) {
      showError(error);
      focus.replaceChildren(h("div", { class: "state" }, error.message));
    }
  }

  document.addEventListener("keydown", onKey);
  names = await categoryLabels().catch(() => names);
  if (ctx.isCurrent()) await load();
  return () => document.removeEventListener("keydown", onKey);
}
