import { parseAuthorization } from '../../domain/http-authorization.js';
import { DIGEST_REALM } from '../../provisioning/credentials.js';
import type { Credentials } from '../../provisioning/core.js';

export function credentialsFromHeader(header: string | undefined, method: string): Credentials | undefined {
  const auth = parseAuthorization(header);
  if (!auth) return undefined;
  if (auth.scheme === 'basic') return { kind: 'password', username: auth.username, password: auth.password };
  return { kind: 'digest', method, answer: auth.answer };
}

/** Both challenges: libcurl in the phone picks Digest when offered, simpler clients use Basic. */
export function challengeHeaders(nonce: string, stale: boolean): string[] {
  return [
    `Digest realm="${DIGEST_REALM}", qop="auth", algorithm=MD5, nonce="${nonce}"${stale ? ', stale=true' : ''}`,
    `Basic realm="${DIGEST_REALM}", charset="UTF-8"`,
  ];
}
