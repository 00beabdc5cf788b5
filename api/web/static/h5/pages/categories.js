// 分类: top-level categories on the left, the chosen one's children on the right; a tap
// searches within that category. Also the one place pages ask for the category tree.

import { api } from "../../shared/api.js";
import { emptyState, h, loading, showError } from "../../shared/dom.js";

// A category's icon: its first character on a colour of its own. Emoji would need an
// emoji font, which not every phone (or test browser) has.
const TONES = ["#ff8a3d", "#4d8af0", "#2fb67c", "#a66cf0", "#f0558a", "#e0a200", "#3bb3c3", "#7d8b99"];
export function categoryIcon(category, className = "cat-icon") {
  const tone = TONES[(category.id || 0) % TONES.length];
  return h("span", { class: className, style: { background: tone }, "aria-hidden": "true" }, String(category.name || "?").slice(0, 1));
}

let treePromise = null;
/** The category tree, fetched once per page load (it changes rarely). */
export function loadCategories() {
  if (!treePromise) {
    treePromise = api("/categories").then((answer) => {
      const byId = new Map();
      const walk = (nodes, parent) => {
        for (const node of nodes) {
          byId.set(node.id, { ...node, parent });
          walk(node.children || [], node);
        }
      };
      walk(answer.items, null);
      return { roots: answer.items, byId };
    });
    treePromise.catch(() => {
      treePromise = null;
    });
  }
  return treePromise;
}

export default async function render(view, ctx) {
  view.append(loading());
  let tree;
  try {
    tree = await loadCategories();
  } catch (error) {
    showError(error);
    view.replaceChildren(emptyState("分类加载失败", h("button", { class: "btn", onclick: () => ctx.navigate("/categories") }, "重试")));
    return;
  }
  if (!ctx.isCurrent()) return;
  const roots = tree.roots;
  if (!roots.length) {
    view.replaceChildren(emptyState("暂无分类"));
    return;
  }
  const chosenId = Number(ctx.query.c) || roots[0].id;
  const searchBar = h("a", { class: "search-entry", href: "#/search", role: "search", "aria-label": "搜索闲置" }, h("span", { class: "search-glass", "aria-hidden": "true" }), " 搜索你想要的宝贝");
  const side = h("nav", { class: "cat-side", "aria-label": "一级分类" });
  const main = h("section", { class: "cat-main", "aria-live": "polite" });

  function choose(root) {
    for (const button of side.children) button.setAttribute("aria-current", button.dataset.id === String(root.id) ? "true" : "false");
    main.replaceChildren(
      h("h2", { class: "cat-main-title" }, h("a", { href: `#/search?category=${root.id}` }, `全部${root.name} ›`)),
      root.children?.length
        ? h(
            "ul",
            { class: "cat-children", "aria-label": `${root.name}的子分类` },
            root.children.map((child) =>
              h("li", null, h("a", { class: "cat-child", href: `#/search?category=${child.id}` }, categoryIcon(child, "cat-icon cat-icon-small"), h("span", null, child.name))),
            ),
          )
        : emptyState("暂无子分类"),
    );
    history.replaceState(null, "", `#/categories?c=${root.id}`);
  }

  for (const root of roots) {
    side.append(
      h(
        "button",
        { type: "button", class: "cat-side-item", dataset: { id: String(root.id) }, onclick: () => choose(root) },
        root.name,
      ),
    );
  }
  view.replaceChildren(h("div", { class: "cat-top" }, searchBar), h("div", { class: "cat-page" }, side, main));
  choose(roots.find((root) => root.id === chosenId) || roots[0]);
}
