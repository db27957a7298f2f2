// Turns the raw request target of any protocol into the segments of a path inside a tenant's tree,
// refusing everything that could name something outside it. Every edge calls this before the core
// looks anything up, so there is exactly one place where traversal is stopped.

export type PathRefusal = { ok: false; problem: 'bad-path' | 'too-long'; reason: string };
export type RequestPath = { ok: true; segments: string[] };

export const MAX_PATH_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;
const MAX_SEGMENTS = 16;

export function parseRequestPath(target: string): RequestPath | PathRefusal {
  if (target.length > MAX_PATH_LENGTH) {
    return { ok: false, problem: 'too-long', reason: `path longer than ${MAX_PATH_LENGTH} characters` };
  }
  // Phones send origin-form paths. An absolute URL in the request line is a proxy request:
  // refusing it keeps the Host-based tenant choice the only one.
  if (!target.startsWith('/')) {
    return { ok: false, problem: 'bad-path', reason: 'request target must be a path starting with "/"' };
  }
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue; // "//" and trailing "/" collapse, as phones build paths from directory attributes
    if (/%(2f|5c|00)/i.test(raw)) {
      return { ok: false, problem: 'bad-path', reason: 'encoded "/", "\\" or NUL in path' };
    }
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return { ok: false, problem: 'bad-path', reason: 'malformed percent-encoding in path' };
    }
    if (seg === '.' || seg === '..') {
      return { ok: false, problem: 'bad-path', reason: 'path segments "." and ".." are not allowed' };
    }
    // eslint-disable-next-line no-control-regex
    if (/[\\\u0000-\u001f\u007f]/.test(seg)) {
      return { ok: false, problem: 'bad-path', reason: 'backslash or control character in path' };
    }
    if (seg.length > MAX_SEGMENT_LENGTH) {
      return { ok: false, problem: 'too-long', reason: `path segment longer than ${MAX_SEGMENT_LENGTH} characters` };
    }
    segments.push(seg);
  }
  if (segments.length > MAX_SEGMENTS) {
    return { ok: false, problem: 'too-long', reason: `more than ${MAX_SEGMENTS} path segments` };
  }
  return { ok: true, segments };
}

/**
 * Checks a path an administrator gives for a file in a tenant's tree (`licenses/x.cfg`) and returns
 * it in canonical form; throws with a message that says what is wrong.
 */
export function canonicalTreePath(input: string): string {
  const parsed = parseRequestPath('/' + input.replace(/^\/+/, ''));
  if (!parsed.ok) throw new Error(`invalid path "${input}": ${parsed.reason}`);
  if (parsed.segments.length === 0) throw new Error('invalid path: empty');
  return parsed.segments.join('/');
}
