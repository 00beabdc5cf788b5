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
  goods_not_available: "宝贝已被拍下或已下架",
  deadline_passed: "已超过操作期限",
};

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
