import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';

// UC Software versions as Poly writes them in sip.ver and release names: 5.9.8.5760, 4.0.15.1009,
// 6.4.6. Leading zeros are refused so that a version has one spelling per component ("05.9" would
// compare equal to "5.9" yet name a different folder).
const COMPONENT = '(?:0|[1-9][0-9]{0,5})';
const VERSION = new RegExp(`^${COMPONENT}(?:\\.${COMPONENT}){1,4}$`);

/** The canonical (trimmed) UC Software version, e.g. 5.9.8.5760; DomainError when it is not one. */
export function parseFirmwareVersion(text: string): string {
  const version = typeof text === 'string' ? text.trim() : '';
  if (!VERSION.test(version)) {
    throw new DomainError(
      `invalid firmware version ${quoteInput(text)}: expected a UC Software version of 2 to 5 dot-separated numbers (0-999999, no leading zeros), e.g. 5.9.8.5760 or 6.4.6`,
    );
  }
  return version;
}

function components(version: string): number[] {
  return parseFirmwareVersion(version).split('.').map(Number);
}

/**
 * Orders versions numerically, component by component; negative when a is older. A missing
 * component counts as 0, so a release named 6.4.6 and a sip.ver saying 6.4.6.0 agree.
 */
export function compareFirmwareVersions(a: string, b: string): number {
  const left = components(a);
  const right = components(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/** One key for every spelling of a version (6.4.6 and 6.4.6.0 are the same release). */
export function firmwareVersionKey(version: string): string {
  const parts = parseFirmwareVersion(version).split('.').map(Number);
  while (parts.length > 1 && parts[parts.length - 1] === 0) parts.pop();
  return parts.join('.');
}
