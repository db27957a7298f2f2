import { DomainError } from './domain-error.js';
import { compareFirmwareVersions, parseFirmwareVersion } from './firmware-version.js';
import { modelsForPartNumber } from './models.js';
import { quoteInput } from './quote-input.js';

export type ImageKind = 'application' | 'bootrom' | 'updater' | 'dect';

export interface ReleaseImage {
  /** Path inside the archive/folder, as given. */
  path: string;
  /** Name phones ask for: basename, e.g. `3111-44500-001.sip.ld`, `sip.ld`, `3111-17823-001.dect.ld`. */
  fileName: string;
  kind: ImageKind;
  /** null for a combined image (`sip.ld`, `bootrom.ld`, `updater.ld`). */
  partNumber: string | null;
  /** Models the part number belongs to (models.ts), [] for combined images or unknown parts. */
  models: string[];
  size: number;
}

export interface ReleaseContents {
  version: string;
  /** 'split': only <part>.sip.ld application images; 'combined': only sip.ld; 'mixed': both. */
  layout: 'split' | 'combined' | 'mixed';
  images: ReleaseImage[];
  /** Part-numbered images whose part number is not in the model table (kept, served by name). */
  unknownParts: string[];
  /** Files that are not images (templates, sip.ver, localisation folders…): not stored. */
  ignored: string[];
}

export interface ReleaseListing {
  files: readonly { path: string; size: number }[];
  /** Text of the release's sip.ver, if it has one. */
  sipVer?: string;
  /** The zip's or folder's own name, e.g. UC_Software_5_9_8_5760_release_sig_split.zip */
  sourceName?: string;
  /** Given by the administrator: wins, but must agree with sip.ver when both exist. */
  version?: string;
}

// Fact sheet §2.5, §9.1 and §11. Old SoundPoint releases call the updater "upgrader"; only the
// part-numbered spelling of it is known. A DECT image exists only per part (the VVX D60 base).
const PART = '([0-9]{4}-[0-9]{5}-[0-9]{3})';
const IMAGE_NAMES: readonly { pattern: RegExp; kind: ImageKind }[] = [
  { pattern: new RegExp(`^(?:${PART}\\.)?sip\\.ld$`, 'i'), kind: 'application' },
  { pattern: new RegExp(`^(?:${PART}\\.)?bootrom\\.ld$`, 'i'), kind: 'bootrom' },
  { pattern: new RegExp(`^(?:${PART}\\.)?updater\\.ld$`, 'i'), kind: 'updater' },
  { pattern: new RegExp(`^${PART}\\.upgrader\\.ld$`, 'i'), kind: 'updater' },
  { pattern: new RegExp(`^${PART}\\.dect\\.ld$`, 'i'), kind: 'dect' },
];

// The D60 base is kept out of models.ts's table because it does not provision as a phone, but its
// image is a known part of a release, not an unknown one. VVX_D60 is normalizeModel's spelling.
const D60_BASE_PART = '3111-17823-001';
const D60_BASE_MODELS: readonly string[] = ['VVX_D60'];

function modelsFor(part: string, kind: ImageKind): string[] {
  if (kind === 'dect' && part === D60_BASE_PART) return [...D60_BASE_MODELS];
  return modelsForPartNumber(part);
}

// Zips made on Windows may separate folders with "\".
function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function describeSource(sourceName: string | undefined): string {
  return sourceName === undefined ? 'the release' : quoteInput(sourceName);
}

function classifyImage(path: string, size: number): ReleaseImage | null {
  const fileName = baseName(path);
  for (const { pattern, kind } of IMAGE_NAMES) {
    const match = pattern.exec(fileName);
    if (!match) continue;
    // A truncated download or extraction shows up as an empty image; a phone would flash nothing.
    if (size === 0) {
      throw new DomainError(`image ${quoteInput(path)} is empty (0 bytes): the archive is damaged or incomplete, download the release again`);
    }
    const partNumber = match[1] ?? null;
    return { path, fileName, kind, partNumber, models: partNumber === null ? [] : modelsFor(partNumber, kind), size };
  }
  return null;
}

function requireFile(file: { path: string; size: number }): void {
  if (typeof file.path !== 'string' || file.path === '') {
    throw new DomainError(`invalid file path ${quoteInput(file.path)} in the release listing: expected a non-empty path`);
  }
  if (!Number.isSafeInteger(file.size) || file.size < 0) {
    throw new DomainError(`invalid size ${quoteInput(file.size)} for ${quoteInput(file.path)}: expected a whole number of bytes`);
  }
}

