import { DomainError } from '../domain/domain-error.js';
import { parsePollingWindow, pollingParameters, pollingTimeFor, POLLING_PARAMETERS, type PollingPlan } from '../domain/polling-schedule.js';
import type { Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { devicesInScope, resolveScope, type ScopeSelector } from './parameters.js';

export interface PollingResult {
  parameters: Record<string, string>;
  /** Devices of the layer the plan now covers (registered or seen). */
  devices: number;
  /** With the server-chosen minutes: the most phones of the layer that poll in one minute, and when. */
  busiestMinute: { time: string; phones: number } | null;
}

/**
 * Sets a polling plan at one layer. The parameters are written by the server (the window is one of
 * polyprov's own), so `param set` cannot be used for them; everything else about them is ordinary
 * policy: a more specific layer's plan or prov.polling.* value wins, and `explain` shows where from.
 */
export async function setPolling(ctx: AdminContext, t: Tenant, sel: ScopeSelector, plan: PollingPlan): Promise<PollingResult> {
  let parameters: Record<string, string>;
  try {
    parameters = pollingParameters(plan);
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(err.message);
    throw err;
  }
  const scope = await resolveScope(ctx, t, sel, true);
  // Switching modes must not leave the other mode's parameters behind.
  const stale = POLLING_PARAMETERS.filter((n) => !(n in parameters));
  await ctx.store.unsetParameters(t.id, scope, stale);
  await ctx.store.setParameters(t.id, scope, parameters);
  const devices = await devicesInScope(ctx, t, sel, scope);
  let busiestMinute: PollingResult['busiestMinute'] = null;
  if (plan.mode !== 'phone-random' && devices.length) {
    const window = parsePollingWindow(plan.window);
    const perMinute = new Map<string, number>();
    for (const d of devices) {
      const time = pollingTimeFor(d.mac, window);
      perMinute.set(time, (perMinute.get(time) ?? 0) + 1);
    }
    for (const [time, phones] of perMinute) if (!busiestMinute || phones > busiestMinute.phones) busiestMinute = { time, phones };
  }
  return { parameters, devices: devices.length, busiestMinute };
}

/** Removes a polling plan (both modes' parameters) from one layer; false when it had none. */
export async function unsetPolling(ctx: AdminContext, t: Tenant, sel: ScopeSelector): Promise<boolean> {
  const scope = await resolveScope(ctx, t, sel, false);
  return (await ctx.store.unsetParameters(t.id, scope, POLLING_PARAMETERS)) > 0;
}
