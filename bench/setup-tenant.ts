import { setParameters } from '../src/admin/parameters.js';
import { addDevice, addGroup, addSite, setModelPolicy } from '../src/admin/structure.js';
import { addTenant } from '../src/admin/tenants.js';
import { openAdminContext } from '../src/app.js';

// One tenant shaped like a real deployment, set up through the same admin services the CLI uses:
// parameters at every layer (tenant, model, site, group, device), devices spread over sites and
// groups, so each rendered configuration resolves ~30 parameters through five layers.

export const TENANT = 'bench';
export const USERNAME = 'bench';
export const PASSWORD = 'bench-prov-pw-1';
/** Every simulated phone is this model; the tenant has a policy for it, so the model layer applies. */
export const MODEL = 'VVX_450';

const SITES = ['hq', 'branch'] as const;
const GROUPS = ['sales', 'support', 'engineering'] as const;

const TENANT_PARAMS = [
  'lcl.ml.lang=English_United_Kingdom',
  'tcpIpApp.sntp.address=ntp.example.com',
  'tcpIpApp.sntp.gmtOffset=0',
  'prov.polling.enabled=1',
  'prov.polling.mode=abs',
  'prov.polling.time=03:00',
  'up.welcomeSoundEnabled=0',
  'voIpProt.server.1.address=sip.example.com',
  'voIpProt.server.1.port=5061',
  'voIpProt.server.1.transport=TLS',
  'sec.srtp.enable=1',
  'feature.enhancedFeatureKeys.enabled=1',
];
const MODEL_PARAMS = ['up.backlight.idleIntensity=1', 'up.backlight.onIntensity=3', 'up.screenSaver.enabled=1', 'lineKey.reassignment.enabled=1'];
const SITE_PARAMS: Record<(typeof SITES)[number], string[]> = {
  hq: ['tcpIpApp.sntp.address=ntp.hq.example.com', 'tcpIpApp.sntp.gmtOffset=3600', 'dialplan.digitmap=[2-9]xxx|0xxxxxxxxx', 'voIpProt.SIP.outboundProxy.address=sbc-hq.example.com'],
  branch: ['tcpIpApp.sntp.address=ntp.branch.example.com', 'tcpIpApp.sntp.gmtOffset=7200', 'dialplan.digitmap=[3-9]xxx|0xxxxxxxxx', 'voIpProt.SIP.outboundProxy.address=sbc-branch.example.com'],
};
const GROUP_PARAMS = ['feature.presence.enabled=1', 'up.headsetMode=1', 'call.callWaiting.enable=1', 'softkey.feature.doNotDisturb=0'];

function deviceParams(i: number): string[] {
  const ext = String(1000 + i);
  return [
    `reg.1.address=${ext}`,
    `reg.1.auth.userId=${ext}`,
    // Characters that must be escaped in XML attributes, so rendering does real escaping work.
    `reg.1.auth.password=p&<${i}>"'x`,
    `reg.1.displayName=Zoë Müller ${ext}`,
    `reg.1.label=${ext}`,
    'reg.1.lineKeys=2',
    `device.sntp.serverName=ntp${i % 4}.example.com`,
    `up.oneTouchVoiceMail=${i % 2}`,
  ];
}

/** `0004f2` + 6 hex digits; `block` keeps the warm-up phones apart from the measured ones. */
export function macFor(block: number, i: number): string {
  return `0004f2${(block * 0x100000 + i + 1).toString(16).padStart(6, '0')}`;
}

export interface BenchTenant {
  /** The phones whose fetches are measured. */
  macs: string[];
  /** Other registered phones, used only to warm a server up. */
  warmupMacs: string[];
}

/**
 * Creates the tenant in `dataDir` (a fresh folder). `onProgress` is called now and then with the
 * number of devices set up so far.
 */
export async function setupTenant(dataDir: string, devices: number, warmupDevices: number, onProgress: (done: number, total: number) => void): Promise<BenchTenant> {
  const ctx = await openAdminContext({ dataDir });
  try {
    const { tenant } = await addTenant(ctx, TENANT, { username: USERNAME, password: PASSWORD, name: 'Benchmark tenant' });
    for (const s of SITES) await addSite(ctx, tenant, s);
    for (const g of GROUPS) await addGroup(ctx, tenant, g);
    await setModelPolicy(ctx, tenant, MODEL);
    await setParameters(ctx, tenant, {}, TENANT_PARAMS, { force: true });
    await setParameters(ctx, tenant, { model: MODEL }, MODEL_PARAMS, { force: true });
    for (const s of SITES) await setParameters(ctx, tenant, { site: s }, SITE_PARAMS[s], { force: true });
    for (const g of GROUPS) await setParameters(ctx, tenant, { group: g }, GROUP_PARAMS.map((p) => `${p.split('=')[0]}=${g}-${p.split('=')[1]}`), { force: true });

    const macs = Array.from({ length: devices }, (_, i) => macFor(0, i));
    const warmupMacs = Array.from({ length: warmupDevices }, (_, i) => macFor(15, i));
    const all = [...macs, ...warmupMacs];
    for (let i = 0; i < all.length; i++) {
      const mac = all[i]!;
      await addDevice(ctx, tenant, mac, { site: SITES[i % SITES.length]!, group: GROUPS[i % GROUPS.length]!, label: `desk ${i}` });
      await setParameters(ctx, tenant, { device: mac }, deviceParams(i), { force: true });
      if ((i + 1) % 500 === 0) onProgress(i + 1, all.length);
    }
    return { macs, warmupMacs };
  } finally {
    await ctx.store.close();
  }
}
