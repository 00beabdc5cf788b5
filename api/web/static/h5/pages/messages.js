// The messages tab: conversations (the other side, the goods, the last message, unread)
// and the notices (offers, order steps) with links to what they are about. A live socket
// refreshes the list when something arrives.

import { api, auth } from "../../shared/api.js";
import { clear, emptyState, h, loading, showError, timeAgo } from "../../shared/dom.js";
import { setTitle } from "../app.js";
import { LiveSocket, goodsThumb } from "./chat.js";

function preview(message) {
  if (!message) return "暂无消息";
  if (message.kind === "offer") return `[出价] ${message.text}`;
  if (message.kind === "system") return `[系统] ${message.text}`;
  return message.text;
}

function noticeLink(notice) {
  if (notice.order_id) return `#/orders/${notice.order_id}`;
  if (notice.conversation_id) return `#/chat/${notice.conversation_id}`;
  return null;
}

export default async function render(view, ctx) {
  const me = auth.user?.id;
  const tab = ctx.query.tab === "notices" ? "notices" : "chats";
  setTitle("消息");
  const chatCount = h("span", { class: "badge", hidden: true });
  const noticeCount = h("span", { class: "badge", hidden: true });
  const tabs = h(
    "nav",
    { class: "trade-tabs", "aria-label": "消息分类" },
    h("a", { href: "#/messages", "aria-current": tab === "chats" ? "page" : null }, "聊天", chatCount),
    h("a", { href: "#/messages?tab=notices", "aria-current": tab === "notices" ? "page" : null }, "通知", noticeCount),
  );
  const body = h("div", { class: "messages-body" }, loading());
  view.append(h("h1", { class: "trade-page-title" }, "消息"), tabs, body);

  const setCount = (badge, count) => {
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = !count;
  };

  async function drawChats() {
    const answer = await api("/conversations", { query: { page_size: 100 } });
    const items = answer.items || [];
    setCount(chatCount, items.reduce((sum, item) => sum + (item.unread || 0), 0));
    if (tab !== "chats" || !ctx.isCurrent()) return items;
    if (!items.length) {
      clear(body).append(emptyState("还没有聊天，去逛逛感兴趣的宝贝吧", h("a", { class: "btn", href: "#/" }, "去逛逛")));
      return items;
    }
    clear(body).append(
      h(
        "ul",
        { class: "list trade-list", "aria-label": "聊天列表" },
        items.map((item) => {
          // The list carries the good's title and photo and the other side's name: one request.
          const good = item.goods_title ? { title: item.goods_title, photo: item.goods_photo } : null;
          const other = item.other_party_nickname || (item.buyer_id === me ? "卖家" : "买家");
          const role = item.buyer_id === me ? "卖家" : "买家";
          return h(
            "li",
            null,
            h(
              "a",
              { class: "list-item conversation", href: `#/chat/${item.id}`, dataset: { conversationId: String(item.id) } },
              goodsThumb(good),
              h(
                "div",
                { class: "conversation-body" },
                h("div", { class: "conversation-top" }, h("strong", null, other), h("span", { class: "tag" }, role), h("time", { class: "muted", datetime: item.last_message?.created_at || item.created_at }, timeAgo(item.last_message?.created_at || item.created_at))),
                h("div", { class: "conversation-goods muted" }, good?.title || "宝贝已下架"),
                h("div", { class: "conversation-last" }, preview(item.last_message)),
              ),
              item.unread ? h("span", { class: "badge", "aria-label": `${item.unread}条未读` }, item.unread > 99 ? "99+" : String(item.unread)) : null,
            ),
          );
        }),
      ),
    );
    return items;
  }

  async function markRead(ids) {
    await api("/notifications/read", { method: "POST", body: ids ? { ids } : {} });
    document.dispatchEvent(new Event("unread:changed"));
  }

  async function drawNotices() {
    const answer = await api("/notifications", { query: { page_size: 50 } });
    setCount(noticeCount, answer.unread || 0);
    if (tab !== "notices" || !ctx.isCurrent()) return;
    const items = answer.items || [];
    if (!items.length) {
      clear(body).append(emptyState("暂无通知"));
      return;
    }
    const readAll = h(
      "button",
      {
        type: "button",
        class: "btn btn-small",
        disabled: !answer.unread,
        onclick: async () => {
          try {
            await markRead(null);
            await drawNotices();
          } catch (error) {
            showError(error);
          }
        },
      },
      "全部已读",
    );
    clear(body).append(
      h("div", { class: "trade-toolbar" }, h("span", { class: "muted" }, `${answer.unread || 0} 条未读`), readAll),
      h(
        "ul",
        { class: "list trade-list", "aria-label": "通知列表" },
        items.map((notice) => {
          const href = noticeLink(notice);
          const unread = !notice.read_at;
          const content = [
            h("span", { class: ["notice-dot", unread && "notice-unread"], "aria-label": unread ? "未读" : null }),
            h("div", { class: "conversation-body" }, h("div", null, notice.text), h("time", { class: "muted", datetime: notice.created_at }, timeAgo(notice.created_at))),
            href ? h("span", { class: "muted", "aria-hidden": "true" }, "›") : null,
          ];
          const open = () => {
            if (unread) markRead([notice.id]).catch(() => {});
          };
          return h("li", null, href ? h("a", { class: "list-item notice", href, onclick: open }, content) : h("div", { class: "list-item notice", onclick: open }, content));
        }),
      ),
    );
  }

  async function refresh() {
    try {
      const items = await drawChats();
      await drawNotices();
      return items;
    } catch (error) {
      if (ctx.isCurrent()) clear(body).append(emptyState(error.message));
      return [];
    }
  }

  const items = await refresh();
  if (!ctx.isCurrent()) return;
  let timer;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      refresh();
      document.dispatchEvent(new Event("unread:changed"));
    }, 150);
  };
  const newest = Math.max(0, ...items.map((item) => item.last_message?.id || 0));
  const socket = new LiveSocket({ after: newest, onMessage: later, onNotice: later });
  return () => {
    socket.close();
    clearTimeout(timer);
  };
}
