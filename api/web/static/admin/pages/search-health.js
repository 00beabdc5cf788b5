// Search health: the engine, documents indexed, the outbox backlog, parked documents and
// the last sync. Admins can reconcile the index and retry parked documents.

import { api, auth } from "../../shared/api.js";
import { dateTime, emptyState, h, loading, showError, timeAgo, toast } from "../../shared/dom.js";
import { pageFrame, table } from "./kit.js";

export default async function render(view) {
  const admin = auth.user?.role === "admin";
  const refresh = h("button", { type: "button", class: "btn btn-small", onclick: () => load() }, "刷新");
  const reconcile = h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => act(reconcile, "/admin/search/reconcile", (r) => `对账完成：缺失 ${r.missing}，过期 ${r.stale}，多余 ${r.extra}，已修复 ${r.repaired}`) }, "对账修复");
  const retry = h("button", { type: "button", class: "btn btn-small", onclick: () => act(retry, "/admin/search/retry-parked", (r) => `已重新排队 ${r.requeued} 条`) }, "重试搁置文档");
  const result = h("p", { role: "status", class: "muted" });
  const body = pageFrame(view, "搜索健康", refresh, ...(admin ? [reconcile, retry] : [h("span", { class: "muted" }, "对账与重试需要管理员权限")]));
  body.before(result);

  async function act(button, path, say) {
    button.disabled = true;
    try {
      const answer = await api(path, { method: "POST" });
      result.textContent = say(answer);
      toast(say(answer));
      await load();
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  }

  const stat = (label, value, kind) => h("div", { class: "stat" }, h("dt", null, label), h("dd", { class: kind || "" }, value));

  async function load() {
    // A refresh keeps the last figures on screen until the new ones arrive.
    if (!body.childElementCount) body.replaceChildren(loading());
    try {
      const s = await api("/admin/search/status");
      body.replaceChildren(
        h(
          "dl",
          { class: "stats", "aria-label": "搜索状态" },
          stat("搜索引擎", `${s.engine} · ${s.healthy ? "正常" : "异常"}`, s.healthy ? "ok" : "bad"),
          stat("已索引文档", s.documents ?? "—"),
          stat("待同步", s.pending, s.pending > 100 ? "bad" : ""),
          stat("搁置文档", s.parked, s.parked ? "bad" : "ok"),
          stat("最早待同步", s.oldest_pending_at ? timeAgo(s.oldest_pending_at) : "无"),
          stat("最近同步", s.last_processed_at ? dateTime(s.last_processed_at) : "尚未同步"),
        ),
        h(
          "section",
          { class: "panel", "aria-label": "搁置文档" },
          h("h2", null, `搁置文档（${s.parked_documents.length}）`),
          s.parked_documents.length
            ? table(
                [
                  ["宝贝", (p) => `#${p.goods_id}`],
                  ["尝试次数", (p) => p.attempts],
                  ["最后错误", (p) => h("code", null, p.last_error || "")],
                  ["搁置时间", (p) => dateTime(p.parked_at)],
                ],
                s.parked_documents,
                { caption: "搁置文档" },
              )
            : h("p", { class: "muted" }, "没有搁置的文档"),
        ),
      );
    } catch (error) {
      showError(error);
      body.replaceChildren(emptyState(error.message));
    }
  }
  await load();
}
