import { DomainError } from './domain-error.js';
import { parseFirmwareVersion } from './firmware-version.js';
import { quoteInput } from './quote-input.js';
import { parseRequestPath } from './request-path.js';

// A release kept file for file: Poly Rove base and handset firmware (whose file names and layout
// no public source documents, fact sheet §11), or anything else a device fetches by name. Every
// file is served from firmware/<version>/ under its path inside the source, one shared top folder
// (as zips have) left out.

export interface FileReleaseContents {
  version: string;
  files: { path: string; fileName: string; size: number }[];
}

export function classifyFileRelease(input: { files: readonly { path: string; size: number }[]; version?: string; sourceName?: string }): FileReleaseContents {
  if (!input.version) throw new DomainError(`a release of plain files needs its version: give --version (e.g. --version 8.0.3)`);
  const version = parseFirmwareVersion(input.version);
  const files = input.files.filter((f) => !f.path.endsWith('/'));
  if (files.length === 0) throw new DomainError(`no files in ${quoteInput(input.sourceName ?? 'the source')}`);
  const split = files.map((f) => f.path.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.'));
  const top = split[0]![0];
  const shared = split.every((s) => s.length > 1 && s[0] === top);
  const seen = new Set<string>();
  return {
    version,
    files: files.map((f, i) => {
      const rel = (shared ? split[i]!.slice(1) : split[i]!).join('/');
      const parsed = parseRequestPath('/' + rel);
      if (!parsed.ok) throw new DomainError(`cannot serve ${quoteInput(f.path)}: ${parsed.reason}`);
      const fileName = parsed.segments.join('/');
      if (seen.has(fileName.toLowerCase())) throw new DomainError(`${quoteInput(fileName)} is in the release twice`);
      seen.add(fileName.toLowerCase());
      return { path: f.path, fileName, size: f.size };
    }),
  };
}
