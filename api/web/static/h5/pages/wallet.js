// 我的钱包: balances, withdrawing to a saved account, the withdrawals and the ledger lines.

import { api, newIdempotencyKey } from "../../shared/api.js";
import { confirmDialog, dateTime, emptyState, h, loading, showError, toFen, toast, yuan } from "../../shared/dom.js";
import { clearFieldErrors, field, setFieldError, showFieldErrors } from "./publish.js";

const KINDS = { alipay: "支付宝", wechat: "微信", bank_card: "银行卡" };
const NUMBER_HINTS = { alipay: "手机号或邮箱", wechat: "微信号或手机号", bank_card: "12–19 位银行卡号" };
const WITHDRAWAL_STATUS = { requested: ["处理中", "tag-warn"], paid: ["已到账", "tag-ok"], rejected: ["已退回", "tag-danger"] };
const LINE_KINDS = {
  release: "卖出收入",
  partial_refund: "卖出收入（部分退款）",
  refund: "退款",
  payment: "付款",
  withdrawal_requested: "申请提现",
  withdrawal_paid: "提现到账",
  withdrawal_rejected: "提现退回",
};
const LINES_PAGE = 10;

export default async function render(view, ctx) {
  view.replaceChildren(loading());
  let wallet;
  let accounts;
  let withdrawals;
  try {
    [wallet, accounts, withdrawals] = await Promise.all([
      api("/wallet", { query: { page_size: LINES_PAGE } }),
      api("/wallet/payout-accounts"),
      api("/withdrawals", { query: { page_size: 20 } }),
    ]);
  } catch (error) {
    view.replaceChildren(emptyState(error.message, h("button", { type: "button", class: "btn", onclick: () => render(view, ctx) }, "重试")));
    return;
  }
  if (!ctx.isCurrent()) return;
  const again = () => ctx.isCurrent() && render(view, ctx);
  view.replaceChildren(
    h(
      "div",
      { class: "wallet-page" },
      balances(wallet),
      withdrawForm(wallet, accounts, again),
      accountsSection(accounts, again),
      withdrawalsSection(withdrawals, accounts),
      ledgerSection(wallet, ctx),
    ),
  );
}

function balances(wallet) {
  const cell = (label, fen, note) => h("div", { class: "balance" }, h("dt", null, label), h("dd", null, yuan(fen) || "¥0"), note ? h("small", null, note) : null);
  return h(
    "section",
    { class: "wallet-head", "aria-label": "余额" },
    h("dl", { class: "balances" }, cell("可提现", wallet.available), cell("担保中", wallet.escrow, "买家确认收货后到账"), cell("提现中", wallet.reserved)),
  );
}

function withdrawForm(wallet, accounts, again) {
  const section = h("section", { class: "card sell-card", "aria-labelledby": "withdraw-title" }, h("h2", { class: "sell-card-title", id: "withdraw-title" }, "提现"));
  if (!accounts.length) {
    section.append(h("p", { class: "muted" }, "请先在下方添加提现账户"));
    return section;
  }
  const amount = h("input", { type: "text", inputmode: "decimal", placeholder: "0.00" });
  const account = h("select", null, accounts.map((one) => h("option", { value: one.id }, `${KINDS[one.kind] || one.kind} ${one.number_masked}（${one.holder_name}）`)));
  const note = h("div", { class: "withdraw-note", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", disabled: wallet.available <= 0 }, "申请提现");
  const all = h("button", { type: "button", class: "link", onclick: () => (amount.value = (wallet.available / 100).toFixed(2)) }, "全部提现");
  const form = h("form", { novalidate: true }, field("提现金额（元）", "amount", amount), h("div", { class: "all-row" }, h("span", { class: "muted" }, `可提现 ${yuan(wallet.available) || "¥0"}`), all), field("到账账户", "payout_account_id", account), note, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    note.replaceChildren();
    const fen = toFen(amount.value);
    if (!fen) return setFieldError(form, "amount", "请输入正确的金额，如 50 或 12.5");
    if (fen > wallet.available) return setFieldError(form, "amount", `可提现余额为 ${yuan(wallet.available) || "¥0"}`);
    submit.disabled = true;
    try {
      const key = form.dataset.key || (form.dataset.key = newIdempotencyKey());
      await api("/withdrawals", { method: "POST", body: { payout_account_id: Number(account.value), amount: fen }, idempotencyKey: key });
      toast(`已申请提现 ${yuan(fen)}`);
      again();
    } catch (error) {
      if (error.code === "verification_required") {
        note.replaceChildren(h("p", { class: "rejection", role: "alert" }, "提现前需要完成实名认证。", h("a", { class: "link", href: "#/verify" }, "去实名认证")));
        delete form.dataset.key;
      } else {
        // A refusal is final for this attempt; the next tap is a new withdrawal.
        if (error.status && error.status < 500) delete form.dataset.key;
        showFieldErrors(form, error);
      }
    } finally {
      submit.disabled = false;
    }
  });
  section.append(form);
  return section;
}

function accountsSection(accounts, again) {
  const list = h(
    "ul",
    { class: "list wallet-list", "aria-label": "提现账户" },
    accounts.map((one) =>
      h(
        "li",
        { class: "list-item" },
        h("span", { class: "tag" }, KINDS[one.kind] || one.kind),
        h("span", { class: "grow" }, h("span", { class: "mono" }, one.number_masked), h("span", { class: "muted" }, ` ${one.holder_name}`)),
        h(
          "button",
          {
            type: "button",
            class: "btn btn-small btn-danger",
            "aria-label": `删除账户 ${one.number_masked}`,
            onclick: async () => {
              if (!(await confirmDialog(`删除${KINDS[one.kind]}账户 ${one.number_masked}？`))) return;
              try {
                await api(`/wallet/payout-accounts/${one.id}`, { method: "DELETE" });
                toast("已删除账户");
                again();
              } catch (error) {
                showError(error);
              }
            },
          },
          "删除",
        ),
      ),
    ),
  );
  const kind = h("select", null, Object.entries(KINDS).map(([value, label]) => h("option", { value }, label)));
  const holder = h("input", { type: "text", autocomplete: "name", maxlength: 40, placeholder: "与账户实名一致" });
  const number = h("input", { type: "text", autocomplete: "off", maxlength: 60, placeholder: NUMBER_HINTS.alipay });
  kind.addEventListener("change", () => (number.placeholder = NUMBER_HINTS[kind.value]));
  const form = h(
    "form",
    { class: "add-account", novalidate: true, hidden: true, "aria-label": "添加提现账户" },
    field("账户类型", "kind", kind),
    field("户名", "holder_name", holder),
    field("账号", "number", number),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "保存账户"),
  );
  const toggle = h("button", { type: "button", class: "btn btn-small", "aria-expanded": "false", onclick: () => {
    form.hidden = !form.hidden;
    toggle.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) holder.focus();
  } }, "添加账户");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = { kind: kind.value, holder_name: holder.value.trim(), number: number.value.trim() };
    if (body.holder_name.length < 2) return setFieldError(form, "holder_name", "请输入户名（至少 2 个字）");
    if (body.number.length < 4) return setFieldError(form, "number", `请输入${NUMBER_HINTS[body.kind]}`);
    try {
      await api("/wallet/payout-accounts", { method: "POST", body });
      toast("已添加提现账户");
      again();
    } catch (error) {
      showFieldErrors(form, error);
    }
  });
  return h(
    "section",
    { class: "section", "aria-labelledby": "accounts-title" },
    h("div", { class: "section-title" }, h("h2", { id: "accounts-title", class: "section-heading" }, "提现账户"), toggle),
    accounts.length ? list : h("p", { class: "muted page-note" }, "还没有提现账户"),
    form,
  );
}

