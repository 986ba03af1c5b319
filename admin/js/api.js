// The console's one way to the server: same-origin fetch with the session cookie, the CSRF
// token on every write, JSON errors turned into exceptions with the server's message.

let session = null;
let onLoggedOut = () => {};

export function currentSession() { return session; }
export function setLoggedOutHandler(fn) { onLoggedOut = fn; }

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function parse(resp) {
  const type = resp.headers.get('content-type') || '';
  if (resp.status === 204) return null;
  return type.includes('json') ? resp.json() : resp.text();
}

/** Calls the server; `body` is sent as JSON unless it is FormData. */
export async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET' && method !== 'HEAD' && session) headers['X-CSRF-Token'] = session.csrf_token;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const resp = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const data = await parse(resp);
  if (resp.status === 401 && session) { session = null; onLoggedOut(); }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path) => api('GET', path);

/** The session of the cookie, or null. */
export async function loadSession() {
  try { session = await api('GET', '/admin/auth/session'); } catch { session = null; }
  return session;
}

export async function login(username, password) {
  session = await api('POST', '/admin/auth/login', { username, password });
  return session;
}

export async function logout() {
  try { await api('POST', '/admin/auth/logout'); } finally { session = null; }
}

/** What the signed-in role may do; the server enforces the same rules anyway. */
export function can(action) {
  const role = session && session.role;
  const rules = {
    requeue: ['admin', 'submitter'],
    delete: ['admin'],
    mappings_write: ['admin'],
    jobs_read: ['admin', 'viewer'],
    jobs_run: ['admin'],
    queue_read: ['admin', 'viewer'],
    users: ['admin'],
    rules_read: ['admin', 'viewer'],
    rules_write: ['admin'],
    alerts_read: ['admin', 'viewer'],
    alerts_ack: ['admin'],
    deliveries_retry: ['admin'],
    requeue_filter: ['admin'],
  };
  return (rules[action] || []).includes(role);
}

/** A query string from an object, without empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
