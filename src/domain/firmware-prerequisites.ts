import { compareFirmwareVersions } from './firmware-version.js';
import table from './firmware-prerequisites.json' with { type: 'json' };

// Whether a phone can take a version, from what it has reported (its Updater, its running
// version). A table, not code: new knowledge is a line of data. A BootROM version is not in the
// provisioning User-Agent, so BootROM rules can only warn that it is unknown.

export interface PrerequisiteRule {
  models: string[];
  fromVersion: string;
  needs: { updater?: string; bootrom?: string; running?: string };
  why: string;
  source: string;
}

export const PREREQUISITES: readonly PrerequisiteRule[] = table.rules as PrerequisiteRule[];

export interface PhoneFirmwareFacts {
  model: string | null;
  /** Application version it runs, as reported. */
  running: string | null;
  /** Updater version, as reported while it ran its Updater. */
  updater: string | null;
}

const older = (have: string, need: string) => {
  try {
    return compareFirmwareVersions(have, need) < 0;
  } catch {
    return true;
  }
};

function concerns(rule: PrerequisiteRule, model: string): boolean {
  return rule.models.some((m) => (m.endsWith('*') ? model.startsWith(m.slice(0, -1)) : model === m));
}

export interface PrerequisiteWarning {
  rule: PrerequisiteRule;
  /** 'missing': the phone reported an older one; 'unknown': it never said. */
  state: 'missing' | 'unknown';
}

/** The rules a phone of these facts may fail for `target`; [] when none applies or all are met. */
export function prerequisiteWarnings(target: string, phone: PhoneFirmwareFacts, rules: readonly PrerequisiteRule[] = PREREQUISITES): PrerequisiteWarning[] {
  if (!phone.model) return [];
  const out: PrerequisiteWarning[] = [];
  for (const rule of rules) {
    if (!concerns(rule, phone.model) || older(target, rule.fromVersion)) continue;
    // A phone already on a version the rule covers has what it needed.
    if (phone.running && !older(phone.running, rule.fromVersion)) continue;
    const n = rule.needs;
    if (n.updater) {
      if (!phone.updater) out.push({ rule, state: 'unknown' });
      else if (older(phone.updater, n.updater)) out.push({ rule, state: 'missing' });
    }
    if (n.bootrom) out.push({ rule, state: 'unknown' });
    if (n.running) {
      if (!phone.running) out.push({ rule, state: 'unknown' });
      else if (older(phone.running, n.running)) out.push({ rule, state: 'missing' });
    }
  }
  return out;
}
