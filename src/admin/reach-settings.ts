import { DomainError } from '../domain/domain-error.js';
import { NOTIFY_PASSWORD, NOTIFY_REQUEST_URI, NOTIFY_SETTINGS, NOTIFY_TARGET, NOTIFY_TRANSPORT, NOTIFY_USERNAME, parseHostPort, parseSipTransport, PUSH_URL } from '../domain/reach-targets.js';
import { requestUriFor } from '../domain/sip-message.js';
import type { Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { resolveScope, type ScopeSelector } from './parameters.js';

// The settings behind reaching phones, written as parameters of one layer: polyprov's own (where
// NOTIFYs go) and the phone's (what check-sync does, the Push API's switches and credentials).

function asAdminError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(err.message);
    throw err;
  }
}

export interface NotifyConfig {
  target?: string;
  transport?: string;
  requestUri?: string;
  username?: string;
  password?: string;
}

/** Sets where check-sync NOTIFYs go for a layer; only the given fields change. */
export async function setNotifyConfig(ctx: AdminContext, t: Tenant, sel: ScopeSelector, c: NotifyConfig): Promise<Record<string, string>> {
  const params: Record<string, string> = {};
  asAdminError(() => {
    if (c.transport !== undefined) params[NOTIFY_TRANSPORT] = parseSipTransport(c.transport);
    if (c.target !== undefined) {
      parseHostPort(c.target, 5060);
      params[NOTIFY_TARGET] = c.target.trim();
    }
    if (c.requestUri !== undefined) {
      // Expanded once with sample values, so a typo in a placeholder fails now, not at send time.
      requestUriFor(c.requestUri, { user: '1001', host: 'pbx.example.com', port: '5060', ip: '192.0.2.10', mac: '0004f2000001' });
      params[NOTIFY_REQUEST_URI] = c.requestUri.trim();
    }
  });
  if ((c.username === undefined) !== (c.password === undefined)) throw new AdminError('give --username and --password together (the Digest credentials for a challenge from the phone or the PBX)');
  if (c.username !== undefined) {
    params[NOTIFY_USERNAME] = c.username;
    params[NOTIFY_PASSWORD] = c.password!;
  }
  if (!Object.keys(params).length) throw new AdminError('nothing to set: give --target, --transport, --request-uri or --username/--password');
  await ctx.store.setParameters(t.id, await resolveScope(ctx, t, sel, true), params);
  return params;
}

/** Removes a layer's NOTIFY settings: its phones fall back to the next layer, or to their own address. */
export async function clearNotifyConfig(ctx: AdminContext, t: Tenant, sel: ScopeSelector): Promise<boolean> {
  return (await ctx.store.unsetParameters(t.id, await resolveScope(ctx, t, sel, false), NOTIFY_SETTINGS)) > 0;
}

export const CHECK_SYNC = {
  alwaysReboot: 'voIpProt.SIP.specialEvent.checkSync.alwaysReboot',
  directory: 'voIpProt.SIP.specialEvent.checkSync.downloadDirectory',
  callList: 'voIpProt.SIP.specialEvent.checkSync.downloadCallList',
} as const;

/** What a phone does on check-sync: always reboot (else only when its files changed), and whether it also re-reads directory and call list. */
export async function setCheckSyncBehaviour(
  ctx: AdminContext,
  t: Tenant,
  sel: ScopeSelector,
  b: { alwaysReboot?: boolean; directory?: boolean; callList?: boolean },
): Promise<Record<string, string>> {
  const params: Record<string, string> = {};
  for (const k of ['alwaysReboot', 'directory', 'callList'] as const) if (b[k] !== undefined) params[CHECK_SYNC[k]] = b[k] ? '1' : '0';
  if (!Object.keys(params).length) throw new AdminError('nothing to set: give --always-reboot/--no-always-reboot, --directory/--no-directory or --call-list/--no-call-list');
  await ctx.store.setParameters(t.id, await resolveScope(ctx, t, sel, true), params);
  return params;
}

export const PUSH_PARAMETERS = [
  'apps.push.messageType',
  'apps.push.username',
  'apps.push.password',
  'apps.push.secureTunnelRequired',
  'httpd.enabled',
  PUSH_URL,
];

/**
 * Turns on the phones' Push API for a layer: the web server that carries it, messages of every
 * priority (EXCAL's 5; polyprov sends Critical only, but which numbers admit Critical is not
 * certain across releases), and the credentials the phone will challenge for. A plain-http URL
 * template also lifts apps.push.secureTunnelRequired, which otherwise refuses pushes outside HTTPS.
 */
export async function enablePush(
  ctx: AdminContext,
  t: Tenant,
  sel: ScopeSelector,
  p: { username: string; password: string; urlTemplate?: string },
): Promise<Record<string, string>> {
  if (!p.username || !p.password) throw new AdminError('give --username and --password: the phone challenges every push with them');
  const params: Record<string, string> = {
    'apps.push.messageType': '5',
    'apps.push.username': p.username,
    'apps.push.password': p.password,
    'httpd.enabled': '1',
  };
  if (p.urlTemplate !== undefined) {
    const sample = p.urlTemplate.replaceAll('{ip}', '192.0.2.10').replaceAll('{mac}', '0004f2000001');
    let url: URL;
    try {
      url = new URL(sample);
    } catch {
      throw new AdminError(`invalid push URL template "${p.urlTemplate}": expected http(s)://{ip}[:port]/push`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AdminError(`invalid push URL template "${p.urlTemplate}": expected http:// or https://`);
    params[PUSH_URL] = p.urlTemplate;
    params['apps.push.secureTunnelRequired'] = url.protocol === 'http:' ? '0' : '1';
  }
  await ctx.store.setParameters(t.id, await resolveScope(ctx, t, sel, true), params);
  return params;
}

export async function disablePush(ctx: AdminContext, t: Tenant, sel: ScopeSelector): Promise<boolean> {
  return (await ctx.store.unsetParameters(t.id, await resolveScope(ctx, t, sel, false), PUSH_PARAMETERS)) > 0;
}
