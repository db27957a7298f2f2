import { BOOTSTRAP_PARAMETERS, BOOTSTRAP_SWITCH, bootstrapParameters, type BootstrapPlan } from '../domain/bootstrap-policy.js';
import { DomainError } from '../domain/domain-error.js';
import type { Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';

/**
 * Turns on the two-stage bootstrap for a tenant: its phones asking over plain HTTP get only the
 * move to HTTPS (server type, address, CA), and files holding secrets are refused there. The same
 * device.* values stay in the full configuration, so phones already on HTTPS keep them.
 */
export async function enableBootstrap(ctx: AdminContext, t: Tenant, plan: BootstrapPlan): Promise<Record<string, string>> {
  let params: Record<string, string>;
  try {
    params = bootstrapParameters(plan);
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(err.message);
    throw err;
  }
  await ctx.store.setParameters(t.id, { kind: 'tenant', id: t.id }, params);
  return params;
}

/**
 * Plain HTTP serves the full configuration again. With `forget`, the device.* values go too;
 * without, phones already moved stay on HTTPS (a phone only leaves it when told another server).
 */
export async function disableBootstrap(ctx: AdminContext, t: Tenant, opts: { forget?: boolean } = {}): Promise<boolean> {
  const names = opts.forget ? [BOOTSTRAP_SWITCH, ...BOOTSTRAP_PARAMETERS] : [BOOTSTRAP_SWITCH];
  return (await ctx.store.unsetParameters(t.id, { kind: 'tenant', id: t.id }, names)) > 0;
}
