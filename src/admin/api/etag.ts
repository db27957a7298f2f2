// Optimistic concurrency: an entity tag is a hash of a resource's representation, so it changes
// exactly when what the client saw changes. Edits must send it back in If-Match.

import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiProblem } from './problem-json.js';

/** A strong entity tag for a JSON representation. Keys are hashed in the order given: views build them in a fixed order. */
export function etagOf(representation: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(representation)).digest('base64url').slice(0, 27)}"`;
}

/** The tags an If-Match header lists ('*' stays as is); weak tags never match (RFC 9110 §13.1.1: strong comparison). */
export function parseIfMatch(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/**
 * Refuses an edit unless If-Match names the current tag: 428 without the header (the client must
 * read the resource first), 412 when the resource changed since the client read it.
 */
export function requireIfMatch(request: FastifyRequest, current: string): void {
  const header = request.headers['if-match'];
  if (header === undefined || header === '') {
    throw new ApiProblem(428, `this edit needs an If-Match header: GET the resource and send its ETag (currently ${current}) back in If-Match`);
  }
  const tags = parseIfMatch(Array.isArray(header) ? header.join(',') : header);
  if (tags.includes('*') || tags.includes(current)) return;
  throw new ApiProblem(412, `the resource changed since you read it (If-Match ${tags.join(', ')}, current ETag ${current}): GET it again, reapply your change, and retry`);
}
