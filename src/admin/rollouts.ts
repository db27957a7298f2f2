import { compareFirmwareVersions, parseFirmwareVersion } from '../domain/firmware-version.js';
import { normalizeModel } from '../domain/models.js';
import {
  assignWaves,
  decideRollout,
  parseWindow,
  rolloutProgress,
  stuckMembers,
  type MemberReport,
  type RolloutDecision,
  type WaveProgress,
} from '../domain/rollout-plan.js';
import type { Device, Rollout, RolloutSelector, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { findRelease, prerequisiteReport } from './firmware.js';
import { requireGroup, requireSite } from './structure.js';
import { validateSlug } from './validate-names.js';

// Staged firmware rollouts: create one over a set of registered devices, let `tick` move it on
// (serve's primary calls it every minute; `polyprov rollout tick` does it by hand or from cron),
// read its status, pause, resume or roll it back. The decisions are domain/rollout-plan.ts's.

export interface NewRolloutSettings {
  name: string;
  from: string;
  to: string;
  selector: RolloutSelector;
  waves: number[];
  waveIntervalMs: number;
  deadlineMs: number;
  maxFailurePercent: number;
  window?: string;
}

function matches(d: Device, sel: { siteId?: number; groupId?: number; model?: string }): boolean {
  return d.registered && (sel.siteId === undefined || d.siteId === sel.siteId) && (sel.groupId === undefined || d.groupId === sel.groupId) && (sel.model === undefined || d.model === sel.model);
}

/** The rollout, and a warning per prerequisite some of its devices may lack (admin/firmware.ts). */
export async function createRollout(ctx: AdminContext, t: Tenant, s: NewRolloutSettings, now = new Date()): Promise<Rollout & { warnings: string[] }> {
  const name = validateSlug('rollout', s.name);
  const from = parseFirmwareVersion(s.from);
  const to = parseFirmwareVersion(s.to);
  if (compareFirmwareVersions(to, from) <= 0) {
    throw new AdminError(`a rollout moves phones to a newer version: ${to} is not newer than ${from} (for a downgrade, set the target with: polyprov firmware target set ${to} --allow-downgrade)`);
  }
  for (const v of [from, to]) {
    if (!(await findRelease(ctx, t, v))) throw new AdminError(`no firmware ${v} in tenant "${t.slug}"'s library or the global one: a rollout needs both versions (the old one to roll back to)`);
  }
  if (!(s.maxFailurePercent >= 0 && s.maxFailurePercent <= 100)) throw new AdminError(`--max-failures must be a percentage from 0 to 100 (got ${s.maxFailurePercent})`);
  if (s.window !== undefined) parseWindow(s.window);
  const sel = {
    ...(s.selector.site !== undefined ? { siteId: (await requireSite(ctx, t, s.selector.site)).id } : {}),
    ...(s.selector.group !== undefined ? { groupId: (await requireGroup(ctx, t, s.selector.group)).id } : {}),
    ...(s.selector.model !== undefined ? { model: normalizeModel(s.selector.model) } : {}),
  };
  const devices = (await ctx.store.listDevices(t.id)).filter((d) => matches(d, sel));
  if (devices.length === 0) throw new AdminError(`no registered device of tenant "${t.slug}" matches ${describeSelector(s.selector)}: nothing to roll out`);
  const rollout = await ctx.store.createRollout({
    tenantId: t.id,
    name,
    fromVersion: from,
    toVersion: to,
    selector: { ...s.selector, ...(sel.model ? { model: sel.model } : {}) },
    waves: s.waves,
    waveIntervalMs: s.waveIntervalMs,
    deadlineMs: s.deadlineMs,
    maxFailurePercent: s.maxFailurePercent,
    window: s.window ?? null,
    waveStartedAt: now.toISOString(),
    members: assignWaves(name, devices.map((d) => d.mac), s.waves),
  });
  return { ...rollout, warnings: prerequisiteReport(to, devices) };
}

export function describeSelector(sel: RolloutSelector): string {
  const parts = [sel.site && `site ${sel.site}`, sel.group && `group ${sel.group}`, sel.model && `model ${sel.model}`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'the whole tenant';
}

export async function requireRollout(ctx: AdminContext, t: Tenant, name: string): Promise<Rollout> {
  const r = await ctx.store.getRollout(t.id, name);
  if (!r) throw new AdminError(`no rollout "${name}" in tenant "${t.slug}" (see: polyprov rollout list)`);
  return r;
}

/** What each member last reported, from the device inventory. */
async function memberReports(ctx: AdminContext, t: Tenant, r: Rollout): Promise<(MemberReport & { lastSeen: string | null })[]> {
  const byMac = new Map((await ctx.store.listDevices(t.id)).map((d) => [d.mac, d]));
  return r.members.map((m) => {
    const d = byMac.get(m.mac);
    return { mac: m.mac, wave: m.wave, running: d?.firmware ?? null, lastSeen: d?.lastSeen ?? null };
  });
}

export interface RolloutStatusReport {
  rollout: Rollout;
  waves: WaveProgress[];
  /** Phones by the version they report ("never seen" for none). */
  versions: Record<string, number>;
  /** Released phones not on the new version. */
  stuck: { mac: string; wave: number; running: string | null; lastSeen: string | null }[];
  /** What the next tick would do. */
  next: RolloutDecision;
}

export async function rolloutStatus(ctx: AdminContext, t: Tenant, name: string, now = new Date()): Promise<RolloutStatusReport> {
  const r = await requireRollout(ctx, t, name);
  const reports = await memberReports(ctx, t, r);
  const versions: Record<string, number> = {};
  for (const m of reports) versions[m.running ?? 'never seen'] = (versions[m.running ?? 'never seen'] ?? 0) + 1;
  const stuck = new Set(stuckMembers(r, reports).map((m) => m.mac));
  return {
    rollout: r,
    waves: rolloutProgress(r, reports),
    versions,
    stuck: reports.filter((m) => stuck.has(m.mac)),
    next: decideRollout(r, reports, now),
  };
}

export interface TickResult {
  tenant: string;
  rollout: string;
  decision: RolloutDecision;
}

/** Moves every unfinished rollout of the tenant on by one decision. */
export async function tickRollouts(ctx: AdminContext, t: Tenant, now = new Date()): Promise<TickResult[]> {
  const out: TickResult[] = [];
  for (const r of await ctx.store.listRollouts(t.id)) {
    if (r.status !== 'running' && r.status !== 'paused') continue;
    const decision = decideRollout(r, await memberReports(ctx, t, r), now);
    switch (decision.action) {
      case 'advance':
        await ctx.store.updateRollout(t.id, r.id, { currentWave: decision.wave, waveStartedAt: now.toISOString(), reason: null });
        break;
      case 'complete':
        await ctx.store.updateRollout(t.id, r.id, { status: 'completed', reason: null });
        break;
      case 'pause':
        await ctx.store.updateRollout(t.id, r.id, { status: 'paused', reason: decision.reason });
        break;
      case 'resume':
        await ctx.store.updateRollout(t.id, r.id, { status: 'running', reason: null });
        break;
      case 'wait':
        break;
    }
    out.push({ tenant: t.slug, rollout: r.name, decision });
  }
  return out;
}

/** An administrator's hold: nothing more is released until resumed. */
export async function pauseRollout(ctx: AdminContext, t: Tenant, name: string, reason = 'paused by an administrator'): Promise<Rollout> {
  const r = await requireRollout(ctx, t, name);
  if (r.status !== 'running') throw new AdminError(`rollout "${name}" is ${r.status}: only a running rollout can be paused`);
  return ctx.store.updateRollout(t.id, r.id, { status: 'paused', reason });
}

/** Back to running; the next tick judges the current wave again (and pauses it again if it is still unhealthy). */
export async function resumeRollout(ctx: AdminContext, t: Tenant, name: string): Promise<Rollout> {
  const r = await requireRollout(ctx, t, name);
  if (r.status !== 'paused') throw new AdminError(`rollout "${name}" is ${r.status}: only a paused rollout can be resumed`);
  return ctx.store.updateRollout(t.id, r.id, { status: 'running', reason: null });
}

/** Sends every released phone back to the old version (a downgrade they are allowed). */
export async function rollBackRollout(ctx: AdminContext, t: Tenant, name: string): Promise<Rollout> {
  const r = await requireRollout(ctx, t, name);
  if (r.status === 'rolled-back') throw new AdminError(`rollout "${name}" is already rolled back`);
  return ctx.store.updateRollout(t.id, r.id, { status: 'rolled-back', reason: 'rolled back by an administrator' });
}

/** Forgets a rollout: its phones follow the policy's target again. */
export async function removeRollout(ctx: AdminContext, t: Tenant, name: string): Promise<void> {
  if (!(await ctx.store.deleteRollout(t.id, name))) throw new AdminError(`no rollout "${name}" in tenant "${t.slug}" (see: polyprov rollout list)`);
}
