import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { digestAuthorization, parseDigestChallenge } from '../../domain/digest-client.js';
import { PUSH_CONTENT_TYPE, pushMessage } from '../../domain/push-message.js';

/** One push to one phone's web server (fact sheet §7.2). */
export interface PushRequest {
  /** The phone's push endpoint, e.g. `https://10.0.0.5/push`. */
  url: string;
  /** The phone's `apps.push.username`. */
  username: string;
  /** The phone's `apps.push.password`. */
  password: string;
  /** Default `pushMessage({})`: re-read the configuration. */
  body?: string;
  /** Bounds the whole exchange (both requests of the Digest handshake); default 10000. */
  timeoutMs?: number;
  tls?: {
    /**
     * Default false: phones present Poly's factory device certificate, issued to no host name and
     * chaining to Poly's own CA, and are addressed by IP, so name checks could never pass.
     */
    rejectUnauthorized?: boolean;
    /** The CA to verify the phone's certificate against; only used with rejectUnauthorized true. */
    ca?: string | Buffer;
  };
}

export type PushOutcome =
  | { kind: 'ok'; status: number; attempts: number; elapsedMs: number }
  /** Any final non-2xx; `reason` says what the phone answered and what to check. */
  | { kind: 'rejected'; status: number; reason: string; attempts: number; elapsedMs: number }
  | { kind: 'timeout'; attempts: number; elapsedMs: number }
  /** Refused connection, DNS failure, TLS handshake, bad URL: no HTTP answer at all. */
  | { kind: 'error'; message: string; elapsedMs: number };

const DEFAULT_TIMEOUT_MS = 10_000;
/** Phones answer a line or two of text; more than this is not worth holding for a reason. */
const BODY_CAP_BYTES = 1024;
const REASON_CAP_CHARS = 200;

interface Answer {
  status: number;
  statusMessage: string;
  challenges: string[];
  text: string;
}

/** Whatever the phone wrote, made safe for a log line. */
function shortText(raw: Buffer): string {
  return raw.toString('utf8').replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, REASON_CAP_CHARS);
}

function send(url: URL, req: PushRequest, body: string, authorization: string | undefined, signal: AbortSignal): Promise<Answer> {
  const headers: OutgoingHttpHeaders = {
    'content-type': PUSH_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body, 'utf8'),
    ...(authorization ? { authorization } : {}),
  };
  const secure = url.protocol === 'https:';
  const options = {
    method: 'POST',
    headers,
    signal,
    // No pooling: each push goes to another phone, and a kept-alive socket would only linger.
    agent: false as const,
    ...(secure ? { rejectUnauthorized: req.tls?.rejectUnauthorized ?? false, ...(req.tls?.ca !== undefined ? { ca: req.tls.ca } : {}) } : {}),
  };
  return new Promise<Answer>((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let held = 0;
      const done = () => {
        res.destroy();
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          challenges: res.headersDistinct['www-authenticate'] ?? [],
          text: shortText(Buffer.concat(chunks)),
        });
      };
      res.on('data', (chunk: Buffer) => {
        if (held >= BODY_CAP_BYTES) return;
        chunks.push(chunk.subarray(0, BODY_CAP_BYTES - held));
        held += chunk.length;
        // Enough for a reason: stop reading rather than drain a long page.
        if (held >= BODY_CAP_BYTES) done();
      });
      res.on('end', done);
      res.on('error', reject);
    };
    const r = secure ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
    r.on('error', reject);
    r.end(body);
  });
}

function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** The Authorization answering the first 401, or null when it offers nothing we can answer. */
function answerChallenge(challenges: string[], url: URL, req: PushRequest): string | null {
  for (const header of challenges) {
    const challenge = parseDigestChallenge(header);
    if (challenge) {
      const uri = `${url.pathname}${url.search}`;
      return digestAuthorization({ challenge, method: 'POST', uri, username: req.username, password: req.password, cnonce: randomBytes(16).toString('hex'), nc: 1 });
    }
  }
  // Poly's guide says Digest; Basic is answered in case some firmware asks for it.
  if (challenges.some((h) => /^\s*basic(\s|$)/i.test(h))) return basicAuthorization(req.username, req.password);
  return null;
}

function networkMessage(err: NodeJS.ErrnoException, url: URL): string {
  const where = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return `${where} refused the connection: check the phone's address and that its web server and push are enabled (httpd.enabled, apps.push.messageType)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve ${url.hostname}: give the phone's IP address or a name DNS knows`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${where} is unreachable: check the phone's address and the route to it`;
  if (code === 'ECONNRESET') return `${where} closed the connection without answering: check that the phone serves ${url.protocol === 'https:' ? 'HTTPS' : 'HTTP'} on that port`;
  if (/CERT|SELF_SIGNED|ERR_TLS|SSL|UNABLE_TO_VERIFY|UNABLE_TO_GET/i.test(code) || /certificate|handshake|ssl|tls/i.test(err.message)) {
    return `TLS handshake with ${where} failed: ${err.message} (the phone's certificate was not accepted: give its CA in tls.ca, or leave rejectUnauthorized off for Poly's factory certificate)`;
  }
  return `push to ${where} failed: ${err.message}`;
}

/**
 * Asks one phone to act on a push message (by default: re-read its configuration), answering its
 * Digest challenge. Never throws: every failure is an outcome that says what to check.
 */
export async function pushUpdate(req: PushRequest): Promise<PushOutcome> {
  const started = performance.now();
  const elapsedMs = () => Math.round(performance.now() - started);
  let url: URL;
  let body: string;
  try {
    url = new URL(req.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the scheme ${url.protocol} is not http: or https:`);
    body = req.body ?? pushMessage({});
  } catch (err) {
    return { kind: 'error', message: `cannot push to ${JSON.stringify(req.url).slice(0, 200)}: ${(err as Error).message}; give a URL such as https://10.0.0.5/push`, elapsedMs: elapsedMs() };
  }

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), req.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let attempts = 0;
  const attempt = (authorization?: string) => {
    attempts += 1;
    return send(url, req, body, authorization, controller.signal);
  };
  try {
    let answer = await attempt();
    if (answer.status === 401) {
      const authorization = answerChallenge(answer.challenges, url, req);
      if (authorization === null) {
        const offered = answer.challenges.join(' | ').slice(0, REASON_CAP_CHARS) || 'none';
        return { kind: 'rejected', status: 401, reason: `the phone asked for authentication polyprov cannot answer (WWW-Authenticate: ${offered})`, attempts, elapsedMs: elapsedMs() };
      }
      answer = await attempt(authorization);
      if (answer.status === 401) {
        return { kind: 'rejected', status: 401, reason: 'push credentials refused by the phone (check apps.push.username/password)', attempts, elapsedMs: elapsedMs() };
      }
    }
    if (answer.status >= 200 && answer.status < 300) return { kind: 'ok', status: answer.status, attempts, elapsedMs: elapsedMs() };
    const status = [answer.status, answer.statusMessage].filter(Boolean).join(' ');
    const reason = `the phone answered ${status}${answer.text ? `: ${answer.text}` : ''}`;
    return { kind: 'rejected', status: answer.status, reason, attempts, elapsedMs: elapsedMs() };
  } catch (err) {
    if (controller.signal.aborted) return { kind: 'timeout', attempts, elapsedMs: elapsedMs() };
    return { kind: 'error', message: networkMessage(err as NodeJS.ErrnoException, url), elapsedMs: elapsedMs() };
  } finally {
    clearTimeout(timer);
  }
}
