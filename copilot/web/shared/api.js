/* Support Copilot consoles: JSON over fetch with a bearer token, API errors as ApiError. */

/** An API refusal: HTTP `status`, the error envelope's `code`, `message` and `details`. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

/** A request function bound to `getToken()`: request(method, path, body?, headers?) → {data, etag}.
    `onUnauthorized(message)` (optional) runs before a 401 is thrown, e.g. to sign out. */
export function client(getToken, onUnauthorized) {
  return async function request(method, path, body, extraHeaders) {
    const headers = { Authorization: `Bearer ${getToken()}`, Accept: "application/json", ...(extraHeaders || {}) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw refusal(res.status, data, onUnauthorized);
    return { data, etag: res.headers.get("ETag") };
  };
}

function refusal(status, data, onUnauthorized) {
  const err = (data && data.error) || {};
  let message = err.message || `HTTP ${status}`;
  if (!err.message && Array.isArray(data && data.detail)) message = data.detail.map((d) => d.msg).join("; ");
  if (status === 401 && onUnauthorized) onUnauthorized(err.message || "Your token was refused; paste a new one.");
  return new ApiError(status, err.code || String(status), message, err.details);
}
