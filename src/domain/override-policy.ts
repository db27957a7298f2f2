/**
 * Which parameters phones may override, per tenant: every one (`allow-all`), only those a pattern
 * names (`allow-list`), or all but those (`deny-list`). A pattern is a parameter name whose
 * segments may be `*` (exactly one segment); a trailing `*` segment matches one or more segments,
 * so `up.*` covers `up.backlight.idleIntensity` and `reg.*.label` covers `reg.1.label`. Matching
 * ignores case, as an administrator would expect of names such as `voIpProt.SIP.*`.
 *
 * filterOverrideFile renders an override file without the parameters the policy forbids: what the
 * tenant serves back when it strips them. The stored upload is never changed.
 */
import { DomainError } from './domain-error.js';
import type { OverrideKind } from './override-file.js';
import { parseOverrideFile } from './override-file.js';
import { quoteInput } from './quote-input.js';
import { renderXmlDocument } from './xml-document.js';

export type OverridePolicy = 'allow-all' | 'allow-list' | 'deny-list';

export const OVERRIDE_POLICIES: readonly OverridePolicy[] = Object.freeze(['allow-all', 'allow-list', 'deny-list'] as const);

export function requireOverridePolicy(input: string): OverridePolicy {
  if ((OVERRIDE_POLICIES as readonly string[]).includes(input)) return input as OverridePolicy;
  throw new DomainError(
    `invalid override policy ${quoteInput(input)}: expected allow-all (phones may override anything), allow-list (only the patterns) or deny-list (all but the patterns)`,
  );
}

const SEGMENT = /^(?:\*|[A-Za-z0-9_-]+)$/;
const MAX_PATTERN_LENGTH = 256;

/** Returns the pattern if it looks like a parameter name with `*` segments; throws otherwise. */
export function validateOverridePattern(pattern: string): string {
  if (typeof pattern !== 'string' || pattern.length === 0) throw new DomainError('override pattern is empty: expected a parameter name such as reg.*.label or up.*');
  if (pattern.length > MAX_PATTERN_LENGTH) throw new DomainError(`override pattern ${quoteInput(pattern)} is too long: at most ${MAX_PATTERN_LENGTH} characters`);
  const segments = pattern.split('.');
  const first = segments[0]!;
  const ok = segments.every((s) => SEGMENT.test(s)) && (first === '*' || /^[A-Za-z]/.test(first));
  if (!ok) {
    throw new DomainError(
      `invalid override pattern ${quoteInput(pattern)}: expected a parameter name whose "."-separated segments are letters, digits, "_" and "-" or a whole "*", e.g. reg.*.label or up.*`,
    );
  }
  return pattern;
}

/** Whether `name` matches `pattern` (see the module comment). */
export function matchesOverridePattern(name: string, pattern: string): boolean {
  const n = name.toLowerCase().split('.');
  const p = pattern.toLowerCase().split('.');
  const trailingWildcard = p[p.length - 1] === '*';
  if (trailingWildcard ? n.length < p.length : n.length !== p.length) return false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] !== '*' && p[i] !== n[i]) return false;
  }
  return true;
}

/** Whether the tenant's policy lets a phone override `name`. */
export function isOverrideAllowed(name: string, policy: OverridePolicy, patterns: readonly string[]): boolean {
  if (policy === 'allow-all') return true;
  const listed = patterns.some((p) => matchesOverridePattern(name, p));
  return policy === 'allow-list' ? listed : !listed;
}

const ROOT: Readonly<Record<OverrideKind, string>> = { phone: 'PHONE_CONFIG', web: 'WEB_CONFIG' };

function rootKind(xml: string): OverrideKind {
  // The root element's name, after the declaration and any comments (the parser accepted the file).
  const m = /^\uFEFF?\s*(?:<\?xml[^?]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<([A-Za-z_][A-Za-z0-9._:-]*)/.exec(xml);
  return m?.[1] === 'WEB_CONFIG' ? 'web' : 'phone';
}

/**
 * The override file with only the parameters `allowed` accepts, rendered as one OVERRIDES element
 * under PHONE_CONFIG (WEB_CONFIG for a web file, from `kind` or else the document's root), and the
 * names left out. Null when the file does not parse or cannot be rendered again: the caller then
 * serves it as stored, so the phone never loses what it had to a file polyprov cannot read.
 */
export function filterOverrideFile(
  xml: string,
  allowed: (name: string) => boolean,
  kind?: OverrideKind,
): { xml: string; removed: string[] } | null {
  const parsed = parseOverrideFile(xml);
  if (!parsed.ok) return null;
  const kept: [string, string][] = [];
  const removed: string[] = [];
  for (const [name, value] of parsed.params) {
    if (allowed(name)) kept.push([name, value]);
    else removed.push(name);
  }
  try {
    const out = renderXmlDocument(
      { version: '1.0', encoding: 'UTF-8', standalone: 'yes' },
      { name: ROOT[kind ?? rootKind(xml)], attributes: [], children: [{ name: 'OVERRIDES', attributes: kept }] },
      removed.length ? `polyprov: ${removed.length} override(s) the tenant does not allow were left out` : undefined,
    );
    return { xml: out, removed };
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}
