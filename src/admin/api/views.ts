// What the API shows of stored records: fixed key order (ETags hash it), no secrets or ids.

import type { AdminUserInfo } from '../admin-users.js';
import type { ApiToken, AuditEntry, Device, DeviceGroup, ModelPolicy, ReachJob, ReachResult, Site, Tenant } from '../../store/store.js';

/** A tenant's settings as an administrator edits them (never the password or its hashes). */
export function tenantView(t: Tenant) {
  return {
    slug: t.slug,
    name: t.name,
    pathPrefix: t.pathPrefix,
    hostnames: t.hostnames,
    unknownDevices: t.unknownDevices,
    createdAt: t.createdAt,
    username: t.provUsername,
    appFilePath: t.appFilePath,
    extraConfigFiles: t.extraConfigFiles,
    logMaxBytes: t.logMaxBytes,
    logSegments: t.logSegments,
    logMaxAgeDays: t.logMaxAgeDays,
    overridePolicy: t.overridePolicy,
    overridePatterns: t.overridePatterns,
    stripDisallowedOverrides: t.stripDisallowedOverrides,
    tftpSubnets: t.tftpSubnets,
    tftpSecrets: t.tftpSecrets,
    factoryLogin: t.factoryLogin,
    rehomeDevices: t.rehomeDevices,
  };
}

export function siteView(s: Site) {
  return { slug: s.slug, name: s.name, description: s.description, location: s.location, tftpSubnets: s.tftpSubnets };
}

/** `slugs` maps site and group ids (`site:1`, `group:2`) to their slugs. */
export function deviceView(d: Device, slugs: ReadonlyMap<string, string>) {
  return {
    mac: d.mac,
    registered: d.registered,
    label: d.label,
    site: d.siteId === null ? null : (slugs.get(`site:${d.siteId}`) ?? null),
    group: d.groupId === null ? null : (slugs.get(`group:${d.groupId}`) ?? null),
    appFilePath: d.appFilePath,
    inventory: {
      firstSeen: d.firstSeen,
      lastSeen: d.lastSeen,
      lastIp: d.lastIp,
      model: d.model,
      firmware: d.firmware,
      updaterVersion: d.updaterVersion,
      phase: d.phase,
      serial: d.serial,
      lastFile: d.lastFile,
      userAgent: d.userAgent,
    },
  };
}

export function groupView(g: DeviceGroup) {
  return { slug: g.slug, name: g.name };
}

export function modelPolicyView(m: ModelPolicy) {
  return { model: m.model, appFilePath: m.appFilePath };
}

export function userView(u: AdminUserInfo) {
  return { username: u.username, role: u.role, tenant: u.tenant, disabled: u.disabled, createdAt: u.createdAt };
}

export function apiTokenView(t: ApiToken) {
  return { id: t.id, name: t.name, prefix: t.prefix, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, revokedAt: t.revokedAt, expiresAt: t.expiresAt };
}

/** `slugs` maps tenant ids to slugs. */
export function auditEntryView(e: AuditEntry, slugs: ReadonlyMap<number, string>) {
  return {
    id: e.id,
    at: e.at,
    username: e.username,
    tenant: e.tenantId === null ? null : (slugs.get(e.tenantId) ?? String(e.tenantId)),
    action: e.action,
    target: e.target,
    before: e.before ?? null,
    after: e.after ?? null,
    ip: e.ip ?? null,
  };
}

export function reachJobView(j: ReachJob) {
  return { id: j.id, via: j.method, selector: j.selector, rate: j.ratePerSecond, jitter: j.jitter, status: j.status, total: j.total, done: j.done, outcomes: j.outcomes, createdAt: j.createdAt, updatedAt: j.updatedAt };
}

export function reachResultView(r: ReachResult) {
  return { mac: r.mac, via: r.method, outcome: r.outcome, status: r.status, detail: r.detail, target: r.target, job: r.jobId, at: r.at };
}
