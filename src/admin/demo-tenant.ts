import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdminContext } from './admin-context.js';
import { addTenant } from './tenants.js';

export interface DemoCredentials {
  tenant: string;
  username: string;
  password: string;
}

/**
 * `npm start` on a fresh machine must give a phone something to boot into. The demo tenant is made
 * only when no tenant exists; its generated password is kept in the data folder (mode 600) so every
 * later start can print it again, since the store keeps only hashes.
 */
export async function ensureDemoTenant(ctx: AdminContext, dataDir: string): Promise<DemoCredentials | undefined> {
  const file = join(dataDir, 'demo-credentials.json');
  const tenants = await ctx.store.listTenants();
  if (tenants.length > 0) {
    const saved = await readFile(file, 'utf8').then((s) => JSON.parse(s) as DemoCredentials, () => undefined);
    return saved && tenants.some((t) => t.slug === saved.tenant && t.provUsername === saved.username) ? saved : undefined;
  }
  // TFTP has no login: the demo serves it to every client, so a phone on the LAN boots at once.
  const { tenant, password } = await addTenant(ctx, 'demo', { name: 'Demo tenant', tftpSubnets: ['0.0.0.0/0', '::/0'] });
  await ctx.store.setParameters(tenant.id, { kind: 'tenant', id: tenant.id }, {
    'prov.polling.enabled': '1',
    'prov.polling.time': '03:00',
    'tcpIpApp.sntp.address': 'pool.ntp.org',
    'up.welcomeSoundEnabled': '0',
  });
  const creds: DemoCredentials = { tenant: tenant.slug, username: tenant.provUsername, password };
  await writeFile(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  return creds;
}