function withdrawalsSection(withdrawals, accounts) {
  const byId = new Map(accounts.map((one) => [one.id, one]));
  return h(
    "section",
    { class: "section", "aria-labelledby": "withdrawals-title" },
    h("div", { class: "section-title" }, h("h2", { id: "withdrawals-title", class: "section-heading" }, "提现记录")),
    withdrawals.items.length
      ? h(
          "ul",
          { class: "list wallet-list", "aria-label": "提现记录" },
          withdrawals.items.map((item) => {
            const [label, tone] = WITHDRAWAL_STATUS[item.status] || [item.status, ""];
            const account = byId.get(item.payout_account_id);
            return h(
              "li",
              { class: "list-item" },
              h("span", { class: "grow" }, h("strong", null, yuan(item.amount)), h("span", { class: "muted" }, ` ${account ? `${KINDS[account.kind]} ${account.number_masked}` : ""} · ${dateTime(item.requested_at)}`), item.rejection_reason ? h("span", { class: "rejection block" }, `退回原因：${item.rejection_reason}`) : null),
              h("span", { class: `tag ${tone}` }, label),
            );
          }),
        )
      : h("p", { class: "muted page-note" }, "还没有提现记录"),
  );
}

function ledgerSection(wallet, ctx) {
  const list = h("ul", { class: "list wallet-list", "aria-label": "收支明细" });
  const more = h("div", { class: "more-row" });
  let page = 1;
  const add = (lines) =>
    list.append(
      ...lines.map((line) =>
        h(
          "li",
          { class: "list-item" },
          h("span", { class: "grow" }, LINE_KINDS[line.kind] || line.kind, line.account === "reserved" ? h("span", { class: "muted" }, "（提现中）") : null, h("span", { class: "muted block" }, dateTime(line.at))),
          h("span", { class: line.amount > 0 ? "amount-in" : "amount-out" }, `${line.amount > 0 ? "+" : "-"}${yuan(Math.abs(line.amount))}`),
        ),
      ),
    );
  const drawMore = (total) =>
    more.replaceChildren(
      page * LINES_PAGE < total
        ? h("button", { type: "button", class: "btn btn-block", onclick: async () => {
            try {
              const next = await api("/wallet", { query: { page: page + 1, page_size: LINES_PAGE } });
              if (!ctx.isCurrent()) return;
              page += 1;
              add(next.lines);
              drawMore(next.lines_total);
            } catch (error) {
              showError(error);
            }
          } }, "加载更多")
        : "",
    );
  add(wallet.lines);
  drawMore(wallet.lines_total);
  return h(
    "section",
    { class: "section", "aria-labelledby": "ledger-title" },
    h("div", { class: "section-title" }, h("h2", { id: "ledger-title", class: "section-heading" }, "收支明细")),
    wallet.lines.length ? list : h("p", { class: "muted page-note" }, "暂无收支"),
    more,
  );
}
