// Real-name verifications: pending ones first; approve, or reject with a reason the user sees.

import { api } from "../../shared/api.js";
import { dateTime, h, showError, toast } from "../../shared/dom.js";
import { askReason, pageFrame, showPagedTable } from "./kit.js";

const STATUS = { pending: "待审核", approved: "已通过", rejected: "已驳回" };

export default async function render(view) {
  let status = "pending";
  const filter = h("select", { "aria-label": "状态", onchange: () => ((status = filter.value), load(1)) }, Object.entries(STATUS).map(([value, text]) => h("option", { value }, text)));
  const body = pageFrame(view, "实名认证", h("label", null, "状态 ", filter));

  async function decide(row, approve) {
    try {
      if (approve) await api(`/admin/verifications/${row.id}/approve`, { method: "POST" });
      else {
        const reason = await askReason(`驳回 ${row.real_name} 的实名认证`);
        if (!reason) return;
        await api(`/admin/verifications/${row.id}/reject`, { method: "POST", body: { reason } });
      }
      toast(approve ? "已通过认证" : "已驳回认证");
      load(1);
    } catch (error) {
      showError(error);
    }
  }

  async function load(page) {
    await showPagedTable(body, {
      fetch: () => api("/admin/verifications", { query: { status, page } }),
      empty: "没有待处理的实名认证",
      caption: "实名认证列表",
      go: load,
      columns: [
        ["编号", (r) => `#${r.id}`],
        ["用户", (r) => `#${r.user_id}`],
        ["姓名", (r) => r.real_name],
        ["身份证号", (r) => r.id_number],
        ["提交时间", (r) => dateTime(r.submitted_at)],
        ["状态", (r) => STATUS[r.status] || r.status],
        ["原因", (r) => r.reason || ""],
        [
          "操作",
          (r) =>
            r.status === "pending"
              ? h(
                  "div",
                  { class: "actions" },
                  h("button", { type: "button", class: "btn btn-small btn-primary", "aria-label": `通过 ${r.real_name}`, onclick: () => decide(r, true) }, "通过"),
                  h("button", { type: "button", class: "btn btn-small btn-danger", "aria-label": `驳回 ${r.real_name}`, onclick: () => decide(r, false) }, "驳回"),
                )
              : "",
        ],
      ],
    });
  }
  await load(1);
}
