import { applyDeviceSetRule, effectiveParameters, parseMasterFile, splitConfigFiles } from '../../src/domain/polycom-xml.js';
import { curl } from './curl.js';

export interface PhoneIdentity {
  mac: string;
  /** UA spelling, e.g. VVX_450. */
  model: string;
  product: string;
  partNumber: string;
  firmware: string;
}

export const VVX_450: Omit<PhoneIdentity, 'mac'> = { model: 'VVX_450', product: 'PolycomVVX', partNumber: '3111-48840-001', firmware: '6.4.6.2163' };
export const VVX_500: Omit<PhoneIdentity, 'mac'> = { model: 'VVX_500', product: 'PolycomVVX', partNumber: '3111-44500-001', firmware: '5.9.7.4477' };
export const SPIP_335: Omit<PhoneIdentity, 'mac'> = { model: 'SPIP_335', product: 'PolycomSoundPointIP', partNumber: '2345-12375-001', firmware: '4.0.13.1445' };

export interface BootOptions {
  baseUrl: string;
  /** curl arguments for authentication, e.g. ['-u', 'acme:pw'] or ['--digest', '-u', 'acme:pw']. */
  auth: string[];
  phone: PhoneIdentity;
  tagSerial?: boolean;
  /**
   * How a file is fetched, for protocols other than HTTP (TFTP, FTP): answers 200 with the bytes,
   * 404 when the server says the file does not exist, anything else for other failures.
   */
  fetch?: (path: string, method: 'GET' | 'HEAD') => { status: number; body: Buffer; text: string };
}

export interface BootRequest {
  method: 'GET' | 'HEAD';
  path: string;
  status: number;
}

export interface BootResult {
  requests: BootRequest[];
  masterPath: string;
  master: Map<string, string>;
  configFiles: string[];
  configBodies: string[];
  image: { path: string; bytes: Buffer } | null;
  /** What the phone would apply: first definition in CONFIG_FILES wins, device.* only with device.set. */
  effective: Map<string, string>;
}

export function userAgentOf(p: PhoneIdentity, tagSerial = true): string {
  return `FileTransport ${p.product}-${p.model}-UA/${p.firmware}${tagSerial ? ` (SN:${p.mac})` : ''} Type/Application`;
}

function join(dir: string | undefined, name: string): string {
  const d = (dir ?? '').replace(/^\.?\/*/, '').replace(/\/+$/, '');
  return d ? `${d}/${name}` : name;
}

/**
 * Walks the application-phase boot sequence of a Poly phone (fact sheet §1.4) with curl, one new
 * connection per file, and computes what the phone would end up with.
 */
export function bootPhone(opts: BootOptions): BootResult {
  const { phone } = opts;
  const ua = userAgentOf(phone, opts.tagSerial ?? true);
  const requests: BootRequest[] = [];
  const get = (path: string, method: 'GET' | 'HEAD' = 'GET') => {
    const r = opts.fetch ? opts.fetch(path, method) : curl(`${opts.baseUrl}/${path}`, [...opts.auth, '-A', ua, ...(method === 'HEAD' ? ['-I'] : [])]);
    requests.push({ method, path, status: r.status });
    return r;
  };

  let masterPath = `${phone.mac}.cfg`;
  let m = get(masterPath);
  if (m.status === 404) {
    masterPath = '000000000000.cfg';
    m = get(masterPath);
  }
  if (m.status !== 200) throw new Error(`master file: HTTP ${m.status}: ${m.text}`);
  const master = parseMasterFile(m.text);
  const tag = phone.model.replace(/_/g, '');
  const appFilePath = master.get(`APP_FILE_PATH_${tag}`) ?? master.get('APP_FILE_PATH') ?? '';
  const configFiles = splitConfigFiles(master.get(`CONFIG_FILES_${tag}`) ?? master.get('CONFIG_FILES') ?? '').map((f) =>
    f.replaceAll('[PHONE_MAC_ADDRESS]', phone.mac),
  );

  let image: BootResult['image'] = null;
  if (appFilePath) {
    const slash = appFilePath.lastIndexOf('/');
    const dir = appFilePath.slice(0, slash + 1);
    const base = appFilePath.slice(slash + 1);
    for (const candidate of [`${dir}${phone.partNumber}.${base}`, appFilePath]) {
      const r = get(candidate);
      if (r.status === 200) {
        image = { path: candidate, bytes: r.body };
        break;
      }
    }
  }

  const configBodies: string[] = [];
  for (const f of configFiles) {
    const r = get(f);
    if (r.status === 200) configBodies.push(r.text);
  }
  const dirs = (k: string) => master.get(k);
  get(join(dirs('OVERRIDES_DIRECTORY'), `${phone.mac}-phone.cfg`));
  get(join(dirs('OVERRIDES_DIRECTORY'), `${phone.mac}-web.cfg`));
  get(join(dirs('LICENSE_DIRECTORY'), '000000000000-license.cfg'));
  get(join(dirs('LICENSE_DIRECTORY'), `${phone.mac}-license.cfg`));
  get(join(dirs('CALL_LISTS_DIRECTORY'), `${phone.mac}-calls.xml`));
  get(join(dirs('CONTACTS_DIRECTORY'), `${phone.mac}-directory.xml`));
  get(join(dirs('CONTACTS_DIRECTORY'), '000000000000-directory.xml'));
  get(join(dirs('LOG_FILE_DIRECTORY'), `${phone.mac}-app.log`), 'HEAD');

  return { requests, masterPath, master, configFiles, configBodies, image, effective: applyDeviceSetRule(effectiveParameters(configBodies)) };
}

export function statusOf(result: BootResult, path: string): number | undefined {
  return result.requests.find((r) => r.path === path)?.status;
}