function findImages(listing: ReleaseListing): { images: ReleaseImage[]; ignored: string[] } {
  const images: ReleaseImage[] = [];
  const ignored: string[] = [];
  // Phones ask for an image by name only, so two files with one name would be ambiguous; names are
  // compared without case because the name patterns are matched without case.
  const pathByName = new Map<string, string>();
  for (const file of listing.files) {
    requireFile(file);
    // Directory entries of a zip are not files.
    if (baseName(file.path) === '') continue;
    const image = classifyImage(file.path, file.size);
    if (image === null) {
      ignored.push(file.path);
      continue;
    }
    const key = image.fileName.toLowerCase();
    const earlier = pathByName.get(key);
    if (earlier !== undefined) {
      throw new DomainError(
        `${quoteInput(image.fileName)} appears twice in ${describeSource(listing.sourceName)}, as ${quoteInput(earlier)} and ${quoteInput(file.path)}: phones ask for it by name only, so keep one of them`,
      );
    }
    pathByName.set(key, file.path);
    images.push(image);
  }
  return { images, ignored };
}

function layoutOf(images: readonly ReleaseImage[]): ReleaseContents['layout'] {
  const applications = images.filter((image) => image.kind === 'application');
  const split = applications.some((image) => image.partNumber !== null);
  const combined = applications.some((image) => image.partNumber === null);
  if (split && combined) return 'mixed';
  // A release of DECT images only is per part, like a split one.
  return combined ? 'combined' : 'split';
}

function sipVerVersion(sipVer: string): string | null {
  const line = sipVer.split(/\r\n|\r|\n/).find((text) => text.trim() !== '');
  if (line === undefined) return null;
  try {
    return parseFirmwareVersion(line);
  } catch {
    return null;
  }
}

const UC_SOFTWARE_NAME = /UC_Software_([0-9]+(?:_[0-9]+){1,4})(?!_?[0-9])/i;

/** The version a release's own name carries, or null (Poly's folder names need a caller's help). */
function nameVersion(sourceName: string): string | null {
  const uc = UC_SOFTWARE_NAME.exec(sourceName);
  const name = baseName(sourceName.trim()).replace(/\.zip$/i, '');
  for (const candidate of [uc?.[1]?.replace(/_/g, '.'), name]) {
    if (candidate === undefined) continue;
    try {
      return parseFirmwareVersion(candidate);
    } catch {
      // Not a version after all; the caller reports what it tried.
    }
  }
  return null;
}

function releaseVersion(listing: ReleaseListing): string {
  const given = listing.version === undefined ? null : parseFirmwareVersion(listing.version);
  const fromSipVer = listing.sipVer === undefined ? null : sipVerVersion(listing.sipVer);
  if (given !== null) {
    // An unreadable sip.ver cannot contradict the administrator, who may be working around it.
    if (fromSipVer !== null && compareFirmwareVersions(given, fromSipVer) !== 0) {
      throw new DomainError(
        `the given version ${quoteInput(given)} disagrees with the release's sip.ver, which says ${quoteInput(fromSipVer)}: check that this is the release you meant, or give --version ${fromSipVer}`,
      );
    }
    return given;
  }
  if (listing.sipVer !== undefined) {
    if (fromSipVer === null) {
      throw new DomainError(
        `the release's sip.ver does not start with a UC Software version (it says ${quoteInput(listing.sipVer.trim())}): give the version with --version, e.g. --version 5.9.8.5760`,
      );
    }
    return fromSipVer;
  }
  const fromName = listing.sourceName === undefined ? null : nameVersion(listing.sourceName);
  if (fromName !== null) return fromName;
  throw new DomainError(
    `cannot tell the version of ${describeSource(listing.sourceName)}: it has no sip.ver and its name is neither UC_Software_<x_y_z…> nor a version; give the version with --version, e.g. --version 5.9.8.5760`,
  );
}

/** What a UC Software release holds, from its file listing (a zip's entries or a folder's files). */
export function classifyRelease(input: ReleaseListing): ReleaseContents {
  const { images, ignored } = findImages(input);
  if (!images.some((image) => image.kind === 'application' || image.kind === 'dect')) {
    throw new DomainError(
      `no UC Software image (sip.ld or <part-number>.sip.ld) in ${describeSource(input.sourceName)}: expected a UC Software release, split or combined, as Poly ships it`,
    );
  }
  const unknownParts = [
    ...new Set(images.flatMap((image) => (image.partNumber !== null && image.models.length === 0 ? [image.partNumber] : []))),
  ];
  return { version: releaseVersion(input), layout: layoutOf(images), images, unknownParts, ignored };
}
