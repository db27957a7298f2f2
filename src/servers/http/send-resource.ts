import parseRange from 'range-parser';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Resource } from '../../provisioning/core.js';

/**
 * Writes a resource with the HTTP semantics phones and tools rely on: HEAD, ETag revalidation and
 * single byte ranges (phones abort image downloads once they have read the header; a resumed
 * download asks for the rest).
 *
 * A resource whose first bytes are gone (`heldFrom`, a rotated phone log) keeps its full size, so
 * HEAD gives the length the phone counts from; a GET then gets what is held: 206 with
 * `Content-Range: bytes HELD-END/SIZE` without a Range header, 416 for a range reaching below.
 */
export function sendResource(req: FastifyRequest, reply: FastifyReply, res: Resource): FastifyReply {
  const size = res.kind === 'generated' ? res.body.length : res.size;
  reply.header('etag', res.etag);
  reply.header('content-type', res.contentType);
  reply.header('accept-ranges', 'bytes');
  reply.header('cache-control', 'no-cache');

  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === res.etag || t.trim() === '*')) {
    return reply.code(304).send();
  }

  const heldFrom = res.kind === 'stream' ? Math.min(res.heldFrom ?? 0, size) : 0;
  let start = 0;
  let end = size - 1;
  let ranged = false;
  const rangeHeader = req.headers.range;
  const ifRange = req.headers['if-range'];
  if (rangeHeader && (!ifRange || ifRange === res.etag)) {
    const ranges = parseRange(size, rangeHeader, { combine: true });
    if (ranges === -1) {
      reply.header('content-range', `bytes */${size}`);
      return reply.code(416).send();
    }
    // Several ranges would need multipart/byteranges, which no phone asks for: send the whole file.
    if (ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) {
      start = ranges[0]!.start;
      end = ranges[0]!.end;
      ranged = true;
    }
  }
  if (heldFrom > 0 && req.method !== 'HEAD' && start < heldFrom) {
    if (ranged || heldFrom >= size) {
      reply.header('content-range', `bytes */${size}`);
      return reply.code(416).send();
    }
    start = heldFrom;
    ranged = true;
  }
  if (ranged) {
    reply.code(206);
    reply.header('content-range', `bytes ${start}-${end}/${size}`);
  }
  const length = size === 0 ? 0 : end - start + 1;
  reply.header('content-length', length);
  if (req.method === 'HEAD' || length === 0) return reply.send();
  if (res.kind === 'generated') return reply.send(start === 0 && end === size - 1 ? res.body : res.body.subarray(start, end + 1));
  const stream = res.open({ start, end });
  // A client that hangs up mid-body must not leave a file descriptor open.
  reply.raw.once('close', () => stream.destroy());
  return reply.send(stream);
}
