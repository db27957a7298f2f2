import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { DigestAnswer } from '../domain/http-authorization.js';

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

/** One realm for every tenant: the stored Digest HA1 depends on it, so it can never vary per request. */
export const DIGEST_REALM = 'polyprov';

const SCRYPT = { N: 16384, r: 8, p: 1 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(actual, expected);
}

export function digestHa1(username: string, password: string): string {
  return md5(`${username}:${DIGEST_REALM}:${password}`);
}

export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/**
 * Digest nonces are stateless: a timestamp signed with a server secret, so any worker process can
 * check a nonce another one issued. Replays inside the lifetime are possible (no nc tracking across
 * processes); the lifetime is short and the channel should be HTTPS anyway.
 */
export class DigestNonces {
  constructor(
    private readonly secret: Buffer,
    private readonly lifetimeMs = 5 * 60_000,
  ) {}

  issue(now = Date.now()): string {
    const ts = now.toString(36);
    return `${ts}.${this.sign(ts)}`;
  }

  /** 'ok', 'stale' (well-formed and ours, but too old) or 'invalid'. */
  check(nonce: string, now = Date.now()): 'ok' | 'stale' | 'invalid' {
    const dot = nonce.indexOf('.');
    if (dot < 0) return 'invalid';
    const ts = nonce.slice(0, dot);
    const sig = Buffer.from(nonce.slice(dot + 1));
    const good = Buffer.from(this.sign(ts));
    if (sig.length !== good.length || !timingSafeEqual(sig, good)) return 'invalid';
    const age = now - parseInt(ts, 36);
    if (!(age >= -5_000)) return 'invalid';
    return age > this.lifetimeMs ? 'stale' : 'ok';
  }

  private sign(ts: string): string {
    return createHmac('sha256', this.secret).update(ts).digest('base64url').slice(0, 22);
  }
}

/** RFC 7616 MD5 response for qop=auth (or RFC 2069 when the client sent no qop). */
export function expectedDigestResponse(ha1: string, method: string, answer: DigestAnswer): string {
  const ha2 = md5(`${method}:${answer.uri}`);
  if (answer.qop) return md5(`${ha1}:${answer.nonce}:${answer.nc ?? ''}:${answer.cnonce ?? ''}:${answer.qop}:${ha2}`);
  return md5(`${ha1}:${answer.nonce}:${ha2}`);
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}
