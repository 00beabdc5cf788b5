// One order, for the buyer or the seller: its status, the deadline counting down, the
// money, the timeline of every step, and the next step for the viewer's side as a button
// (pay through the sandbox cashier, upload or watch the video, ship, track, confirm,
// dispute, rate, cancel).

import { api, auth, newIdempotencyKey } from "../../shared/api.js";
import { clear, confirmDialog, dateTime, emptyState, h, loading, promptDialog, timeLeft, toast, yuan } from "../../shared/dom.js";
import { setTitle } from "../app.js";
import { goodsByIds, goodsThumb, tradeError } from "./chat.js";

export const STATUS = {
  awaiting_payment: "待付款",
  paid: "已付款",
  video_uploaded: "待确认视频",
  video_confirmed: "待发货",
  shipped: "已发货",
  seller_completed: "卖家已确认完成",
  disputed: "纠纷处理中",
  completed: "交易完成",
  cancelled: "已取消",
  refunded: "已退款",
};

const ACTORS = { buyer: "买家", seller: "卖家", operator: "平台客服", system: "系统" };

const STEP_NAMES = {
  place: "下单",
  pay: "付款成功",
  cancel: "取消订单",
  expire: "超时未付款，自动取消",
  seller_cancel: "卖家取消，全额退款",
  upload_video: "卖家上传视频",
  video_timeout: "卖家超时未上传视频，自动退款",
  confirm_video: "买家确认视频",
  confirm_timeout: "买家超时未确认视频，自动退款",
  confirm_timeout_accept: "买家超时未确认视频，视为确认",
  ship: "卖家发货",
  ship_timeout: "卖家超时未发货，自动退款",
  mark_complete: "卖家确认完成",
  confirm_receipt: "买家确认收货",
  auto_complete: "超时自动确认收货",
  dispute: "发起纠纷",
  resolve_refund: "纠纷裁决：退款",
  resolve_partial: "纠纷裁决：部分退款",
  resolve_release: "纠纷裁决：放款给卖家",
};

/** What happens next, said to the viewer's side (and who must act). */
export function nextStep(status, role) {
  const buyer = role === "buyer";
  return (
    {
      awaiting_payment: buyer ? "请尽快付款，超时订单自动取消" : "等待买家付款",
      paid: buyer ? "等待卖家上传宝贝视频" : "请上传宝贝视频（付款后24小时内）",
      video_uploaded: buyer ? "请查看并确认卖家的视频" : "等待买家确认视频",
      video_confirmed: buyer ? "等待卖家发货" : "请尽快发货",
      shipped: buyer ? "收到宝贝后请确认收货" : "等待买家确认收货",
      seller_completed: buyer ? "卖家已确认完成，请确认收货，有问题可申请纠纷" : "等待买家确认收货",
      disputed: "平台客服处理中，请留意通知",
      completed: "交易已完成，去评价吧",
      cancelled: "订单已取消",
      refunded: "款项已原路退回",
    }[status] || ""
  );
}

const DEADLINE_WORDS = {
  awaiting_payment: "付款剩余",
  paid: "上传视频剩余",
  video_uploaded: "确认视频剩余",
  video_confirmed: "发货剩余",
  shipped: "自动确认收货剩余",
  seller_completed: "自动确认收货剩余",
};

const CARRIERS = [
  ["SF", "顺丰速运"],
  ["ZTO", "中通快递"],
  ["YTO", "圆通速递"],
  ["YD", "韵达快递"],
  ["STO", "申通快递"],
  ["EMS", "中国邮政EMS"],
  ["JD", "京东物流"],
  ["JT", "极兔速递"],
  ["DBL", "德邦快递"],
];

function say(error) {
  return tradeError(error);
}

