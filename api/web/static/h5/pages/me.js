// 我的: the profile and the ways into selling, orders, the wallet and verification.

import { api, auth, logout } from "../../shared/api.js";
import { h, showError, toast, yuan } from "../../shared/dom.js";

const ROLES = { user: "普通用户", reviewer: "审核员", operator: "运营", admin: "管理员" };
const STAFF = new Set(["reviewer", "operator", "admin"]);
export const VERIFICATION_STATUS = { pending: "审核中", approved: "已认证", rejected: "未通过" };

/** 138****8000 and ab***@example.com: enough to recognise, not to copy. */
export function maskPhone(phone) {
  return phone ? `${phone.slice(0, 3)}****${phone.slice(-4)}` : "";
}
export function maskEmail(email) {
  if (!email) return "";
  const [name, domain] = email.split("@");
  return `${name.slice(0, 2)}***@${domain}`;
}

function entry({ href, label, icon, value, onclick }) {
  const inner = [h("span", { class: "entry-icon", "aria-hidden": "true" }, icon), h("span", { class: "entry-label" }, label), value !== undefined ? h("span", { class: "entry-value" }, value) : null, h("span", { class: "entry-arrow", "aria-hidden": "true" }, "›")];
  return h("li", null, href ? h("a", { class: "list-item entry", href }, inner) : h("button", { type: "button", class: "list-item entry", onclick }, inner));
}

export default async function render(view, ctx) {
  if (!auth.token) {
    view.replaceChildren(
      h(
        "div",
        { class: "me-page" },
        h("section", { class: "me-head" }, h("div", { class: "avatar", "aria-hidden": "true" }, "闲"), h("div", null, h("h1", { class: "me-name" }, "未登录"), h("p", { class: "muted" }, "登录后发布闲置、管理订单和钱包"))),
        h("div", { class: "page-pad" }, h("a", { class: "btn btn-primary btn-block", href: `#/login?next=${encodeURIComponent("/me")}` }, "登录 / 注册")),
      ),
    );
    return;
  }
  const cached = auth.user;
  const head = h("section", { class: "me-head" });
  const entries = h("ul", { class: "list entries", "aria-label": "我的服务" });
  view.replaceChildren(h("div", { class: "me-page" }, head, entries));
  const draw = (user, extra = {}) => {
    if (!user) return;
    const contact = user.phone ? maskPhone(user.phone) : maskEmail(user.email);
    head.replaceChildren(
      h("div", { class: "avatar", "aria-hidden": "true" }, (user.nickname || "我").slice(0, 1)),
      h(
        "div",
        { class: "me-who" },
        h("h1", { class: "me-name" }, user.nickname, user.verified ? h("span", { class: "tag tag-ok verified-badge" }, "已实名") : null),
        h("p", { class: "muted" }, contact, " · ", ROLES[user.role] || user.role),
      ),
    );
    const verification = user.verified ? "已认证" : extra.verification ? VERIFICATION_STATUS[extra.verification.status] : "未认证";
    entries.replaceChildren(
      ...[
      entry({ href: "#/my-goods", label: "我发布的", icon: "▤", value: extra.goods !== undefined ? `${extra.goods} 件` : undefined }),
      entry({ href: "#/orders?role=buyer", label: "我买到的", icon: "▣" }),
      entry({ href: "#/orders?role=seller", label: "我卖出的", icon: "▢" }),
      entry({ href: "#/wallet", label: "钱包", icon: "¥", value: extra.wallet ? `可提现 ${yuan(extra.wallet.available)}` : undefined }),
      entry({ href: "#/verify", label: "实名认证", icon: "✓", value: verification }),
      STAFF.has(user.role) ? entry({ href: "/admin", label: "管理后台", icon: "⚙" }) : null,
      entry({
        label: "退出登录",
        icon: "⎋",
        onclick: async () => {
          await logout();
          toast("已退出登录");
          document.dispatchEvent(new CustomEvent("unread:changed"));
          if (ctx.isCurrent()) render(view, ctx);
        },
      }),
      ].filter(Boolean),
    );
  };
  draw(cached);
  const [me, wallet, verification, goods] = await Promise.allSettled([
    api("/me"),
    api("/wallet", { query: { page_size: 1 } }),
    api("/me/verification"),
    api("/me/goods", { query: { page_size: 1 } }),
  ]);
  if (!ctx.isCurrent()) return;
  if (me.status === "rejected") {
    if (me.reason?.status === 401) return render(view, ctx);
    showError(me.reason);
    return;
  }
  auth.updateUser(me.value);
  draw(me.value, {
    wallet: wallet.value,
    verification: verification.value,
    goods: goods.value?.total,
  });
}
