// The console's one way to the admin REST API: JSON in and out, the session's CSRF token on every
// change, ETags kept for If-Match, and problem+json errors turned into ApiError with their detail.

/** An answer of the API that is not 2xx; `detail` is the API's sentence saying what to fix. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** A JSON body with the ETag it came with (null when the route sends none). */
export interface Tagged<T> {
  data: T;
  etag: string | null;
}

let csrfToken: string | null = null;

/** Set from the login answer or GET /api/v1/me; cleared on logout. Kept in memory only. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** The session's CSRF header for a request that cannot go through `request` (an upload with progress). */
export function csrfHeaders(): Record<string, string> {
  return csrfToken ? { 'x-csrf-token': csrfToken } : {};
}

interface RequestOptions {
  body?: unknown;
  ifMatch?: string | null;
}

/** One request; resolves with the JSON body (undefined for 204) and the ETag. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Tagged<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  const json: unknown = text === '' ? undefined : safeJson(text);
  if (!res.ok) {
    const detail = (json as { detail?: string; title?: string } | undefined)?.detail ?? (json as { title?: string } | undefined)?.title ?? `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, detail);
  }
  return { data: json as T, etag: res.headers.get('etag') };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

/** For a path segment taken from user input or data. */
export const seg = encodeURIComponent;

/** A short sentence for any error a page catches. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.status === 412 ? `${err.detail} — reload to see the current values, then try again.` : err.detail;
  return err instanceof Error ? err.message : String(err);
}