/** Upload with progress (fetch cannot report it); resolves to the order or rejects with {code, message}. */
function uploadVideo(orderId, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1/orders/${orderId}/video`);
    request.setRequestHeader("Authorization", `Bearer ${auth.token}`);
    request.upload.addEventListener("progress", (event) => event.lengthComputable && onProgress(event.loaded / event.total));
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // A proxy's page, say; the status speaks for it.
      }
      if (request.status < 400) resolve(body);
      else reject({ code: body?.code || (request.status === 413 ? "payload_too_large" : "http_error"), serverMessage: body?.message, message: body?.message || `上传失败 (${request.status})` });
    });
    request.addEventListener("error", () => reject({ code: "network_error", message: "网络连接失败，请检查网络" }));
    const form = new FormData();
    form.append("file", file);
    request.send(form);
  });
}

export default async function render(view, ctx) {
  const id = Number(ctx.params.id);
  const timers = [];
  const objectUrls = [];
  let alive = true;
  view.append(loading());

  async function load() {
    return api(`/orders/${id}`);
  }

  let order;
  try {
    order = await load();
  } catch (error) {
    clear(view).append(emptyState(say(error), h("a", { class: "btn", href: "#/orders" }, "我的订单")));
    return;
  }
  if (!ctx.isCurrent()) return;

  async function redraw(fresh) {
    order = fresh || (await load());
    if (!alive) return;
    await draw();
  }

  async function step(run, success) {
    try {
      const fresh = await run();
      if (success) toast(success);
      await redraw(fresh && fresh.status ? fresh : null);
    } catch (error) {
      toast(say(error), "error");
      console.error(error);
      redraw().catch(() => {});
    }
  }

  const post = (path, body, idempotencyKey) => () => api(`/orders/${id}/${path}`, { method: "POST", body, idempotencyKey });

  async function pay() {
    // One key per visit: a double tap or a retry starts one payment.
    const payment = await api(`/orders/${id}/pay`, { method: "POST", idempotencyKey: payKey });
    const ok = await confirmDialog(`模拟支付：向平台担保账户支付 ${yuan(payment.amount)}（沙箱收银台）`);
    if (!ok) return;
    const status = h("div", { class: "state", role: "status" }, "支付处理中…");
    actions.replaceChildren(status);
    await fetch(payment.pay_url, { method: "POST" }).then((answer) => {
      if (!answer.ok) throw new Error("支付失败，请重试");
    });
    // The gateway's signed notification arrives within about a second.
    for (let tries = 0; tries < 30 && alive; tries += 1) {
      await new Promise((done) => setTimeout(done, 500));
      const fresh = await load();
      if (fresh.status !== "awaiting_payment") {
        toast("支付成功");
        await redraw(fresh);
        return;
      }
    }
    status.textContent = "支付结果确认中，请稍后刷新";
  }
  const payKey = newIdempotencyKey();

  async function ship() {
    const data = await promptDialog({
      title: "填写发货信息",
      fields: [
        { name: "carrier", label: "快递公司", type: "select", options: CARRIERS, required: true },
        { name: "tracking_number", label: "快递单号", required: true, placeholder: "8–30位字母或数字" },
      ],
      submitText: "确认发货",
    });
    if (!data) return;
    await step(post("ship", { carrier: data.get("carrier"), tracking_number: String(data.get("tracking_number")).trim() }), "已发货");
  }

  async function dispute() {
    const data = await promptDialog({ title: "申请纠纷", fields: [{ name: "reason", label: "原因（至少2个字）", type: "textarea", required: true, maxlength: 1000 }], submitText: "提交" });
    if (!data) return;
    await step(post("dispute", { reason: String(data.get("reason")).trim() }), "已提交，平台客服将介入处理");
  }

  async function cancel() {
    const data = await promptDialog({ title: "取消订单", fields: [{ name: "reason", label: "原因（选填）", maxlength: 1000 }], submitText: "确认取消" });
    if (!data) return;
    await step(post("cancel", { reason: String(data.get("reason") || "") }), "订单已取消");
  }

  async function rate() {
    const data = await promptDialog({
      title: order.your_role === "buyer" ? "评价卖家" : "评价买家",
      fields: [
        { name: "score", label: "评分", type: "select", required: true, options: [["5", "★★★★★ 5分 非常满意"], ["4", "★★★★ 4分 满意"], ["3", "★★★ 3分 一般"], ["2", "★★ 2分 不满意"], ["1", "★ 1分 很差"]] },
        { name: "comment", label: "评价内容（选填）", type: "textarea", maxlength: 500 },
      ],
      submitText: "提交评价",
    });
    if (!data) return;
    await step(async () => {
      await api(`/orders/${id}/rating`, { method: "POST", body: { score: Number(data.get("score")), comment: String(data.get("comment") || "") } });
      return null;
    }, "评价成功");
  }

  async function confirmReceipt() {
    if (!(await confirmDialog("确认已收到宝贝？确认后款项将打给卖家"))) return;
    await step(post("confirm-receipt", undefined, receiptKey), "已确认收货，交易完成");
  }
  const receiptKey = newIdempotencyKey();

  async function showVideo(box) {
    box.replaceChildren(h("div", { class: "muted", role: "status" }, "视频加载中…"));
    try {
      const answer = await fetch(order.video_url, { headers: { Authorization: `Bearer ${auth.token}` } });
      if (!answer.ok) throw new Error("视频加载失败");
      const url = URL.createObjectURL(await answer.blob());
      objectUrls.push(url);
      box.replaceChildren(h("video", { class: "order-video", src: url, controls: true, playsInline: true, preload: "metadata", "aria-label": "卖家上传的宝贝视频" }));
    } catch (error) {
      box.replaceChildren(h("div", { class: "chat-error" }, error.message));
    }
  }

  function videoUploader() {
    const progress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "上传进度" });
    const note = h("div", { class: "muted", role: "status" });
    const input = h("input", {
      type: "file",
      accept: "video/mp4,video/quicktime",
      "aria-label": "选择宝贝视频",
      class: "visually-hidden",
      onchange: async () => {
        const file = input.files?.[0];
        if (!file) return;
        progress.hidden = false;
        note.textContent = "上传中…";
        try {
          const fresh = await uploadVideo(id, file, (part) => {
            progress.value = part;
            note.textContent = `上传中 ${Math.round(part * 100)}%`;
          });
          toast("视频已上传，等待买家确认");
          await redraw(fresh);
        } catch (error) {
          progress.hidden = true;
          note.textContent = `上传失败：${say(error)}`;
          input.value = "";
        }
      },
    });
    return h(
      "div",
      { class: "order-upload" },
      h("label", { class: "btn btn-primary btn-block" }, "上传宝贝视频", input),
      h("div", { class: "muted" }, "MP4 或 MOV，3 秒到 3 分钟，拍清宝贝外观和功能"),
      progress,
      note,
    );
  }

  async function showTracking(box) {
    box.replaceChildren(h("div", { class: "muted", role: "status" }, "物流查询中…"));
    try {
      const tracking = await api(`/orders/${id}/tracking`);
      box.replaceChildren(
        h(
          "section",
          { class: "card order-section", "aria-label": "物流信息" },
          h("h2", null, `${tracking.carrier_name} ${tracking.tracking_number}`),
          h(
            "ol",
            { class: "timeline" },
            [...tracking.events].reverse().map((event) => h("li", null, h("div", null, event.description), h("time", { class: "muted", datetime: event.at }, dateTime(event.at)))),
          ),
        ),
      );
    } catch (error) {
      box.replaceChildren(h("div", { class: "chat-error" }, say(error)));
    }
  }

  const actions = h("div", { class: "order-actions" });

  async function draw() {
    const role = order.your_role;
    const buyer = role === "buyer";
    const goods = (await goodsByIds([order.goods_id])).get(order.goods_id);
    setTitle(`订单 #${order.id}`);
    const buttons = [];
    const extra = h("div", { class: "order-extra" });
    const s = order.status;
    if (buyer && s === "awaiting_payment") buttons.push(h("button", { type: "button", class: "btn btn-accent", onclick: () => pay().catch((error) => (toast(say(error), "error"), redraw())) }, `去付款 ${yuan(order.price)}`));
    if (s === "awaiting_payment" || (!buyer && s === "paid")) buttons.push(h("button", { type: "button", class: "btn", onclick: cancel }, "取消订单"));
    if (!buyer && s === "paid") extra.append(videoUploader());
    if (order.video_url) {
      const box = h("div", { class: "order-video-box" });
      extra.append(h("section", { class: "card order-section", "aria-label": "宝贝视频" }, h("h2", null, "宝贝视频"), box));
      if (buyer && s === "video_uploaded") {
        showVideo(box);
        buttons.push(h("button", { type: "button", class: "btn btn-primary", onclick: () => step(post("confirm-video"), "已确认视频，等待卖家发货") }, "确认视频无误"));
      } else box.append(h("button", { type: "button", class: "btn btn-small", onclick: () => showVideo(box) }, "观看视频"));
    }
    if (!buyer && s === "video_confirmed") buttons.push(h("button", { type: "button", class: "btn btn-primary", onclick: ship }, "去发货"));
    if (order.shipped_at) {
      const box = h("div");
      extra.append(box);
      buttons.push(h("button", { type: "button", class: "btn", onclick: () => showTracking(box) }, "查看物流"));
    }
    if (!buyer && s === "shipped") buttons.push(h("button", { type: "button", class: "btn", onclick: () => step(post("mark-complete"), "已确认完成") }, "确认交易完成"));
    if (buyer && (s === "shipped" || s === "seller_completed")) buttons.push(h("button", { type: "button", class: "btn btn-primary", onclick: confirmReceipt }, "确认收货"));
    if (["paid", "video_uploaded", "video_confirmed", "shipped", "seller_completed"].includes(s)) buttons.push(h("button", { type: "button", class: "btn btn-danger", onclick: dispute }, "申请纠纷"));
    const rated = order.ratings.some((rating) => rating.rater_id === auth.user?.id);
    if (s === "completed" && !rated) buttons.push(h("button", { type: "button", class: "btn btn-primary", onclick: rate }, "去评价"));
    actions.replaceChildren(...buttons);

    const deadline = order.due_at && DEADLINE_WORDS[s] ? h("div", { class: "order-deadline" }, `${DEADLINE_WORDS[s]} `, h("strong", { class: "countdown", dataset: { due: order.due_at } }, timeLeft(order.due_at))) : null;
    const timeline = h(
      "ol",
      { class: "timeline", "aria-label": "订单进度" },
      [...order.timeline].reverse().map((entry) =>
        h(
          "li",
          null,
          h("div", null, h("strong", null, STEP_NAMES[entry.name] || entry.name), " · ", ACTORS[entry.actor] || entry.actor),
          h("div", { class: "muted" }, `${entry.from_status ? STATUS[entry.from_status] : "—"} → ${STATUS[entry.to_status]}`, entry.note ? `（${entry.note}）` : ""),
          h("time", { class: "muted", datetime: entry.at }, dateTime(entry.at)),
        ),
      ),
    );
    const ratings = order.ratings.length
      ? h(
          "section",
          { class: "card order-section", "aria-label": "评价" },
          h("h2", null, "评价"),
          order.ratings.map((rating) =>
            h("div", { class: "order-rating" }, h("span", { "aria-label": `${rating.score}星` }, "★".repeat(rating.score) + "☆".repeat(5 - rating.score)), " ", rating.ratee_role === "seller" ? "买家评价卖家" : "卖家评价买家", rating.comment ? h("div", null, rating.comment) : null),
          ),
        )
      : null;
    const disputeBox = order.dispute
      ? h("section", { class: "card order-section", "aria-label": "纠纷" }, h("h2", null, "纠纷"), h("div", null, `${ACTORS[order.dispute.opener]}：${order.dispute.reason}`), order.dispute.resolution_note ? h("div", { class: "muted" }, order.dispute.resolution_note) : null)
      : null;

    clear(view).append(
      h(
        "div",
        { class: "order-page" },
        h(
          "section",
          { class: ["order-status", `status-${s}`], "aria-label": "订单状态" },
          h("div", { class: "order-status-name" }, STATUS[s] || s),
          h("div", null, nextStep(s, role)),
          deadline,
        ),
        h(
          "a",
          { class: "card order-goods", href: `#/goods/${order.goods_id}` },
          goodsThumb(goods, 64),
          h("div", { class: "conversation-body" }, h("div", { class: "chat-goods-title" }, goods?.title || `宝贝 #${order.goods_id}`), h("span", { class: "tag" }, buyer ? "我是买家" : "我是卖家")),
        ),
        h(
          "section",
          { class: "card order-section", "aria-label": "金额" },
          h("dl", { class: "order-money" }, h("dt", null, "成交价"), h("dd", { class: "price" }, yuan(order.price)), h("dt", null, `平台服务费（${order.commission_rate_bp / 100}%）`), h("dd", null, yuan(order.commission)), h("dt", null, "卖家实收"), h("dd", null, yuan(order.seller_receives))),
          h("div", { class: "muted" }, `订单号 ${order.id} · 下单 ${dateTime(order.created_at)}`),
        ),
        extra,
        disputeBox,
        ratings,
        h("section", { class: "card order-section", "aria-label": "订单进度" }, h("h2", null, "订单进度"), timeline),
        actions.childElementCount ? h("div", { class: "action-bar order-bar" }, actions) : null,
      ),
    );
  }

  await draw();
  timers.push(
    setInterval(() => {
      for (const element of view.querySelectorAll(".countdown")) element.textContent = timeLeft(element.dataset.due);
    }, 1000),
  );
  return () => {
    alive = false;
    timers.forEach(clearInterval);
    objectUrls.forEach((url) => URL.revokeObjectURL(url));
  };
}
