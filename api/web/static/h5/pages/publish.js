// 发布闲置 / 编辑闲置: a draft is saved with POST /goods then PATCH; photos chosen before the
// first save wait in the page and are uploaded (in the order shown) when it is saved.

import { api, messageFor } from "../../shared/api.js";
import { CONDITIONS, emptyState, h, loading, showError, toFen, toast, yuan } from "../../shared/dom.js";
import { setTitle } from "../app.js";

const MAX_PHOTOS = 9;
const EDITABLE = new Set(["draft", "rejected", "withdrawn", "listed", "pending_review"]);

// ---- Form pieces shared by the selling pages (publish, verify, wallet) ----------------

// Pydantic's error types and the domain's codes, in words a seller understands.
const FIELD_TYPES = {
  missing: "必填",
  string_too_short: "内容太短",
  string_too_long: "内容太长",
  greater_than: "必须大于 0",
  less_than_equal: "超出上限",
  int_type: "请输入数字",
  int_parsing: "请输入数字",
  enum: "请从选项中选择",
  string_pattern_mismatch: "格式不正确",
};
// The publish form's own wording where the shared one (api.js) would say less.
const CODES = {
  too_many_photos: `最多 ${MAX_PHOTOS} 张照片`,
};

/** A labelled form field with a slot for its error (found by `data-field`). */
export function field(label, name, control, hint) {
  control.name = name;
  control.id = control.id || `f-${name}`;
  control.setAttribute("aria-describedby", `err-${name}`);
  return h(
    "div",
    { class: "field", dataset: { field: name } },
    h("label", { for: control.id }, h("span", null, label)),
    control,
    hint ? h("small", { class: "muted" }, hint) : null,
    h("span", { class: "field-error", id: `err-${name}`, role: "alert" }),
  );
}

