import { FIRMWARE_DIR } from './firmware-files.js';
import { PHONE_DIRECTORIES } from '../domain/phone-path.js';
import type { Store } from '../store/store.js';
import type { DirectoryEntry } from './core.js';
import { defaultMaster, deviceConfig, deviceMaster, deviceNeedsOwnMaster } from './render-files.js';
import type { TenantSnapshot } from './tenant-snapshot.js';

const UPLOAD_DIRECTORIES = new Set<string>(Object.values(PHONE_DIRECTORIES));

/** Whether `dir` is a folder phones can read from: the top, an upload folder or a folder of the tree. */
export function directoryExists(snap: TenantSnapshot, dir: string): boolean {
  if (dir === '' || UPLOAD_DIRECTORIES.has(dir)) return true;
  const prefix = `${dir}/`;
  for (const path of snap.filesByPath.keys()) if (path.startsWith(prefix)) return true;
  return firmwareDirectoryExists(snap, dir);
}

/**
 * The firmware library's folders (firmware-files.ts): FTP clients such as libcurl change into each
 * folder of `firmware/<version>/sip.ld` before the RETR, so the folders must exist for CWD.
 */
function firmwareDirectoryExists(snap: TenantSnapshot, dir: string): boolean {
  const [top, version, ...rest] = dir.split('/');
  if (top !== FIRMWARE_DIR || snap.releases.size === 0) return false;
  if (version === undefined) return true;
  const release = snap.releases.get(version);
  if (!release) return false;
  if (rest.length === 0) return true;
  const inner = `${rest.join('/')}/`.toLowerCase();
  return release.images.some((i) => i.fileName.toLowerCase().startsWith(inner));
}

/**
 * What a directory listing (FTP LIST, NLST, MLSD) shows of a tenant: the files a phone could read
 * there. At the top, the generated master, each registered device's configuration (and its own
 * master when it has one), the tree's files and folders, and the upload folders; inside an upload
 * folder, what phones uploaded (the newest version of each file) besides any tree files kept there.
 * undefined when `dir` is neither an upload folder nor a folder of the tree.
 */
export async function listDirectory(store: Store, snap: TenantSnapshot, dir: string): Promise<DirectoryEntry[] | undefined> {
  const entries = new Map<string, DirectoryEntry>();
  const add = (e: DirectoryEntry) => entries.set(e.name, e);
  const tenantTime = new Date(snap.tenant.createdAt);
  const prefix = dir === '' ? '' : `${dir}/`;

  if (dir === '') {
    // Generated files change with policy, not on a clock: the listing gives the current time.
    const now = new Date();
    add({ name: '000000000000.cfg', kind: 'file', size: defaultMaster(snap).body.length, modified: now });
    for (const device of snap.devicesByMac.values()) {
      if (deviceNeedsOwnMaster(snap, device)) add({ name: `${device.mac}.cfg`, kind: 'file', size: deviceMaster(snap, device).body.length, modified: now });
      const config = deviceConfig(snap, device.mac, device, device.model ?? undefined);
      add({ name: `${device.mac}-polyprov.cfg`, kind: 'file', size: config.body.length, modified: now });
    }
    for (const name of UPLOAD_DIRECTORIES) add({ name, kind: 'dir', size: 0, modified: tenantTime });
  }

  if (!directoryExists(snap, dir)) return undefined;
  for (const f of snap.filesByPath.values()) {
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) add({ name: rest, kind: 'file', size: f.size, modified: new Date(f.createdAt) });
    else if (!entries.has(rest.slice(0, slash))) add({ name: rest.slice(0, slash), kind: 'dir', size: 0, modified: new Date(f.createdAt) });
  }

  if (dir === PHONE_DIRECTORIES.log) {
    for (const log of await store.listPhoneLogs(snap.tenant.id)) {
      add({ name: log.path.slice(prefix.length), kind: 'file', size: log.base + log.length, modified: new Date(log.updatedAt) });
    }
  } else if (UPLOAD_DIRECTORIES.has(dir)) {
    // Versions come oldest first per path, so the newest one wins.
    for (const up of await store.listPhoneUploads(snap.tenant.id)) {
      if (up.path.startsWith(prefix)) add({ name: up.path.slice(prefix.length), kind: 'file', size: up.size, modified: new Date(up.createdAt) });
    }
  }
  return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
