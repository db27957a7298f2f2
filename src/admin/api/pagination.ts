// Keyset pagination over lists ordered by a unique text key (slug, MAC): the cursor is the last key
// of the previous page, so pages stay correct while items are added or removed between requests.

import type { FastifyReply, FastifyRequest } from 'fastify';

/** Largest page a client may ask for. */
export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 100;

/** Query fields every list accepts. */
export const PAGE_QUERY_PROPERTIES = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE, description: `items per page, 1 to ${MAX_PAGE}` },
  cursor: { type: 'string', minLength: 1, maxLength: 200, description: 'the "next" value of the previous page' },
} as const;

export interface Page<T> {
  items: T[];
  /** The cursor of the next page, or null on the last page. */
  next: string | null;
}

/** One page of `sorted` (ascending by `key`), after `cursor`. */
export function pageOf<T>(sorted: readonly T[], key: (item: T) => string, limit: number, cursor: string | undefined): Page<T> {
  const rest = cursor === undefined ? sorted : sorted.filter((item) => key(item) > cursor);
  const items = rest.slice(0, limit);
  return { items, next: rest.length > limit ? key(items[items.length - 1]!) : null };
}

/** The Link header of a page that has a next one: the same URL with `cursor` replaced. */
export function nextLink(url: string, next: string): string {
  const u = new URL(url, 'http://x');
  u.searchParams.set('cursor', next);
  return `<${u.pathname}${u.search}>; rel="next"`;
}

/**
 * The page of `items` a list request asks for (`limit`, `cursor`), sorted here by `key`, each item
 * shown through `view`; sets the Link header when there is a next page.
 */
export function replyPage<T, V>(request: FastifyRequest, reply: FastifyReply, items: readonly T[], key: (item: T) => string, view: (item: T) => V): Page<V> {
  const q = request.query as { limit: number; cursor?: string };
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const page = pageOf(sorted, key, q.limit, q.cursor);
  if (page.next !== null) reply.header('link', nextLink(request.url, page.next));
  return { items: page.items.map(view), next: page.next };
}
