import { createHash } from 'node:crypto';
import { parseAuthParams } from './http-authorization.js';

// The client side of HTTP Digest (RFC 7616, with RFC 2617's MD5 and no-qop forms), which SIP
// (RFC 3261 §22) reuses unchanged: polyprov answers the challenges of phones (Push API) and of
// phones or proxies (NOTIFY). Pure: the caller supplies the cnonce and the nonce count.

export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** The qop options offered, lower-case; empty for an RFC 2069 challenge. */
  qop: string[];
  /** Upper-case: MD5 (also when absent), MD5-SESS, SHA-256, SHA-256-SESS. */
  algorithm: string;
  opaque?: string;
  stale: boolean;
}

const ALGORITHMS = new Set(['MD5', 'MD5-SESS', 'SHA-256', 'SHA-256-SESS']);

/** A `WWW-Authenticate` / `Proxy-Authenticate` value; null unless it is a Digest challenge we can answer. */
export function parseDigestChallenge(header: string | undefined): DigestChallenge | null {
  if (!header || header.length > 4096) return null;
  const m = /^\s*digest\s+/i.exec(header);
  if (!m) return null;
  const params = parseAuthParams(header.slice(m[0].length));
  const realm = params?.get('realm');
  const nonce = params?.get('nonce');
  if (!params || realm === undefined || nonce === undefined) return null;
  const algorithm = (params.get('algorithm') ?? 'MD5').toUpperCase();
  if (!ALGORITHMS.has(algorithm)) return null;
  const qop = (params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean);
  const opaque = params.get('opaque');
  return { realm, nonce, qop, algorithm, ...(opaque !== undefined ? { opaque } : {}), stale: (params.get('stale') ?? '').toLowerCase() === 'true' };
}

export interface DigestInput {
  challenge: DigestChallenge;
  method: string;
  /** The request URI as sent (SIP: the Request-URI; HTTP: the path and query). */
  uri: string;
  username: string;
  password: string;
  /** Random, chosen by the caller (tests pin it). */
  cnonce: string;
  /** How many requests this nonce has answered, from 1. */
  nc: number;
}

function hasher(algorithm: string): (s: string) => string {
  const name = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  return (s) => createHash(name).update(s, 'utf8').digest('hex');
}

function quoted(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The `Authorization` / `Proxy-Authorization` value answering the challenge; qop=auth when offered. */
export function digestAuthorization(input: DigestInput): string {
  const { challenge: c, method, uri, username, password, cnonce } = input;
  const h = hasher(c.algorithm);
  const nc = input.nc.toString(16).padStart(8, '0');
  let ha1 = h(`${username}:${c.realm}:${password}`);
  if (c.algorithm.endsWith('-SESS')) ha1 = h(`${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const qop = c.qop.includes('auth') ? 'auth' : undefined;
  const response = qop ? h(`${ha1}:${c.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${c.nonce}:${ha2}`);
  const parts = [
    `username=${quoted(username)}`,
    `realm=${quoted(c.realm)}`,
    `nonce=${quoted(c.nonce)}`,
    `uri=${quoted(uri)}`,
    `response=${quoted(response)}`,
    `algorithm=${c.algorithm === 'MD5-SESS' ? 'MD5-sess' : c.algorithm === 'SHA-256-SESS' ? 'SHA-256-sess' : c.algorithm}`,
  ];
  if (c.opaque !== undefined) parts.push(`opaque=${quoted(c.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quoted(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}
