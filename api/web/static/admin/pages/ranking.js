// Ranking configuration: the published versions (the newest active one is in force) and a
// JSON editor, prefilled with the current one, to publish the next version.

import { api } from "../../shared/api.js";
import { dateTime, emptyState, h, loading, showError, toast } from "../../shared/dom.js";
import { pageFrame, table } from "./kit.js";

// What the server uses when nothing was ever published (ranking/config.py defaults).
const DEFAULTS = {
  half_life_hours: 24,
  event_weights: { impression: 0, click: 1, favorite: 3, share: 3, chat: 4, offer: 6, order: 10 },
  dedupe_window_seconds: 1800,
  new_window_hours: 72,
  hot_weight: 0.6,
  new_weight: 0.4,
  affinity_weight: 0.5,
  exploration_share: 0.2,
  diversity_window: 10,
  max_per_category: 3,
  max_per_seller: 2,
};

export default async function render(view) {
  const body = pageFrame(view, "排序配置");
  const editor = h("textarea", { class: "json-editor", spellcheck: false, "aria-label": "配置 JSON" });
  const note = h("input", { name: "note", maxlength: 500, placeholder: "这次改了什么、为什么", "aria-label": "发布说明" });
  const error = h("pre", { class: "form-error", role: "alert" });
  const versions = h("div");
  const form = h(
    "form",
    { class: "panel", "aria-label": "发布新版本" },
    h("h2", null, "发布新版本"),
    editor,
    h("label", { class: "field" }, h("span", null, "发布说明"), note),
    error,
    h("button", { type: "submit", class: "btn btn-primary" }, "发布新版本"),
  );
  body.append(form, h("section", { class: "panel", "aria-label": "历史版本" }, h("h2", null, "历史版本"), versions));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    let params;
    try {
      params = JSON.parse(editor.value);
    } catch (failure) {
      error.textContent = `JSON 格式错误：${failure.message}`;
      return;
    }
    if (!params || typeof params !== "object" || Array.isArray(params)) {
      error.textContent = "配置必须是一个 JSON 对象";
      return;
    }
    try {
      const row = await api("/admin/ranking/configs", { method: "POST", body: { params, note: note.value.trim() } });
      toast(`已发布第 ${row.version} 版`);
      note.value = "";
      await load();
    } catch (failure) {
      error.textContent = `发布失败：${failure.serverMessage || failure.message}`;
    }
  });

  async function load() {
    versions.replaceChildren(loading());
    try {
      const answer = await api("/admin/ranking/configs");
      const current = answer.items.find((row) => row.active);
      editor.value = JSON.stringify(current ? current.params : DEFAULTS, null, 2);
      versions.replaceChildren(
        answer.items.length
          ? table(
              [
                ["版本", (r) => `v${r.version}`],
                ["状态", (r) => (r === current ? h("strong", { class: "ok" }, "当前生效") : r.active ? "可用" : "停用")],
                ["说明", (r) => r.note || ""],
                ["发布时间", (r) => dateTime(r.published_at)],
              ],
              answer.items,
              { caption: "历史版本" },
            )
          : emptyState("还没有发布过配置，正在使用默认配置"),
      );
    } catch (failure) {
      showError(failure);
      versions.replaceChildren(emptyState(failure.message));
    }
  }
  await load();
}
