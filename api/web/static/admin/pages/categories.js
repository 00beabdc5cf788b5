// The category tree (retired ones included): add a child, rename, move up/down, retire or
// bring back. Two levels, as the API allows.

import { api } from "../../shared/api.js";
import { emptyState, h, loading, promptDialog, showError, toast } from "../../shared/dom.js";
import { pageFrame } from "./kit.js";

export default async function render(view) {
  const body = pageFrame(view, "类目", h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => add(null) }, "新增一级类目"));

  async function call(path, options, done) {
    try {
      await api(path, options);
      toast(done);
      await load();
    } catch (error) {
      showError(error);
    }
  }

  async function add(parent) {
    const data = await promptDialog({
      title: parent ? `在「${parent.name}」下新增子类目` : "新增一级类目",
      fields: [
        { name: "name", label: "名称", required: true },
        { name: "slug", label: "英文标识（slug，如 phones）", required: true },
      ],
    });
    if (!data) return;
    await call("/admin/categories", { method: "POST", body: { name: String(data.get("name")).trim(), slug: String(data.get("slug")).trim(), parent_id: parent ? parent.id : null } }, "已新增类目");
  }

  async function rename(node) {
    const data = await promptDialog({ title: `重命名「${node.name}」`, fields: [{ name: "name", label: "新名称", required: true, value: node.name }] });
    if (!data) return;
    await call(`/admin/categories/${node.id}`, { method: "PATCH", body: { name: String(data.get("name")).trim() } }, "已重命名");
  }

  async function swap(siblings, index, step) {
    const other = siblings[index + step];
    if (!other) return;
    const node = siblings[index];
    try {
      // Positions may tie; give the pair distinct ones in the new order.
      const a = Math.min(node.position, other.position);
      const b = a === Math.max(node.position, other.position) ? a + 1 : Math.max(node.position, other.position);
      await api(`/admin/categories/${node.id}`, { method: "PATCH", body: { position: step < 0 ? a : b } });
      await api(`/admin/categories/${other.id}`, { method: "PATCH", body: { position: step < 0 ? b : a } });
      toast("已调整顺序");
      await load();
    } catch (error) {
      showError(error);
    }
  }

  function row(node, siblings, index) {
    return h(
      "li",
      null,
      h(
        "div",
        { class: ["cat-row", !node.active && "is-muted"] },
        h("span", { class: "cat-name" }, node.name),
        h("span", { class: "muted" }, `${node.slug} · 排序 ${node.position}`),
        node.active ? null : h("span", { class: "tag" }, "已停用"),
        h("button", { type: "button", class: "btn btn-small", "aria-label": `上移 ${node.name}`, disabled: index === 0, onclick: () => swap(siblings, index, -1) }, "↑"),
        h("button", { type: "button", class: "btn btn-small", "aria-label": `下移 ${node.name}`, disabled: index === siblings.length - 1, onclick: () => swap(siblings, index, 1) }, "↓"),
        h("button", { type: "button", class: "btn btn-small", "aria-label": `重命名 ${node.name}`, onclick: () => rename(node) }, "重命名"),
        node.parent_id === null ? h("button", { type: "button", class: "btn btn-small", "aria-label": `在 ${node.name} 下新增子类目`, onclick: () => add(node) }, "添加子类目") : null,
        h(
          "button",
          { type: "button", class: ["btn btn-small", node.active && "btn-danger"], "aria-label": `${node.active ? "停用" : "启用"} ${node.name}`, onclick: () => call(`/admin/categories/${node.id}`, { method: "PATCH", body: { active: !node.active } }, node.active ? "已停用" : "已启用") },
          node.active ? "停用" : "启用",
        ),
      ),
      node.children && node.children.length ? h("ul", null, node.children.map((child, n) => row(child, node.children, n))) : null,
    );
  }

  async function load() {
    body.replaceChildren(loading());
    try {
      const tree = await api("/admin/categories");
      body.replaceChildren(tree.items.length ? h("ul", { class: "cat-tree panel", "aria-label": "类目树" }, tree.items.map((node, n) => row(node, tree.items, n))) : emptyState("还没有类目"));
    } catch (error) {
      showError(error);
      body.replaceChildren(emptyState(error.message));
    }
  }
  await load();
}
