// One conversation about one good: the goods on top, the messages as bubbles, the offers
// (砍价) as cards with the buttons the viewer's side may press, a composer, and the live
// socket that brings the other side's messages without a reload.
//
// Also home to two pieces the messages and orders pages share: `LiveSocket` (the
// reconnecting WebSocket) and `goodsByIds` (goods titles and photos, one request per good).

import { api, auth, messageFor } from "../../shared/api.js";
import { clear, emptyState, h, loading, promptDialog, timeAgo, timeLeft, toast, toFen, yuan } from "../../shared/dom.js";
import { setTitle } from "../app.js";

const goodsCache = new Map();

// The trade API's refusals in words people act on (the shared client knows the common ones).
// The chat's own wording where the shared one (api.js) would say less.
const TRADE_ERRORS = {
  rate_limited: "发送太频繁（每分钟最多30条），请稍后再试",
};

/** An API refusal from the trade pages, in Chinese. */
export function tradeError(error) {
  return TRADE_ERRORS[error?.code] || messageFor(error?.code) || error?.message || "出错了，请稍后再试";
}

function showTradeError(error) {
  console.error(error);
  toast(tradeError(error), "error");
}

/** Goods by id (a Map), each fetched once per page load; goods one may not see are left out. */
export async function goodsByIds(ids) {
  const wanted = [...new Set(ids)].filter((id) => id && !goodsCache.has(id));
  await Promise.all(
    wanted.map((id) =>
      api(`/goods/${id}`)
        .then((goods) => goodsCache.set(id, goods))
        .catch(() => goodsCache.set(id, null)),
    ),
  );
  return new Map(ids.map((id) => [id, goodsCache.get(id) || null]));
}

/** The goods' small photo, or a grey square when there is none. */
export function goodsThumb(goods, size = 48) {
  const src = goods?.photos?.[0]?.thumb_url || goods?.photo;
  return src
    ? h("img", { class: "trade-thumb", src, alt: "", loading: "lazy", decoding: "async", width: size, height: size })
    : h("div", { class: "trade-thumb no-photo", "aria-hidden": "true" });
}

/**
 * The live socket (/api/v1/ws): messages and notices as they commit. It reconnects with
 * backoff and asks for what it missed from the last message id it saw, so nothing is lost
 * and, since ids only grow, nothing is shown twice. Close codes 4401 (log in again) and
 * 4403 (not yours) are final.
 */
export class LiveSocket {
  constructor({ after = 0, conversationId = null, onMessage, onNotice, onFatal }) {
    this.after = after;
    this.conversationId = conversationId;
    this.onMessage = onMessage || (() => {});
    this.onNotice = onNotice || (() => {});
    this.onFatal = onFatal || (() => {});
    this.retries = 0;
    this.closed = false;
    this.open();
  }

  open() {
    if (this.closed || !auth.token) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ token: auth.token, after: String(this.after) });
    if (this.conversationId) query.set("conversation_id", String(this.conversationId));
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws?${query}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retries = 0;
      clearInterval(this.pinger);
      // Keeps proxies from closing an idle socket; the server answers "pong".
      this.pinger = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("ping"), 25_000);
    });
    socket.addEventListener("message", (event) => {
      if (event.data === "pong") return;
      let payload;
      try {
        payload = JSON.parse(event.data);
      } catch {
        return;
      }
      if (payload.type === "message") {
        if (payload.id <= this.seen(payload.conversation_id)) return;
        this.mark(payload);
        this.onMessage(payload);
      } else if (payload.type === "notification") this.onNotice(payload);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(this.pinger);
      if (this.closed) return;
      if (event.code === 4401 || event.code === 4403) {
        this.closed = true;
        this.onFatal(event.code);
        return;
      }
      // 1013 (the server lost track) and network drops: back off, then catch up.
      const delay = Math.min(30_000, 1000 * 2 ** this.retries) * (0.75 + Math.random() / 2);
      this.retries += 1;
      this.timer = setTimeout(() => this.open(), delay);
    });
  }

  seen(conversationId) {
    // One socket for one conversation keeps one cursor; a socket for all of them only
    // announces, so one number is enough for its catch-up (the lists re-read anyway).
    return this.conversationId ? this.after : (this.cursors?.get(conversationId) ?? this.after);
  }

  mark(payload) {
    if (this.conversationId) this.after = Math.max(this.after, payload.id);
    else {
      this.cursors ||= new Map();
      this.cursors.set(payload.conversation_id, payload.id);
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    this.socket?.close(1000);
  }
}

/** The conversation by id from the list of one's conversations (the API has no single read). */
export async function findConversation(id) {
  for (let page = 1; page <= 20; page += 1) {
    const answer = await api("/conversations", { query: { page, page_size: 100 } });
    const found = (answer.items || []).find((item) => item.id === id);
    if (found) return found;
    if ((answer.items || []).length < 100) break;
  }
  return null;
}

