// The console's API client: JSON in and out, the CSRF token on every
// request that changes something, and a trip to the login page when the
// session has ended.

export const base = '/_hydrant/ui';

let csrf = '';

// The server's answers to a request without a valid signature or session.
const authErrors = new Set(['MissingAuthenticationTokenException', 'IncompleteSignatureException',
  'InvalidSignatureException', 'UnrecognizedClientException', 'ExpiredTokenException']);

/** An error answer of the API: its message is meant for the user. */
export class ApiError extends Error {
  constructor(message, status, type) {
    super(message);
    this.status = status;
    this.type = type || '';
  }
}

export function setCSRF(token) {
  csrf = token || '';
}

/** Sends the user to the login page, back here afterwards. */
export function toLogin() {
  const next = location.pathname + location.search;
  location.assign(`${base}/login?next=${encodeURIComponent(next)}`);
}

/**
 * Calls the console's API at path (under /_hydrant/ui/api).
 * @param {string} path
 * @param {{method?: string, body?: any, signal?: AbortSignal}} [opts]
 */
export async function api(path, opts = {}) {
  const method = opts.method || 'GET';
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const resp = await fetch(`${base}/api${path}`, {
    method, headers, body, signal: opts.signal, credentials: 'same-origin', cache: 'no-store',
  });
  let data = {};
  try {
    data = await resp.json();
  } catch {
    // an empty or non-JSON body: the status says enough
  }
  // 401 is the console's "log in"; the server refuses a request with no
  // live session as it refuses an unsigned one.
  if (resp.status === 401 || (resp.status === 403 && authErrors.has(data.type))) {
    toLogin();
    throw new ApiError('Your session has ended: log in again.', resp.status);
  }
  if (!resp.ok) throw new ApiError(data.error || `${resp.status} ${resp.statusText}`, resp.status, data.type);
  return data;
}

/** Path of an API resource named by user-given parts, each escaped. */
export function path(strings, ...parts) {
  return strings.reduce((out, s, i) => out + s + (i < parts.length ? encodeURIComponent(parts[i]) : ''), '');
}
