import { DomainError } from './domain-error.js';
import { compareFirmwareVersions, parseFirmwareVersion } from './firmware-version.js';
import { quoteInput } from './quote-input.js';
import type { XmlElement } from './xml-document.js';
import { renderXmlDocument } from './xml-document.js';

export interface PhoneImageEntry {
  /** UC Software version, e.g. 5.9.8.5760. */
  version: string;
  /** URL of the folder holding that release's images, sip.ver and 000000000000.cfg. */
  path: string;
}

function requirePath(entry: PhoneImageEntry, version: string): string {
  const path = entry.path;
  if (typeof path !== 'string' || path === '' || path !== path.trim() || /[\t\n\r]/.test(path)) {
    throw new DomainError(
      `invalid path ${quoteInput(path)} for firmware ${quoteInput(version)}: expected the URL of the release's folder on one line, without surrounding spaces, e.g. http://server/firmware/${version}/`,
    );
  }
  return path;
}

function phoneImage(entry: PhoneImageEntry): XmlElement {
  return {
    name: 'PHONE_IMAGE',
    attributes: [],
    children: [
      { name: 'VERSION', attributes: [], text: entry.version },
      { name: 'PATH', attributes: [], text: entry.path },
    ],
  };
}

/**
 * The PHONE_IMAGES list a phone's web UI reads from a custom upgrade server ("Check for Updates",
 * fact sheet §9.2). Newest first, so that the likely choice heads the list the phone shows.
 */
export function renderPhoneImagesManifest(entries: readonly PhoneImageEntry[]): string {
  const checked = entries.map((entry) => {
    const version = parseFirmwareVersion(entry.version);
    return { version, path: requirePath(entry, version) };
  });
  const sorted = [...checked].sort((a, b) => compareFirmwareVersions(b.version, a.version));
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    const current = sorted[i];
    // 6.4.6 and 6.4.6.0 are one release: listing both would offer the phone the same image twice.
    if (compareFirmwareVersions(previous.version, current.version) === 0) {
      throw new DomainError(
        `firmware ${quoteInput(current.version)} is listed twice (also as ${quoteInput(previous.version)}): each version may appear once`,
      );
    }
  }
  const root: XmlElement = {
    name: 'PHONE_IMAGES',
    attributes: [],
    children: [{ name: 'REVISION', attributes: [['ID', '']], children: sorted.map(phoneImage) }],
  };
  return renderXmlDocument({ version: '1.0', encoding: 'UTF-8' }, root);
}
