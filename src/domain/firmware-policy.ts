// Firmware as policy: the target version is a parameter of polyprov's own, set at any layer
// (tenant, model, site, group, device) and resolved like any other, so precedence and `explain`
// come for free. Names under `polyprov.` steer the server and are never written into a phone's
// configuration file.

/** The UC Software version a device should run; must be in its tenant's or the global library. */
export const FIRMWARE_TARGET = 'polyprov.firmware.version';
/** "1" lets a target older than what the phone runs be served (a downgrade is refused otherwise). */
export const FIRMWARE_ALLOW_DOWNGRADE = 'polyprov.firmware.allowDowngrade';

/** Set by the server when it held a device after an upgrade loop: "<image version> at <ISO time>". */
export const FIRMWARE_LOOP = 'polyprov.firmware.loopDetected';

const SERVER_ONLY_PREFIX = 'polyprov.';

/** Parameters the server acts on itself; phones never see them. */
export function isServerOnlyParameter(name: string): boolean {
  return name.startsWith(SERVER_ONLY_PREFIX);
}