export function clearFieldErrors(root) {
  for (const slot of root.querySelectorAll(".field-error")) slot.textContent = "";
  for (const bad of root.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
}

/** Put one message under a field; returns false when the form has no such field. */
export function setFieldError(root, name, message) {
  const box = root.querySelector(`[data-field="${name}"]`);
  if (!box) return false;
  box.querySelector(".field-error").textContent = message;
  box.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
  return true;
}

/**
 * Show an ApiError's field problems under their fields (`fields` from validation, or the
 * single `field` of a domain refusal). Anything left over is said in a toast.
 */
export function showFieldErrors(root, error) {
  const problems = [];
  for (const item of error?.fields || []) {
    if (typeof item === "string") problems.push([item, "必填"]);
    else problems.push([item.field, FIELD_TYPES[item.type] || CODES[error.code] || messageFor(error.code) || "填写有误"]);
  }
  if (error?.body?.field) problems.push([error.body.field, CODES[error.code] || error.message]);
  let placed = 0;
  for (const [name, message] of problems) if (setFieldError(root, name, message)) placed += 1;
  if (!placed) showError(error);
  else toast("请检查标红的内容", "error");
}

// ---- The page --------------------------------------------------------------------------

function flatCategories(tree) {
  const parents = tree.items || [];
  const parentOf = new Map();
  for (const parent of parents) for (const child of parent.children || []) parentOf.set(child.id, parent.id);
  return { parents, parentOf };
}

export default async function render(view, ctx) {
  const goodsId = ctx.params.id ? Number(ctx.params.id) : null;
  view.append(loading());
  let tree;
  let goods = null;
  try {
    [tree, goods] = await Promise.all([api("/categories"), goodsId ? api(`/goods/${goodsId}`) : Promise.resolve(null)]);
  } catch (error) {
    view.replaceChildren(emptyState(error.message, h("a", { class: "btn", href: "#/my-goods" }, "我发布的")));
    return;
  }
  if (!ctx.isCurrent()) return;
  if (goods && !EDITABLE.has(goods.status)) {
    view.replaceChildren(emptyState("交易中或已售出的宝贝不能修改", h("a", { class: "btn", href: `#/goods/${goods.id}` }, "查看宝贝")));
    return;
  }
  drawEditor(view, ctx, tree, goods);
}

function drawEditor(view, ctx, tree, initial) {
  let goods = initial;
  // Each photo is {id, url} once uploaded, or {file, url} while it waits for a goods id.
  let photos = (goods?.photos || []).map((photo) => ({ id: photo.id, url: photo.thumb_url || photo.url }));
  const { parents, parentOf } = flatCategories(tree);
  let busy = false;

  const parentSelect = h("select", { "aria-label": "一级分类" }, h("option", { value: "" }, "请选择"), parents.map((p) => h("option", { value: p.id }, p.name)));
  const categorySelect = h("select", null);
  const fillChildren = (parentId, selected) => {
    const parent = parents.find((p) => p.id === Number(parentId));
    const children = parent ? parent.children || [] : [];
    categorySelect.replaceChildren(
      h("option", { value: "" }, parent ? "请选择" : "先选一级分类"),
      ...children.map((child) => h("option", { value: child.id, selected: child.id === selected }, child.name)),
    );
    categorySelect.disabled = !parent;
  };
  parentSelect.addEventListener("change", () => fillChildren(parentSelect.value, null));
  if (goods) {
    const parentId = parentOf.get(goods.category_id) ?? goods.category_id;
    parentSelect.value = String(parentId);
    fillChildren(parentId, goods.category_id);
  } else fillChildren("", null);

  const title = h("input", { type: "text", maxlength: 60, placeholder: "品牌型号，如 自用iPhone 13 128G", value: goods?.title || "" });
  const description = h("textarea", { maxlength: 5000, placeholder: "成色、入手渠道、转手原因…" }, goods?.description || "");
  const price = h("input", { type: "text", inputmode: "decimal", placeholder: "0.00", value: goods ? String(goods.price / 100) : "" });
  const originalPrice = h("input", { type: "text", inputmode: "decimal", placeholder: "选填", value: goods?.original_price ? String(goods.original_price / 100) : "" });
  const condition = h("select", null, h("option", { value: "" }, "请选择"), CONDITIONS.map((c) => h("option", { value: c, selected: goods?.condition === c }, c)));
  const city = h("input", { type: "text", maxlength: 20, placeholder: "如 上海", value: goods?.city || "" });
  const noBargaining = h("input", { type: "checkbox", id: "f-no_bargaining", checked: Boolean(goods?.no_bargaining) });
  const floor = h("input", { type: "text", inputmode: "decimal", placeholder: "选填，低于此价的出价自动拒绝", value: goods?.floor_price ? String(goods.floor_price / 100) : "" });
  noBargaining.name = "no_bargaining";
  noBargaining.addEventListener("change", () => {
    floor.disabled = noBargaining.checked;
  });
  floor.disabled = noBargaining.checked;

  const fileInput = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp,image/*", multiple: true, id: "f-photo-file", class: "visually-hidden" });
  const photoStrip = h("ol", { class: "photo-strip", "aria-label": "已选照片" });
  const photoField = h(
    "div",
    { class: "field", dataset: { field: "photos" } },
    h("span", null, "照片（第一张为主图，最多 9 张）"),
    photoStrip,
    h("span", { class: "field-error", role: "alert" }),
  );

  const form = h(
    "form",
    { class: "publish-form", novalidate: true },
    initial?.status === "rejected"
      ? h("div", { class: "notice notice-danger", role: "note" }, h("strong", null, "未通过审核："), initial.rejection_reason || "请修改后重新提交")
      : null,
    initial?.status === "pending_review" ? h("div", { class: "notice", role: "note" }, "审核中，修改后会重新审核") : null,
    h("section", { class: "card sell-card" }, photoField),
    h(
      "section",
      { class: "card sell-card" },
      field("标题", "title", title),
      field("描述", "description", description),
      h(
        "div",
        { class: "field", dataset: { field: "category_id" } },
        h("span", null, "分类"),
        h("div", { class: "two-cols" }, parentSelect, categorySelect),
        h("span", { class: "field-error", id: "err-category_id", role: "alert" }),
      ),
    ),
    h(
      "section",
      { class: "card sell-card" },
      h("div", { class: "two-cols" }, field("价格（元）", "price", price), field("原价（元）", "original_price", originalPrice)),
      h("div", { class: "two-cols" }, field("成色", "condition", condition), field("所在城市", "city", city)),
    ),
    h(
      "section",
      { class: "card sell-card" },
      h("h2", { class: "sell-card-title" }, "议价设置"),
      h("div", { class: "check-row" }, noBargaining, h("label", { for: "f-no_bargaining" }, "不议价（买家不能出价）")),
      field("最低接受价（元）", "floor_price", floor),
    ),
  );
  categorySelect.setAttribute("aria-label", "二级分类");
  categorySelect.name = "category_id";
  categorySelect.setAttribute("aria-describedby", "err-category_id");

  // New goods and drafts are published; rejected or withdrawn ones resubmitted; goods on
  // sale or in review are only saved (the server sends changed listings back to review).
  const state = initial?.status || "draft";
  const submittable = ["draft", "rejected", "withdrawn"].includes(state);
  const saveButton = h("button", { type: "button", class: "btn", onclick: () => save(false) }, state === "draft" ? "存草稿" : "保存");
  const publishButton = h("button", { type: "button", class: "btn btn-primary btn-grow", onclick: () => save(submittable) }, !submittable ? "保存修改" : state === "draft" ? "发布" : "重新提交");
  const bar = h("div", { class: "action-bar" }, submittable ? saveButton : null, publishButton);
  view.replaceChildren(h("div", { class: "page-pad publish-page" }, form), bar);
  if (goods) setTitle(goods.status === "draft" ? "编辑草稿" : "编辑闲置");

  function drawPhotos() {
    const items = photos.map((photo, index) =>
      h(
        "li",
        { class: "photo-item" },
        h("img", { src: photo.url, alt: `照片 ${index + 1}`, loading: "lazy", width: 96, height: 96 }),
        index === 0 ? h("span", { class: "photo-main" }, "主图") : null,
        h(
          "div",
          { class: "photo-tools" },
          h("button", { type: "button", class: "icon-btn", "aria-label": `照片 ${index + 1} 左移`, disabled: index === 0, onclick: () => move(index, -1) }, "‹"),
          h("button", { type: "button", class: "icon-btn", "aria-label": `删除照片 ${index + 1}`, onclick: () => remove(index) }, "×"),
          h("button", { type: "button", class: "icon-btn", "aria-label": `照片 ${index + 1} 右移`, disabled: index === photos.length - 1, onclick: () => move(index, 1) }, "›"),
        ),
      ),
    );
    const add =
      photos.length < MAX_PHOTOS
        ? h("li", { class: "photo-add" }, h("label", { for: "f-photo-file" }, h("span", { "aria-hidden": "true", class: "photo-plus" }, "+"), "添加照片"), fileInput)
        : null;
    photoStrip.replaceChildren(...items, ...(add ? [add] : []));
  }
  drawPhotos();

  fileInput.addEventListener("change", async () => {
    const files = [...fileInput.files].slice(0, MAX_PHOTOS - photos.length);
    fileInput.value = "";
    if (!files.length) return;
    const added = files.map((file) => ({ file, url: URL.createObjectURL(file) }));
    photos.push(...added);
    drawPhotos();
    if (goods) await uploadPending();
  });

  async function uploadPending() {
    for (const photo of photos) {
      if (photo.id) continue;
      const formData = new FormData();
      formData.append("file", photo.file);
      try {
        const uploaded = await api(`/goods/${goods.id}/photos`, { method: "POST", form: formData });
        URL.revokeObjectURL(photo.url);
        photo.id = uploaded.id;
        goods.photos = [...(goods.photos || []), uploaded];
        photo.url = uploaded.thumb_url || uploaded.url;
        delete photo.file;
      } catch (error) {
        photos = photos.filter((one) => one !== photo);
        drawPhotos();
        const message = CODES[error.code] || (error.code?.startsWith("photo_") ? messageFor(error.code) : null);
        if (message) setFieldError(form, "photos", `「${photo.file.name}」${message}`);
        if (message) toast(message, "error");
        else showError(error);
        return false;
      }
    }
    drawPhotos();
    return syncOrder();
  }

  // The server numbers photos in upload order; put them in the order the seller sees.
  async function syncOrder() {
    const ids = photos.map((photo) => photo.id);
    const serverIds = (goods.photos || []).map((photo) => photo.id);
    if (ids.some((id) => !id) || ids.join() === serverIds.join()) return true;
    try {
      goods = await api(`/goods/${goods.id}/photos/order`, { method: "PUT", body: { photo_ids: ids } });
      return true;
    } catch (error) {
      showError(error);
      return false;
    }
  }

  async function move(index, step) {
    const target = index + step;
    [photos[index], photos[target]] = [photos[target], photos[index]];
    drawPhotos();
    if (goods && photos.every((photo) => photo.id)) await syncOrder();
    const again = photoStrip.querySelector(`button[aria-label="照片 ${target + 1} ${step < 0 ? "左移" : "右移"}"]`);
    (again && !again.disabled ? again : photoStrip.querySelector("button:not([disabled])"))?.focus();
  }

  async function remove(index) {
    const [photo] = photos.splice(index, 1);
    drawPhotos();
    if (photo.id && goods) {
      try {
        await api(`/goods/${goods.id}/photos/${photo.id}`, { method: "DELETE" });
        goods.photos = (goods.photos || []).filter((one) => one.id !== photo.id);
      } catch (error) {
        photos.splice(index, 0, photo);
        drawPhotos();
        showError(error);
      }
    } else if (photo.file) URL.revokeObjectURL(photo.url);
  }

  /** The form as the API's fields, or null after marking what is wrong. */
  function readForm() {
    clearFieldErrors(form);
    const problems = [];
    const body = {
      category_id: Number(categorySelect.value) || null,
      title: title.value.trim(),
      description: description.value.trim(),
      price: toFen(price.value),
      original_price: originalPrice.value.trim() ? toFen(originalPrice.value) : null,
      condition: condition.value,
      city: city.value.trim(),
    };
    if (!body.category_id) problems.push(["category_id", "请选择分类"]);
    if (body.title.length < 2) problems.push(["title", "标题至少 2 个字"]);
    if (!body.price) problems.push(["price", "请输入正确的价格，如 26.5"]);
    if (originalPrice.value.trim() && !body.original_price) problems.push(["original_price", "请输入正确的原价"]);
    if (!body.condition) problems.push(["condition", "请选择成色"]);
    if (!body.city) problems.push(["city", "请填写所在城市"]);
    const floorFen = floor.value.trim() && !noBargaining.checked ? toFen(floor.value) : null;
    if (floor.value.trim() && !noBargaining.checked && !floorFen) problems.push(["floor_price", "请输入正确的价格"]);
    else if (floorFen && body.price && floorFen > body.price) problems.push(["floor_price", "最低接受价不能高于售价"]);
    for (const [name, message] of problems) setFieldError(form, name, message);
    if (problems.length) {
      form.querySelector("[aria-invalid]")?.focus();
      toast("请检查标红的内容", "error");
      return null;
    }
    if (body.original_price === null) delete body.original_price;
    return { body, bargaining: { no_bargaining: noBargaining.checked, floor_price: floorFen } };
  }

  async function save(submit) {
    if (busy) return;
    const values = readForm();
    if (!values) return;
    if (submit && !photos.length) {
      setFieldError(form, "photos", "请至少添加一张照片");
      toast("请至少添加一张照片", "error");
      return;
    }
    busy = true;
    saveButton.disabled = publishButton.disabled = true;
    try {
      if (!goods) {
        goods = await api("/goods", { method: "POST", body: values.body });
        // Stay on this page, but make a reload open the saved draft.
        history.replaceState(null, "", `#/publish/${goods.id}`);
      } else {
        goods = await api(`/goods/${goods.id}`, { method: "PATCH", body: values.body });
      }
      if (!(await uploadPending())) return;
      const terms = values.bargaining;
      if (terms.no_bargaining !== Boolean(goods.no_bargaining) || terms.floor_price !== (goods.floor_price ?? null)) {
        const saved = await api(`/goods/${goods.id}/bargaining`, { method: "PUT", body: terms });
        goods.no_bargaining = saved.no_bargaining;
        goods.floor_price = saved.floor_price;
      }
      if (submit) {
        goods = await api(`/goods/${goods.id}/submit`, { method: "POST" });
        drawSubmitted(view, goods);
      } else if (goods.status === "draft") {
        toast("草稿已保存");
        setTitle("编辑草稿");
      } else if (initial?.status === "listed" && goods.status === "pending_review") {
        toast("已保存，修改了标题、描述、分类或照片，需要重新审核");
      } else toast("已保存");
    } catch (error) {
      if (error.code === "verification_required") {
        toast("发布前请先完成实名认证", "error");
        ctx.navigate("/verify");
      } else showFieldErrors(form, error);
    } finally {
      busy = false;
      saveButton.disabled = publishButton.disabled = false;
    }
  }
}

function drawSubmitted(view, goods) {
  setTitle("提交成功");
  view.replaceChildren(
    h(
      "div",
      { class: "state submitted-state", role: "status" },
      h("div", { class: "submitted-icon", "aria-hidden": "true" }, "✓"),
      h("h2", null, "已提交审核"),
      h("p", null, `「${goods.title}」 ${yuan(goods.price)}，审核通过后买家就能看到`),
      h("div", { class: "submitted-actions" }, h("a", { class: "btn", href: "#/my-goods?status=pending_review" }, "我发布的"), h("a", { class: "btn btn-primary", href: "#/publish" }, "继续发布")),
    ),
  );
}
