import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { TLSSocket } from 'node:tls';
import type { PhoneRequest, Problem, Protocol, ProvisioningCore, Refusal } from '../../provisioning/core.js';
import { challengeHeaders, credentialsFromHeader } from './credentials-from-header.js';
import { installLoadShedding } from './load-shedding.js';
import { sendResource } from './send-resource.js';

export interface HttpEdgeOptions {
  logger: PinoLogger;
  tls?: { key: string | Buffer; cert: string | Buffer; requestClientCert: boolean };
  /** Connections idle longer than this are closed; phones open one connection per file anyway. */
  keepAliveTimeoutMs?: number;
  /** A connection that moves no byte for this long (a stalled upload, say) is closed. */
  idleTimeoutMs?: number;
  /**
   * Requests in flight in this edge (per worker process) before new ones are answered 503 with a
   * Retry-After (see load-shedding.ts); undefined or 0 = never shed.
   */
  maxInFlight?: number;
  /** The Retry-After base of a shed request, in seconds (plus up to half again of jitter); default 10. */
  retryAfterSeconds?: number;
}

const STATUS: Record<Problem, number> = {
  'bad-path': 400,
  'bad-request': 400,
  'too-long': 414,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  'not-allowed': 405,
  conflict: 409,
  'not-implemented': 501,
  'too-large': 413,
};

/** The HTTP(S) edge: translates requests into core calls and answers back into HTTP. */
export function buildHttpEdge(core: ProvisioningCore, opts: HttpEdgeOptions) {
  const protocol: Protocol = opts.tls ? 'https' : 'http';
  const app = Fastify({
    loggerInstance: opts.logger,
    // Per-request lines at 10k requests/s would cost more than serving; refusals are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: 4096 },
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5000,
    connectionTimeout: opts.idleTimeoutMs ?? 60_000,
    ...(opts.tls
      ? {
          https: {
            key: opts.tls.key,
            cert: opts.tls.cert,
            requestCert: opts.tls.requestClientCert,
            // Verification policy comes later: a certificate is only read, never required.
            rejectUnauthorized: false,
          },
        }
      : {}),
  });
  // The first hook of all, so a shed request costs no authentication, store or body work.
  installLoadShedding(app, { maxInFlight: opts.maxInFlight ?? 0, retryAfterSeconds: opts.retryAfterSeconds ?? 10, logger: opts.logger });

  // Upload bodies are not parsed here: the core decides what a PUT means (for now: not stored).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT') {
      reply.header('allow', 'GET, HEAD, PUT');
      return reply.code(405).type('text/plain; charset=utf-8').send(`method ${method} not allowed\n`);
    }
    const socket = req.raw.socket as TLSSocket;
    const cert = opts.tls && typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    const phoneRequest: PhoneRequest = {
      protocol,
      operation: method === 'PUT' ? 'write' : 'read',
      target: req.raw.url ?? '/',
      host: req.headers.host,
      userAgent: req.headers['user-agent'],
      ip: req.ip,
      credentials: credentialsFromHeader(req.headers.authorization, method),
      clientCertCn: cert && typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined,
      contentRange: req.headers['content-range'],
    };
    if (method === 'PUT') {
      const length = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
      // The body was left unparsed (see the content-type parser above): the core streams it.
      const stored = await core.upload(phoneRequest, req.raw, Number.isFinite(length) ? length : undefined);
      if (!stored.ok) return sendProblem(req, reply, stored);
      if (stored.problem) reply.header('x-polyprov-problem', stored.problem.replace(/[^\x20-\x7e]/g, '?').slice(0, 200));
      return reply.code(stored.created ? 201 : 204).send();
    }
    const answer = await core.handle(phoneRequest);
    if (answer.ok) return sendResource(req, reply, answer.resource);
    return sendProblem(req, reply, answer);
  };

  const sendProblem = (req: FastifyRequest, reply: FastifyReply, answer: Refusal) => {
    const status = STATUS[answer.problem];
    const log = { status, method: req.method, url: req.raw.url?.slice(0, 300), ip: req.ip, tenant: answer.tenant, reason: answer.message };
    if (status === 404) req.log.debug(log, 'not found');
    else req.log.info(log, 'request refused');
    if (status === 401) {
      // No body: nothing about the tenant or the path leaks to an unauthenticated client.
      reply.header('www-authenticate', challengeHeaders(core.issueNonce(), answer.staleNonce ?? false));
      return reply.code(401).header('content-length', 0).send();
    }
    if (status === 405) reply.header('allow', 'GET, HEAD');
    // Stop reading a body we will not store rather than drain megabytes of it.
    if (status === 413) reply.header('connection', 'close');
    return reply.code(status).type('text/plain; charset=utf-8').send(req.method === 'HEAD' ? undefined : `${answer.message}\n`);
  };

  app.route({ method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH'], url: '/*', handler });
  // Request targets the router cannot place (absolute URLs, odd encodings) still go to the core, which refuses them clearly.
  app.setNotFoundHandler(handler);
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err, url: req.raw.url }, 'request failed');
    reply.code(status).type('text/plain; charset=utf-8').send(status === 500 ? 'internal error\n' : `${err.message}\n`);
  });
  return app;
}
