// Users: search by email, phone or nickname, filter by role; change a role or suspend.

import { api, auth } from "../../shared/api.js";
import { confirmDialog, dateTime, h, showError, toast } from "../../shared/dom.js";
import { pageFrame, ROLE, showPagedTable, USER_STATUS } from "./kit.js";

export default async function render(view, ctx) {
  const q = h("input", { type: "search", name: "q", placeholder: "邮箱、手机号或昵称", "aria-label": "搜索用户", value: ctx.query.q || "" });
  const role = h("select", { name: "role", "aria-label": "角色" }, h("option", { value: "" }, "全部角色"), Object.entries(ROLE).map(([value, text]) => h("option", { value }, text)));
  const form = h("form", { class: "inline-form", role: "search" }, q, role, h("button", { type: "submit", class: "btn btn-small btn-primary" }, "搜索"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(1);
  });
  role.addEventListener("change", () => load(1));
  const body = pageFrame(view, "用户", form);

  async function update(user, change, text) {
    if (!(await confirmDialog(`确定将 ${user.nickname} ${text}？`))) return false;
    try {
      await api(`/admin/users/${user.id}`, { method: "PATCH", body: change });
      toast(`已将 ${user.nickname} ${text}`);
      load(current);
      return true;
    } catch (error) {
      showError(error);
      return false;
    }
  }

  let current = 1;
  async function load(page) {
    current = page;
    const me = auth.user?.id;
    await showPagedTable(body, {
      fetch: () => api("/admin/users", { query: { q: q.value.trim(), role: role.value, page } }),
      empty: "没有找到用户",
      caption: "用户列表",
      go: load,
      columns: [
        ["ID", (u) => `#${u.id}`],
        ["昵称", (u) => u.nickname],
        ["邮箱 / 手机", (u) => [u.email, u.phone].filter(Boolean).join(" / ")],
        ["实名", (u) => (u.verified ? "已认证" : "未认证")],
        [
          "角色",
          (u) => {
            const select = h("select", { "aria-label": `${u.nickname} 的角色`, disabled: u.id === me }, Object.entries(ROLE).map(([value, text]) => h("option", { value, selected: u.role === value }, text)));
            select.addEventListener("change", async () => {
              if (!(await update(u, { role: select.value }, `设为${ROLE[select.value]}`))) select.value = u.role;
            });
            return select;
          },
        ],
        ["状态", (u) => h("span", { class: u.status === "banned" ? "bad" : "" }, USER_STATUS[u.status] || u.status)],
        ["注册时间", (u) => dateTime(u.created_at)],
        [
          "操作",
          (u) =>
            u.id === me
              ? h("span", { class: "muted" }, "当前账号")
              : u.status === "banned"
                ? h("button", { type: "button", class: "btn btn-small", onclick: () => update(u, { status: "active" }, "解除封禁") }, "解封")
                : h("button", { type: "button", class: "btn btn-small btn-danger", onclick: () => update(u, { status: "banned" }, "封禁") }, "封禁"),
        ],
      ],
    });
  }
  await load(1);
}
