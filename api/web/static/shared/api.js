// The JSON API as the pages see it: one `api()` call, the login kept in localStorage,
// refusals turned into ApiError with a Chinese message people can act on.

const TOKEN_KEY = "idlemarket.token";
const USER_KEY = "idlemarket.user";
export const API_PREFIX = "/api/v1";

// Stable error codes the API returns, in the words a shopper understands. Anything not
// here falls back to the server's own message.
const MESSAGES = {
  not_authenticated: "请先登录",
  permission_denied: "没有权限进行此操作",
  not_found: "内容不存在或已下架",
  validation_error: "填写的内容有误，请检查",
  invalid_input: "填写的内容有误，请检查",
  rate_limited: "操作太频繁，请稍后再试",
  concurrent_change: "内容刚刚被修改，请刷新后重试",
  internal_error: "服务器开小差了，请稍后再试",
  network_error: "网络连接失败，请检查网络",
  bad_credentials: "账号或密码错误",
  login_taken: "该手机号或邮箱已注册",
  account_disabled: "账号已被停用",
  goods_not_available: "宝贝已被拍下或已下架",
  deadline_passed: "已超过操作期限",
  // Orders, bargaining and videos.
  already_rated: "你已经评价过了",
  below_floor: "出价低于卖家可接受的最低价，再加一点吧",
  conversation_not_found: "会话不存在或无权查看",
  invalid_order_state: "订单状态已变化，请刷新后重试",
  invalid_price: "价格不正确",
  invalid_reason: "请填写原因（至少2个字）",
  invalid_tracking_number: "快递单号应为8–30位字母或数字",
  invalid_video: "视频无法识别，请换一个文件",
  no_bargaining: "卖家设置了不议价",
  no_video_track: "文件中没有视频画面",
  not_your_step: "这一步不由你操作",
  offer_closed: "这个出价已经处理过了",
  offer_expired: "出价已过期",
  offer_not_found: "出价不存在",
  order_not_found: "订单不存在，或你不是该订单的买家或卖家",
  own_goods: "不能购买自己的宝贝",
  payload_too_large: "文件太大，请压缩后再上传",
  request_in_progress: "正在处理中，请稍候",
  too_many_unpaid_orders: "待付款订单太多，请先处理",
  unknown_carrier: "请选择快递公司",
  unsupported_video_type: "只支持 MP4 或 MOV 视频",
  video_too_large: "视频太大（最大100MB），请压缩后再上传",
  video_too_long: "视频太长（最长3分钟）",
  video_too_short: "视频太短（至少3秒）",
  // Publishing, photos, verification and the wallet.
  invalid_length: "长度不符合要求",
  photo_required: "请至少添加一张照片",
  photo_empty: "照片是空的",
  photo_too_large: "照片太大了，请选择 10MB 以内的照片",
  photo_type_unsupported: "只支持 JPEG、PNG、WebP 格式的照片",
  photo_too_many_pixels: "照片分辨率太高，请压缩后再传",
  photo_corrupt: "照片无法读取，可能已损坏",
  invalid_id_number: "身份证号码不正确",
  invalid_account_number: "账号格式不正确",
  amount_too_small: "提现金额至少 ¥1",
  // The console.
  invalid_link: "跳转链接须为站内路径（以 / 开头）或 https:// 地址",
  invalid_schedule: "结束时间须晚于开始时间",
};

/** Our wording of an API refusal code, or undefined when we have none. */
export function messageFor(code) {
  return Object.hasOwn(MESSAGES, code ?? "") ? MESSAGES[code] : undefined;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(MESSAGES[body?.code] || body?.message || `请求失败 (${status})`);
    this.status = status;
    this.code = body?.code || "http_error";
    this.serverMessage = body?.message || "";
    this.fields = body?.fields || [];
    this.body = body;
  }
}

export const auth = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  get user() {
    const raw = localStorage.getItem(USER_KEY);
    return raw ? JSON.parse(raw) : null;
  },
  save(token, user) {
    localStorage.setItem(TOKEN_KEY, token);
    localStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  updateUser(user) {
    localStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(USER_KEY);
  },
};

function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * Call the API. `path` is under /api/v1 (or absolute when it starts with /api/ or http).
 * `body` is sent as JSON, `form` (FormData) as multipart. Resolves to the parsed JSON (or
 * null for 204); rejects with ApiError.
 */
export async function api(path, { method = "GET", body, form, query, idempotencyKey, signal } = {}) {
  const url = path.startsWith("/api/") || path.startsWith("http") ? path : API_PREFIX + path;
  const headers = {};
  const token = auth.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url + queryString(query), { method, headers, body: payload, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { code: "network_error" });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    // A revoked or expired session: forget it so the next page asks to log in again.
    if (response.status === 401 && token) auth.clear();
    throw new ApiError(response.status, data);
  }
  return data;
}

/** A fresh key for one user action, so a double tap or a retry moves money once. */
export function newIdempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

/** Log in (email or phone) and remember the session. */
export async function login(identity, password) {
  const field = identity.includes("@") ? "email" : "phone";
  const result = await api("/auth/login", { method: "POST", body: { [field]: identity, password } });
  auth.save(result.token, result.user);
  return result.user;
}

export async function logout() {
  try {
    await api("/auth/logout", { method: "POST" });
  } catch {
    // The session may already be gone on the server; forgetting it here is what matters.
  }
  auth.clear();
}
