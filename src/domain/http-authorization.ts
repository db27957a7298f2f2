// Parses the Authorization header phones send after a 401: Basic or Digest (RFC 7617 / RFC 7616).
// Only parsing lives here; checking the answer needs the tenant's secrets and is the core's job.

export interface DigestAnswer {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  algorithm?: string;
  opaque?: string;
}

export type Authorization =
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'digest'; answer: DigestAnswer };

const MAX_HEADER = 4096;

export function parseAuthorization(header: string | undefined): Authorization | null {
  if (!header || header.length > MAX_HEADER) return null;
  const space = header.indexOf(' ');
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const rest = header.slice(space + 1).trim();
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    return { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (scheme === 'digest') {
    const params = parseAuthParams(rest);
    const need = ['username', 'realm', 'nonce', 'uri', 'response'] as const;
    if (!params || need.some((k) => params.get(k) === undefined)) return null;
    const answer: DigestAnswer = {
      username: params.get('username')!,
      realm: params.get('realm')!,
      nonce: params.get('nonce')!,
      uri: params.get('uri')!,
      response: params.get('response')!,
    };
    for (const k of ['qop', 'nc', 'cnonce', 'algorithm', 'opaque'] as const) {
      const v = params.get(k);
      if (v !== undefined) answer[k] = v;
    }
    return { scheme: 'digest', answer };
  }
  return null;
}

/** `a=b, c="d, e", f="g\"h"` → Map; null when malformed. */
export function parseAuthParams(text: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ' ' || text[i] === ',' || text[i] === '\t')) i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) return null;
    const key = text.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z0-9_-]+$/.test(key)) return null;
    i = eq + 1;
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      if (text[i] !== '"') return null;
      i++;
    } else {
      const end = text.slice(i).search(/[,\s]/);
      value = end < 0 ? text.slice(i) : text.slice(i, i + end);
      i = end < 0 ? text.length : i + end;
    }
    out.set(key, value);
  }
  return out;
}
