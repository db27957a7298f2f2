import { FIRMWARE_ALLOW_DOWNGRADE, FIRMWARE_TARGET } from '../domain/firmware-policy.js';
import { compareFirmwareVersions } from '../domain/firmware-version.js';
import { undoubledImagePath } from '../domain/phone-path.js';
import type { PhoneUserAgent } from '../domain/user-agent.js';
import type { Device, FirmwareImage, FirmwareRelease } from '../store/store.js';
import type { TenantSnapshot } from './tenant-snapshot.js';

// Firmware as the phones see it. Every release of a tenant's library (or the global one) is a
// folder `firmware/<version>/` holding its images by the names phones ask for, a `sip.ver` and a
// master file; the master file a phone boots from names the folder of its target version
// (`APP_FILE_PATH="firmware/<version>/sip.ld"`, the phone tries `<its part>.sip.ld` there first).
// A phone that runs a newer version than its target is held where it is unless a downgrade is
// allowed: its master names its own version's folder, which it already runs, so it stays.

export const FIRMWARE_DIR = 'firmware';
/** The Check-for-Updates manifest (fact sheet §9.2), at the root of the tenant's tree. */
export const MANIFEST_NAME = 'ucs.xml';

export function firmwareFolder(version: string): string {
  return `${FIRMWARE_DIR}/${version}/`;
}

export function firmwareAppFilePath(version: string): string {
  return `${firmwareFolder(version)}sip.ld`;
}

/** Who asks: the registered device (if any), the model (UA, else inventory) and the UA itself. */
export interface Requester {
  device: Device | undefined;
  model: string | undefined;
  ua: PhoneUserAgent | null;
}

export interface FirmwareChoice {
  /** The folder the phone is sent to. */
  version: string;
  /** Set when the phone runs a newer version than its target and no downgrade is allowed. */
  held?: { running: string; target: string };
}

/** The version a phone runs, as its UA says: the application's, not the updater's or BootROM's. */
export function runningVersion(ua: PhoneUserAgent | null): string | undefined {
  return ua && (ua.phase === undefined || ua.phase === 'application') ? ua.version : undefined;
}

/** The firmware a phone should get, with the downgrade guard applied; undefined when no target is set. */
export function firmwareChoice(snap: TenantSnapshot, who: Requester): FirmwareChoice | undefined {
  const target = snap.settingFor(FIRMWARE_TARGET, who.device, who.model);
  if (target === undefined) return undefined;
  const running = runningVersion(who.ua) ?? who.device?.firmware ?? undefined;
  if (running && safeCompare(running, target) > 0 && snap.settingFor(FIRMWARE_ALLOW_DOWNGRADE, who.device, who.model) !== '1') {
    return { version: running, held: { running, target } };
  }
  return { version: target };
}

/** A version the phone reported may not parse as one: it then never counts as newer. */
function safeCompare(a: string, b: string): number {
  try {
    return compareFirmwareVersions(a, b);
  } catch {
    return 0;
  }
}

/** An image by the name the phone asked for, ignoring case; `<part>.<part>.sip.ld` is the part's image. */
export function imageNamed(release: FirmwareRelease, name: string): FirmwareImage | undefined {
  const wanted = (undoubledImagePath(name) ?? name).toLowerCase();
  return release.images.find((i) => i.fileName.toLowerCase() === wanted);
}

export type FirmwareAnswer =
  | { kind: 'image'; image: FirmwareImage; version: string; path: string }
  | { kind: 'version'; version: string; path: string }
  | { kind: 'master'; version: string; path: string }
  | { kind: 'manifest'; path: string }
  | { kind: 'missing'; path: string; held?: FirmwareChoice['held'] };

const ROOT_IMAGE = /^(\d{4}-\d{5}-\d{3}\.)?(sip|bootrom|updater|dect)\.ld$|^\d{4}-\d{5}-\d{3}\.\d{4}-\d{5}-\d{3}\.sip\.ld$/i;

/**
 * What a path means for firmware, or undefined when it is not about firmware (a file of the
 * tenant's tree with the same name is looked up first by the caller).
 */
export function firmwarePath(snap: TenantSnapshot, segments: readonly string[], who: Requester): FirmwareAnswer | undefined {
  const path = segments.join('/');
  if (segments.length === 1) {
    const name = segments[0]!;
    if (name.toLowerCase() === MANIFEST_NAME) return { kind: 'manifest', path };
    // The stock master's APP_FILE_PATH="sip.ld": the phone asks at the root for its target's image.
    if (ROOT_IMAGE.test(name) || name.toLowerCase() === 'sip.ver') {
      const choice = firmwareChoice(snap, who);
      if (!choice || choice.held) return { kind: 'missing', path, ...(choice?.held ? { held: choice.held } : {}) };
      return inRelease(snap, choice.version, name, path);
    }
    return undefined;
  }
  // Deeper paths are files of a release kept file for file (a Rove base's folders, say).
  if (segments.length >= 3 && segments[0] === FIRMWARE_DIR) {
    return inRelease(snap, segments[1]!, segments.slice(2).join('/'), path);
  }
  return undefined;
}

function inRelease(snap: TenantSnapshot, version: string, name: string, path: string): FirmwareAnswer {
  const release = snap.releases.get(version);
  if (!release) return { kind: 'missing', path };
  const lower = name.toLowerCase();
  if (lower === 'sip.ver') return { kind: 'version', version, path };
  if (lower === '000000000000.cfg') return { kind: 'master', version, path };
  const image = imageNamed(release, name);
  return image ? { kind: 'image', image, version, path } : { kind: 'missing', path };
}
