// Building the page: `h()` makes elements from data with text nodes only, so nothing a
// user typed is ever parsed as HTML. Formatting of money, time and conditions lives here.

export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "style" && typeof value === "object") Object.assign(element.style, value);
    else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

/** Fen to a price people read: ¥2650, ¥26.50. */
export function yuan(fen) {
  if (fen === null || fen === undefined) return "";
  const whole = fen % 100 === 0;
  return `¥${(fen / 100).toFixed(whole ? 0 : 2)}`;
}

/** Yuan typed by a person ("26.5") to fen, or null when it is not a price. */
export function toFen(text) {
  const match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(String(text ?? ""));
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
}

export function timeAgo(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "刚刚";
  if (seconds < 3600) return `${Math.floor(seconds / 60)}分钟前`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}小时前`;
  if (seconds < 86400 * 30) return `${Math.floor(seconds / 86400)}天前`;
  return new Date(iso).toLocaleDateString("zh-CN");
}

export function dateTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("zh-CN", { hour12: false });
}

/** Time left until `iso` ("2小时05分", "已超时"). */
export function timeLeft(iso, now = Date.now()) {
  const seconds = Math.floor((new Date(iso).getTime() - now) / 1000);
  if (seconds <= 0) return "已超时";
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}天${hours}小时`;
  if (hours > 0) return `${hours}小时${String(minutes).padStart(2, "0")}分`;
  return `${minutes}分${String(seconds % 60).padStart(2, "0")}秒`;
}

/**
 * A search hit's highlighted title ("<em>手机</em>壳", escaped by the server) as nodes:
 * the marked words in <mark>, everything else as text.
 */
export function markedText(highlighted) {
  const decode = (text) =>
    text.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (_, name) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#x27": "'", "#39": "'" })[name]);
  const parts = String(highlighted || "").split(/<em>(.*?)<\/em>/g);
  return parts.map((part, index) => (index % 2 ? h("mark", null, decode(part)) : decode(part)));
}

let toastTimer;
/** A short message at the bottom of the screen (role=status, so screen readers say it). */
export function toast(message, kind = "info") {
  let box = document.getElementById("toast");
  if (!box) {
    box = h("div", { id: "toast", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  box.className = `toast toast-${kind} toast-shown`;
  box.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("toast-shown"), 2600);
}

/** An error from the API or the network, said to the user. */
export function showError(error) {
  console.error(error);
  toast(error?.message || "出错了，请稍后再试", "error");
}

/** A modal dialog with a form; resolves to the FormData submitted, or null if cancelled. */
export function promptDialog({ title, fields, submitText = "确定" }) {
  return new Promise((resolve) => {
    const form = h(
      "form",
      { method: "dialog", class: "dialog-form" },
      h("h2", null, title),
      fields.map((field) =>
        h(
          "label",
          { class: "field" },
          h("span", null, field.label),
          field.type === "select"
            ? h("select", { name: field.name, required: field.required }, field.options.map(([value, text]) => h("option", { value }, text)))
            : field.type === "textarea"
              ? h("textarea", { name: field.name, required: field.required, maxlength: field.maxlength, placeholder: field.placeholder || "" }, field.value || "")
              : h("input", { name: field.name, type: field.type || "text", required: field.required, inputmode: field.inputmode, placeholder: field.placeholder || "", value: field.value ?? "" }),
        ),
      ),
      h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "btn", value: "cancel", onclick: () => dialog.close("cancel") }, "取消"), h("button", { type: "submit", class: "btn btn-primary", value: "ok" }, submitText)),
    );
    const dialog = h("dialog", { class: "dialog", "aria-label": title }, form);
    dialog.addEventListener("close", () => {
      const data = dialog.returnValue === "ok" ? new FormData(form) : null;
      dialog.remove();
      resolve(data);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      dialog.close("ok");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function confirmDialog(message) {
  return promptDialog({ title: message, fields: [], submitText: "确定" }).then((data) => data !== null);
}

export const CONDITIONS = ["全新", "99新", "95新", "9成新", "8成新", "7成新及以下"];

/** A loading placeholder, an empty state and an error state, alike on every page. */
export const loading = () => h("div", { class: "state state-loading", role: "status" }, "加载中…");
export const emptyState = (text, action) => h("div", { class: "state state-empty" }, h("p", null, text), action || null);