const OFFER_STATES = {
  pending: ["待回应", "tag-warn"],
  accepted: ["已接受", "tag-ok"],
  rejected: ["已拒绝", "tag-danger"],
  countered: ["已还价", ""],
  withdrawn: ["已撤回", ""],
  expired: ["已过期", ""],
  declined: ["已失效", ""],
};

export default async function render(view, ctx) {
  const id = Number(ctx.params.id);
  const me = auth.user?.id;
  view.append(loading());
  let conversation;
  try {
    conversation = await findConversation(id);
  } catch (error) {
    clear(view).append(emptyState(tradeError(error)));
    return;
  }
  if (!conversation) {
    clear(view).append(emptyState("会话不存在或无权查看", h("a", { class: "btn", href: "#/messages" }, "返回消息")));
    return;
  }
  if (!ctx.isCurrent()) return;
  const isBuyer = conversation.buyer_id === me;
  const goods = (await goodsByIds([conversation.goods_id])).get(conversation.goods_id);
  setTitle(isBuyer ? goods?.seller?.nickname || "卖家" : "买家");

  const stream = h("div", { class: "chat-stream", role: "log", "aria-label": "聊天记录", "aria-live": "polite" });
  const offers = new Map(); // id → offer
  const offerSlots = new Map(); // id → the card's element in the stream
  const shown = new Set(); // message ids on screen
  let lastId = 0; // the newest message on screen
  let readId = 0; // the newest message read through the API (own sends may overtake others')

  const head = h(
    "a",
    { class: "chat-goods", href: `#/goods/${conversation.goods_id}`, "aria-label": `宝贝：${goods?.title || ""}` },
    goodsThumb(goods, 56),
    h("div", { class: "chat-goods-body" }, h("div", { class: "chat-goods-title" }, goods?.title || "宝贝已下架"), goods ? h("span", { class: "price" }, yuan(goods.price)) : null),
  );

  const input = h("input", { type: "text", name: "text", maxlength: 1000, "aria-label": "输入消息", placeholder: "说点什么…", autocomplete: "off", enterkeyhint: "send" });
  const sendButton = h("button", { type: "submit", class: "btn btn-primary btn-small" }, "发送");
  const composerError = h("div", { class: "chat-error", role: "alert" });
  const offerButton = isBuyer && !goods?.no_bargaining ? h("button", { type: "button", class: "btn btn-accent btn-small", onclick: () => makeOffer() }, "出价") : null;
  const composer = h("form", { class: "action-bar chat-composer", "aria-label": "发送消息", onsubmit: (event) => (event.preventDefault(), send()) }, offerButton, input, sendButton);

  clear(view).append(h("div", { class: "chat-page" }, head, stream, composerError, composer));

  function bubble(message) {
    if (message.kind === "offer" || message.kind === "system" || message.sender_id === null) {
      const parts = [h("div", { class: "chat-system" }, message.text)];
      if (message.offer_id && !offerSlots.has(message.offer_id)) {
        const slot = h("div", { class: "offer-slot" });
        offerSlots.set(message.offer_id, slot);
        drawOffer(message.offer_id);
        parts.push(slot);
      }
      return parts;
    }
    const mine = message.sender_id === me;
    return h(
      "div",
      { class: ["chat-row", mine ? "chat-mine" : "chat-theirs"], dataset: { messageId: String(message.id) } },
      h("div", { class: "chat-bubble" }, message.text),
      h("time", { class: "muted", datetime: message.created_at }, timeAgo(message.created_at)),
      message.contact_warning && !mine
        ? h("div", { class: "chat-warning", role: "note" }, "⚠ 对方发送的内容疑似含联系方式（手机号/微信/QQ）。请在平台内沟通和交易，私下交易不受担保保护。")
        : null,
    );
  }

  function addMessages(list) {
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
    for (const message of list) {
      if (shown.has(message.id)) continue;
      shown.add(message.id);
      lastId = Math.max(lastId, message.id);
      const nodes = bubble(message);
      stream.append(...(Array.isArray(nodes) ? nodes : [nodes]));
    }
    if (atBottom || list.some((message) => message.sender_id === me)) window.scrollTo(0, document.body.scrollHeight);
  }

  function drawOffer(offerId) {
    const slot = offerSlots.get(offerId);
    const offer = offers.get(offerId);
    if (!slot || !offer) return;
    const [label, tone] = OFFER_STATES[offer.status] || [offer.status, ""];
    const mineProposal = offer.proposed_by === me;
    const who = offer.proposed_by === offer.buyer_id ? "买家出价" : "卖家还价";
    const buttons = [];
    if (offer.status === "pending") {
      if (mineProposal) buttons.push(h("button", { type: "button", class: "btn btn-small", onclick: () => offerStep(offer, "withdraw") }, "撤回"));
      else {
        buttons.push(h("button", { type: "button", class: "btn btn-primary btn-small", onclick: () => offerStep(offer, "accept") }, "接受"));
        buttons.push(h("button", { type: "button", class: "btn btn-small", onclick: () => offerStep(offer, "reject") }, "拒绝"));
        if (!isBuyer) buttons.push(h("button", { type: "button", class: "btn btn-small", onclick: () => counter(offer) }, "还价"));
      }
    }
    if (offer.status === "accepted" && offer.order_id) {
      buttons.push(h("a", { class: "btn btn-accent btn-small", href: `#/orders/${offer.order_id}` }, isBuyer ? "去付款" : "查看订单"));
    }
    slot.replaceChildren(
      h(
        "section",
        { class: "offer-card card", "aria-label": `${who} ${yuan(offer.price)}`, dataset: { offerId: String(offer.id) } },
        h("div", { class: "offer-line" }, h("span", null, who), h("span", { class: ["tag", tone] }, label)),
        h("div", { class: "offer-price price" }, yuan(offer.price)),
        offer.status === "pending" && offer.due_at ? h("div", { class: "muted" }, "剩余 ", h("span", { class: "countdown", dataset: { due: offer.due_at } }, timeLeft(offer.due_at))) : null,
        buttons.length ? h("div", { class: "offer-actions" }, buttons) : null,
      ),
    );
  }

  async function loadOffers() {
    const list = await api(`/conversations/${id}/offers`);
    for (const offer of list) offers.set(offer.id, offer);
    for (const offerId of offerSlots.keys()) drawOffer(offerId);
  }

  async function offerStep(offer, step) {
    try {
      const answer = await api(`/offers/${offer.id}/${step}`, { method: "POST" });
      const updated = answer.offer || answer;
      offers.set(updated.id, { ...updated, order_id: answer.order_id ?? updated.order_id });
      drawOffer(updated.id);
      if (step === "accept") toast(isBuyer ? "已接受，请尽快付款" : "已接受，订单已生成");
      await catchUp();
    } catch (error) {
      showTradeError(error);
      loadOffers().catch(() => {});
    }
  }

  async function askPrice(title) {
    const data = await promptDialog({ title, fields: [{ name: "price", label: "价格（元）", inputmode: "decimal", required: true, placeholder: goods ? `标价 ${yuan(goods.price)}` : "" }], submitText: "提交" });
    if (!data) return null;
    const fen = toFen(data.get("price"));
    if (!fen) {
      toast("请输入正确的价格，如 26.5", "error");
      return null;
    }
    return fen;
  }

  async function makeOffer() {
    const price = await askPrice("出个价");
    if (!price) return;
    try {
      const offer = await api(`/conversations/${id}/offers`, { method: "POST", body: { price } });
      offers.set(offer.id, offer);
      toast("出价已发送");
      await catchUp();
    } catch (error) {
      showTradeError(error);
    }
  }

  async function counter(offer) {
    const price = await askPrice(`还价（买家出价 ${yuan(offer.price)}）`);
    if (!price) return;
    try {
      await api(`/offers/${offer.id}/counter`, { method: "POST", body: { price } });
      toast("还价已发送");
      await catchUp();
    } catch (error) {
      showTradeError(error);
    }
  }

  async function send() {
    const text = input.value.trim();
    if (!text) return;
    sendButton.disabled = true;
    composerError.textContent = "";
    try {
      const message = await api(`/conversations/${id}/messages`, { method: "POST", body: { text } });
      input.value = "";
      addMessages([message]);
    } catch (error) {
      composerError.textContent = tradeError(error);
    } finally {
      sendButton.disabled = false;
      input.focus();
    }
  }

  let reading = Promise.resolve();
  /** Read what came after the last message shown (which marks it read), offers too. */
  function catchUp() {
    reading = reading.then(async () => {
      let more = true;
      while (more) {
        const list = await api(`/conversations/${id}/messages`, { query: { after_id: readId, limit: 200 } });
        if (list.length) readId = list[list.length - 1].id;
        if (list.some((message) => message.offer_id)) await loadOffers();
        addMessages(list);
        more = list.length === 200;
      }
      document.dispatchEvent(new Event("unread:changed"));
    });
    return reading.catch(showTradeError);
  }

  try {
    await loadOffers();
    await catchUp();
  } catch (error) {
    showTradeError(error);
  }
  if (!ctx.isCurrent()) return;
  if (!shown.size) stream.append(h("div", { class: "chat-system" }, "和对方打个招呼吧，交易请在平台内完成"));

  let refreshTimer;
  const socket = new LiveSocket({
    after: lastId,
    conversationId: id,
    onMessage(message) {
      if (message.offer_id || message.sender_id !== me) {
        // Through the API, so the message is marked read and offers are fresh.
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(catchUp, 50);
      } else addMessages([message]);
    },
    onFatal(code) {
      composerError.textContent = code === 4401 ? "登录已过期，请重新登录" : "无权查看该会话";
    },
  });
  const ticker = setInterval(() => {
    for (const element of stream.querySelectorAll(".countdown")) element.textContent = timeLeft(element.dataset.due);
  }, 1000);
  if (ctx.query.offer === "1" && offerButton) makeOffer();
  else input.focus({ preventScroll: true });

  return () => {
    socket.close();
    clearInterval(ticker);
    clearTimeout(refreshTimer);
  };
}
