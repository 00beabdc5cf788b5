// The admin console's shell: staff log in here; the side navigation shows only the
// sections the user's role may use (the API enforces the same rules on every call).

import { auth, logout } from "../shared/api.js";
import { emptyState, h } from "../shared/dom.js";
import { navigate, startRouter } from "../shared/router.js";

const STAFF = ["reviewer", "operator", "admin"];
// roles: who sees the section (as catalog/users/permissions.py grants); the first one a role may use is its landing page.
const ROUTES = [
  { path: "/review", page: "review", label: "审核队列", roles: ["reviewer", "operator", "admin"] },
  { path: "/verifications", page: "verifications", label: "实名认证", roles: ["operator", "admin"] },
  { path: "/orders", page: "orders", label: "订单", roles: ["operator", "admin"] },
  { path: "/orders/:id", page: "order", roles: ["operator", "admin"] },
  { path: "/disputes", page: "disputes", label: "纠纷", roles: ["operator", "admin"] },
  { path: "/withdrawals", page: "withdrawals", label: "提现", roles: ["operator", "admin"] },
  { path: "/users", page: "users", label: "用户", roles: ["admin"] },
  { path: "/categories", page: "categories", label: "类目", roles: ["admin"] },
  { path: "/banners", page: "banners", label: "轮播图", roles: ["admin"] },
  { path: "/commission", page: "commission", label: "佣金", roles: ["admin"] },
  { path: "/ranking", page: "ranking", label: "排序配置", roles: ["admin"] },
  { path: "/search", page: "search-health", label: "搜索健康", roles: ["operator", "admin"] },
  { path: "/login", page: "login", roles: null },
];

const view = document.getElementById("view");

function allowed(route, user) {
  return route.roles === null || (user && route.roles.includes(user.role));
}

function drawNav(current) {
  const user = auth.user;
  const nav = document.getElementById("admin-nav");
  const links = ROUTES.filter((route) => route.label && allowed(route, user)).map((route) =>
    h("a", { href: `#${route.path}`, "aria-current": current && current.path === route.path ? "page" : null }, route.label),
  );
  nav.replaceChildren(...(STAFF.includes(user?.role) ? links : []));
  const box = document.getElementById("admin-user");
  box.replaceChildren(
    ...(STAFF.includes(user?.role)
      ? [
          h("span", null, `${user.nickname}（${user.role}）`),
          h(
            "button",
            {
              type: "button",
              class: "link",
              onclick: async () => {
                await logout();
                navigate("/login");
              },
            },
            "退出",
          ),
        ]
      : []),
  );
}

/** The first section the logged-in staff member may open. */
export function landingPath() {
  const user = auth.user;
  const route = ROUTES.find((item) => item.label && allowed(item, user));
  return route ? route.path : "/login";
}

const here = location.hash.replace(/^#/, "");
if (!here || here === "/") navigate(STAFF.includes(auth.user?.role) ? landingPath() : "/login", { replace: true });

startRouter({
  routes: ROUTES,
  view,
  load: (page) => import(`./pages/${page}.js`),
  beforeRender(route) {
    const user = auth.user;
    if (route.roles !== null && !STAFF.includes(user?.role)) {
      navigate("/login", { replace: true });
      return false;
    }
    if (!allowed(route, user)) {
      drawNav(route);
      view.replaceChildren(emptyState("你的角色不能使用这个功能"));
      return false;
    }
    drawNav(route);
    document.title = `${route.label || "登录"} · 闲置好物后台`;
    return true;
  },
  notFound(target) {
    drawNav(null);
    target.replaceChildren(emptyState("页面不存在"));
  },
});
