import { randomInt } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerBase } from 'fastify';
import type { Logger as PinoLogger } from 'pino';

// After a power cut thousands of phones boot at once. Past some number of requests in flight,
// serving one more only slows every other down until phones time out and retry, so the edge
// answers the excess at once with 503 and a Retry-After, which phones honour by coming back later.

export interface LoadSheddingOptions {
  /** Requests in flight in this edge (so per worker process) before new ones get 503; 0 = off. */
  maxInFlight: number;
  /**
   * The Retry-After base, in whole seconds. Each 503 adds 0 to retryAfterSeconds/2 random seconds,
   * so the phones shed in one burst do not all come back in the same second.
   */
  retryAfterSeconds: number;
  logger: PinoLogger;
}

/** What the edge's shedding is doing now. */
export interface LoadShedding {
  /** Requests admitted and not yet finished (answered, or their connection closed). */
  inFlight(): number;
  /** Requests answered 503 since the edge started. */
  shedCount(): number;
}

const DECORATOR = 'loadShedding';
/** An episode ends once this long passes without shedding: start and stop are logged, not each 503. */
const SETTLE_MS = 1000;

/** The shedding installed on an edge, or null when it is off. */
export function loadSheddingOf(app: Pick<FastifyInstance, 'hasDecorator' | 'getDecorator'>): LoadShedding | null {
  return app.hasDecorator(DECORATOR) ? app.getDecorator<LoadShedding>(DECORATOR) : null;
}

/**
 * Counts each request from onRequest until its response finishes or its connection closes, and
 * answers `503 Service Unavailable` (Retry-After, Connection: close) when maxInFlight are already
 * in flight. Register it before any other hook so a shed request costs nothing else. Returns null
 * and installs nothing when maxInFlight is 0.
 */
export function installLoadShedding<S extends RawServerBase, L extends FastifyBaseLogger>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, L>,
  opts: LoadSheddingOptions,
): LoadShedding | null {
  const { maxInFlight, retryAfterSeconds, logger } = opts;
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 0) {
    throw new Error(`maxInFlight must be a whole number of requests, 0 to turn load shedding off (got ${maxInFlight})`);
  }
  if (!Number.isSafeInteger(retryAfterSeconds) || retryAfterSeconds < 1) {
    throw new Error(`retryAfterSeconds must be a whole number of seconds, at least 1 (got ${retryAfterSeconds})`);
  }
  if (maxInFlight === 0) return null;

  let inFlight = 0;
  let shedTotal = 0;
  let episode: { startedAt: number; shed: number; shedSinceCheck: number; timer: NodeJS.Timeout } | null = null;

  const endEpisode = () => {
    if (!episode) return;
    clearInterval(episode.timer);
    logger.info({ shed: episode.shed, durationMs: Date.now() - episode.startedAt, maxInFlight, inFlight }, 'load shedding stopped');
    episode = null;
  };
  const checkEpisode = () => {
    if (episode && episode.shedSinceCheck === 0) endEpisode();
    else if (episode) episode.shedSinceCheck = 0;
  };
  /** Counts a shed request and gives its Retry-After: base plus 0 to base/2 seconds of jitter. */
  const shed = (): number => {
    shedTotal += 1;
    if (!episode) {
      logger.warn({ maxInFlight, inFlight, retryAfterSeconds }, `load shedding started: ${inFlight} requests in flight, answering 503 until some finish`);
      // unref: an idle episode timer must not keep a closing process alive.
      episode = { startedAt: Date.now(), shed: 0, shedSinceCheck: 0, timer: setInterval(checkEpisode, SETTLE_MS).unref() };
    }
    episode.shed += 1;
    episode.shedSinceCheck += 1;
    return retryAfterSeconds + randomInt(0, Math.floor(retryAfterSeconds / 2) + 1);
  };
  const release = () => {
    inFlight -= 1;
  };

  app.addHook('onRequest', (_req, reply, done) => {
    if (inFlight >= maxInFlight) {
      // Connection: close, so a shed phone holds no socket either and any body it sends is not read.
      // The reply is sent here; not calling done() ends the request's lifecycle.
      void reply.code(503).header('retry-after', String(shed())).header('connection', 'close').type('text/plain; charset=utf-8').send('server busy, retry later\n');
      return;
    }
    inFlight += 1;
    // 'close' fires exactly once per response: when it finished, or when the client went away first.
    reply.raw.once('close', release);
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    endEpisode();
    done();
  });

  const handle: LoadShedding = { inFlight: () => inFlight, shedCount: () => shedTotal };
  app.decorate(DECORATOR, handle);
  return handle;
}
