import { createHash, randomBytes } from 'node:crypto';

// Hand-made HTTP Digest answers (RFC 7616, MD5, qop=auth), so tests can send exactly the answer
// they mean to (tampered nonce, wrong uri, replayed response) where curl --digest would not.

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  algorithm?: string;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** The Digest challenge among a response's WWW-Authenticate headers (raw header block as curl saw it). */
export function digestChallengeOf(rawHeaders: string): DigestChallenge {
  const line = rawHeaders.split(/\r?\n/).find((l) => /^www-authenticate:\s*digest\s/i.test(l));
  if (!line) throw new Error(`no Digest challenge in:\n${rawHeaders}`);
  const param = (k: string) => new RegExp(`[\\s,]${k}="?([^",]*)"?`, 'i').exec(line)?.[1];
  const realm = param('realm');
  const nonce = param('nonce');
  if (realm === undefined || nonce === undefined) throw new Error(`malformed Digest challenge: ${line}`);
  const qop = param('qop');
  const algorithm = param('algorithm');
  return { realm, nonce, ...(qop !== undefined ? { qop } : {}), ...(algorithm !== undefined ? { algorithm } : {}) };
}

export interface DigestAnswerInput {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  /** The uri the response is computed over. */
  uri: string;
  /** The uri written into the header; defaults to `uri`. */
  headerUri?: string;
  nc?: string;
  cnonce?: string;
  /** Replaces the computed response (to send a wrong one). */
  response?: string;
}

export function digestResponse(a: DigestAnswerInput & { nc: string; cnonce: string }): string {
  const ha1 = md5(`${a.username}:${a.realm}:${a.password}`);
  const ha2 = md5(`${a.method}:${a.uri}`);
  return md5(`${ha1}:${a.nonce}:${a.nc}:${a.cnonce}:auth:${ha2}`);
}

/** The value of an Authorization header answering a Digest challenge with qop=auth. */
export function digestAuthorization(a: DigestAnswerInput): string {
  const nc = a.nc ?? '00000001';
  const cnonce = a.cnonce ?? randomBytes(8).toString('hex');
  const response = a.response ?? digestResponse({ ...a, nc, cnonce });
  return (
    `Digest username="${a.username}", realm="${a.realm}", nonce="${a.nonce}", uri="${a.headerUri ?? a.uri}", ` +
    `algorithm=MD5, response="${response}", qop=auth, nc=${nc}, cnonce="${cnonce}"`
  );
}
