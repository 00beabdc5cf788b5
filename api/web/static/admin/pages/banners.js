// Home carousel banners: list, add, edit (title, image URL, link, position, schedule),
// delete. Times are entered in local time and sent as UTC.

import { api } from "../../shared/api.js";
import { confirmDialog, dateTime, emptyState, h, loading, showError, toast } from "../../shared/dom.js";
import { pageFrame, table } from "./kit.js";

const localInput = (iso) => {
  if (!iso) return "";
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const toIso = (value) => (value ? new Date(value).toISOString() : null);


export default async function render(view) {
  const formBox = h("div");
  const body = pageFrame(view, "轮播图", h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => edit(null) }, "新增轮播图"));
  const list = h("div");
  body.append(formBox, list);

  function field(label, input) {
    return h("label", { class: "field" }, h("span", null, label), input);
  }

  function edit(banner) {
    const inputs = {
      title: h("input", { name: "title", required: true, maxlength: 60, value: banner?.title || "" }),
      image: h("input", { name: "image", type: "url", required: true, maxlength: 300, placeholder: "https://…", value: banner?.image || "" }),
      link: h("input", { name: "link", required: true, maxlength: 300, placeholder: "/#/search?q=… 或 https://…", value: banner?.link || "" }),
      position: h("input", { name: "position", type: "number", value: banner?.position ?? 0 }),
      starts_at: h("input", { name: "starts_at", type: "datetime-local", value: localInput(banner?.starts_at) }),
      ends_at: h("input", { name: "ends_at", type: "datetime-local", value: localInput(banner?.ends_at) }),
      active: h("input", { name: "active", type: "checkbox", checked: banner ? banner.active : true }),
    };
    const error = h("p", { class: "form-error", role: "alert" });
    const form = h(
      "form",
      { class: "panel", "aria-label": banner ? "编辑轮播图" : "新增轮播图" },
      h("h2", null, banner ? `编辑轮播图 #${banner.id}` : "新增轮播图"),
      h(
        "div",
        { class: "banner-form" },
        field("标题", inputs.title),
        field("图片地址", inputs.image),
        field("跳转链接", inputs.link),
        field("排序（小的在前）", inputs.position),
        field("开始时间（可空）", inputs.starts_at),
        field("结束时间（可空）", inputs.ends_at),
        h("label", { class: "check" }, inputs.active, " 启用"),
      ),
      error,
      h("div", { class: "toolbar" }, h("button", { type: "submit", class: "btn btn-primary" }, "保存"), h("button", { type: "button", class: "btn", onclick: () => formBox.replaceChildren() }, "取消")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const payload = {
        title: inputs.title.value.trim(),
        image: inputs.image.value.trim(),
        link: inputs.link.value.trim(),
        position: Number(inputs.position.value || 0),
        starts_at: toIso(inputs.starts_at.value),
        ends_at: toIso(inputs.ends_at.value),
        active: inputs.active.checked,
      };
      if (!(payload.link.startsWith("/") || payload.link.startsWith("https://"))) {
        error.textContent = "跳转链接须为站内路径（以 / 开头）或 https:// 地址";
        return;
      }
      if (payload.starts_at && payload.ends_at && payload.ends_at <= payload.starts_at) {
        error.textContent = "结束时间须晚于开始时间";
        return;
      }
      try {
        await api(banner ? `/admin/banners/${banner.id}` : "/admin/banners", { method: banner ? "PUT" : "POST", body: payload });
        toast("轮播图已保存");
        formBox.replaceChildren();
        await load();
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
    formBox.replaceChildren(form);
    inputs.title.focus();
  }

  async function remove(banner) {
    if (!(await confirmDialog(`删除轮播图「${banner.title}」？`))) return;
    try {
      await api(`/admin/banners/${banner.id}`, { method: "DELETE" });
      toast("已删除");
      await load();
    } catch (error) {
      showError(error);
    }
  }

  async function load() {
    list.replaceChildren(loading());
    try {
      const answer = await api("/admin/banners");
      if (!answer.items.length) return list.replaceChildren(emptyState("还没有轮播图"));
      const schedule = (b) => (b.starts_at || b.ends_at ? `${b.starts_at ? dateTime(b.starts_at) : "即日"} 至 ${b.ends_at ? dateTime(b.ends_at) : "长期"}` : "长期");
      list.replaceChildren(
        table(
          [
            ["图片", (b) => h("img", { src: b.image, alt: b.title, loading: "lazy", class: "banner-thumb" })],
            ["标题", (b) => b.title],
            ["链接", (b) => h("code", null, b.link)],
            ["排序", (b) => b.position],
            ["投放时间", schedule],
            ["状态", (b) => (b.active ? "启用" : "停用")],
            [
              "操作",
              (b) =>
                h(
                  "div",
                  { class: "actions" },
                  h("button", { type: "button", class: "btn btn-small", "aria-label": `编辑 ${b.title}`, onclick: () => edit(b) }, "编辑"),
                  h("button", { type: "button", class: "btn btn-small btn-danger", "aria-label": `删除 ${b.title}`, onclick: () => remove(b) }, "删除"),
                ),
            ],
          ],
          answer.items,
          { caption: "轮播图列表" },
        ),
      );
    } catch (error) {
      showError(error);
      list.replaceChildren(emptyState(error.message));
    }
  }
  await load();
}
