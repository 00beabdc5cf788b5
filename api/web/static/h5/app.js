// The H5 app's shell: the route table, the top bar and the tab bar, the login gate and
// the unread badge. Pages live in pages/*.js and are loaded on first visit.

import { api, auth } from "../shared/api.js";
import { emptyState, h } from "../shared/dom.js";
import { navigate, startRouter } from "../shared/router.js";

// tab: the bottom-bar tab a page belongs to (pages without one get a back button);
// login: the page needs a logged-in user; title: the top bar's text on inner pages.
const ROUTES = [
  { path: "/", page: "home", tab: "home" },
  { path: "/categories", page: "categories", tab: "categories" },
  { path: "/search", page: "search", title: "搜索" },
  { path: "/goods/:id", page: "goods", title: "宝贝详情" },
  { path: "/login", page: "login", title: "登录 / 注册" },
  { path: "/publish", page: "publish", title: "发布闲置", login: true },
  { path: "/publish/:id", page: "publish", title: "编辑闲置", login: true },
  { path: "/my-goods", page: "my-goods", title: "我发布的", login: true },
  { path: "/messages", page: "messages", tab: "messages", login: true },
  { path: "/chat/:id", page: "chat", title: "聊天", login: true },
  { path: "/orders", page: "orders", title: "我的订单", login: true },
  { path: "/orders/:id", page: "order", title: "订单详情", login: true },
  { path: "/me", page: "me", tab: "me" },
  { path: "/verify", page: "verify", title: "实名认证", login: true },
  { path: "/wallet", page: "wallet", title: "我的钱包", login: true },
];

const view = document.getElementById("view");
const topbar = document.getElementById("topbar");
const title = document.getElementById("title");

document.getElementById("back").addEventListener("click", () => {
  if (history.length > 1) history.back();
  else navigate("/");
});

/** Pages set their own top-bar text once they know it (a goods title, a chat partner). */
export function setTitle(text) {
  title.textContent = text;
  document.title = text ? `${text} · 闲置好物` : "闲置好物";
}

function drawChrome(route) {
  const tabbed = Boolean(route.tab);
  document.body.classList.toggle("no-tabbar", !tabbed);
  topbar.hidden = tabbed;
  setTitle(route.title || "");
  for (const link of document.querySelectorAll("#tabbar a")) {
    if (link.dataset.tab === route.tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function refreshUnread() {
  const badge = document.getElementById("unread-badge");
  if (!auth.token) {
    badge.hidden = true;
    return;
  }
  try {
    // Unread chat messages; order and offer notices are listed on the messages page.
    const conversations = await api("/conversations", { query: { page_size: 100 } });
    const unread = (conversations.items || []).reduce((sum, item) => sum + (item.unread || 0), 0);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
  } catch {
    badge.hidden = true;
  }
}
document.addEventListener("unread:changed", refreshUnread);

startRouter({
  routes: ROUTES,
  view,
  load: (page) => import(`./pages/${page}.js`),
  beforeRender(route, ctx) {
    drawChrome(route);
    if (route.login && !auth.token) {
      const next = encodeURIComponent(`${ctx.path}${ctx.search.toString() ? `?${ctx.search}` : ""}`);
      navigate(`/login?next=${next}`, { replace: true });
      return false;
    }
    return true;
  },
  notFound(target) {
    drawChrome({ title: "页面不存在" });
    target.replaceChildren(emptyState("页面不存在", h("a", { class: "btn", href: "#/" }, "回首页")));
  },
});
refreshUnread();
setInterval(refreshUnread, 30_000);
