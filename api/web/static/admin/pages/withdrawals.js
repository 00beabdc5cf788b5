// Withdrawals by state: pay out by hand (record the transfer's reference) or refuse with
// a reason (the money goes back to the seller). The account number is shown masked.

import { api } from "../../shared/api.js";
import { dateTime, h, promptDialog, showError, toast, yuan } from "../../shared/dom.js";
import { askReason, pageFrame, PAYOUT_KIND, showPagedTable, WITHDRAWAL_STATUS } from "./kit.js";

export default async function render(view, ctx) {
  const filter = h("select", { "aria-label": "提现状态" }, Object.entries(WITHDRAWAL_STATUS).map(([value, text]) => h("option", { value, selected: ctx.query.status === value }, text)));
  filter.addEventListener("change", () => load(1));
  const body = pageFrame(view, "提现", h("label", null, "状态 ", filter));

  async function pay(row) {
    const data = await promptDialog({
      title: `打款 ${yuan(row.amount)} 给用户 #${row.user_id}`,
      fields: [{ name: "reference", label: "转账流水号", required: true, placeholder: "银行或支付宝的转账单号" }],
      submitText: "标记为已打款",
    });
    if (!data) return;
    try {
      await api(`/admin/withdrawals/${row.id}/pay`, { method: "POST", body: { transfer_reference: String(data.get("reference")).trim() } });
      toast("已标记为已打款");
      load(1);
    } catch (error) {
      showError(error);
    }
  }

  async function reject(row) {
    const reason = await askReason(`驳回提现 #${row.id}`, { label: "驳回原因（用户可见）", minLength: 2 });
    if (!reason) return;
    try {
      await api(`/admin/withdrawals/${row.id}/reject`, { method: "POST", body: { reason } });
      toast("已驳回，金额已退回卖家余额");
      load(1);
    } catch (error) {
      showError(error);
    }
  }

  const account = (w) => (w.payout_account ? `${PAYOUT_KIND[w.payout_account.kind] || w.payout_account.kind} · ${w.payout_account.holder_name} · ${w.payout_account.number_masked}` : `账户 #${w.payout_account_id}`);

  async function load(page) {
    await showPagedTable(body, {
      fetch: () => api("/admin/withdrawals", { query: { status: filter.value, page } }),
      empty: `没有${WITHDRAWAL_STATUS[filter.value]}的提现`,
      caption: "提现列表", rowAttrs: (w) => ({ dataset: { withdrawalId: w.id } }),
      go: load,
      columns: [
        ["编号", (w) => `#${w.id}`],
        ["用户", (w) => `#${w.user_id}`],
        ["金额", (w) => h("span", { class: "price" }, yuan(w.amount))],
        ["收款账户", account],
        ["申请时间", (w) => dateTime(w.requested_at)],
        ["状态", (w) => WITHDRAWAL_STATUS[w.status] || w.status],
        ["流水号 / 原因", (w) => w.transfer_reference || w.rejection_reason || ""],
        [
          "操作",
          (w) =>
            w.status === "requested"
              ? h(
                  "div",
                  { class: "actions" },
                  h("button", { type: "button", class: "btn btn-small btn-primary", "aria-label": `打款 #${w.id}`, onclick: () => pay(w) }, "打款"),
                  h("button", { type: "button", class: "btn btn-small btn-danger", "aria-label": `驳回 #${w.id}`, onclick: () => reject(w) }, "驳回"),
                )
              : w.decided_at
                ? dateTime(w.decided_at)
                : "",
        ],
      ],
    });
  }
  await load(1);
}
