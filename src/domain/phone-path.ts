import { macFromFileName, SITE_MAC, type Mac } from './mac.js';

// What a path in a tenant's tree means to a phone. polyprov owns the directory attributes of the
// master file, so the places where phones upload are fixed names, not tenant settings.

export const PHONE_DIRECTORIES = {
  log: 'logs',
  overrides: 'overrides',
  contacts: 'contacts',
  license: 'licenses',
  callLists: 'calls',
  coreFiles: 'coredumps',
} as const;

/** Suffix of the per-device generated configuration named in CONFIG_FILES. */
export const DEVICE_CONFIG_SUFFIX = '-polyprov.cfg';

export type UploadCategory = 'log' | 'override' | 'directory' | 'call-list' | 'core-file';

export type PhonePath =
  | { kind: 'master'; mac: Mac | null }
  | { kind: 'device-config'; mac: Mac }
  | { kind: 'upload'; category: UploadCategory; mac: Mac; path: string }
  | { kind: 'file'; mac: Mac | null; path: string };

const UPLOADS: Record<string, { category: UploadCategory; suffixes: RegExp }> = {
  [PHONE_DIRECTORIES.log]: { category: 'log', suffixes: /^-(boot|app)\.log$/i },
  [PHONE_DIRECTORIES.overrides]: { category: 'override', suffixes: /^-(phone|web)\.cfg$/i },
  [PHONE_DIRECTORIES.contacts]: { category: 'directory', suffixes: /^-directory\.xml$/i },
  [PHONE_DIRECTORIES.callLists]: { category: 'call-list', suffixes: /^-calls\.xml$/i },
  [PHONE_DIRECTORIES.coreFiles]: { category: 'core-file', suffixes: /^.*$/ },
};

/** `segments` is the path inside the tenant's tree (tenant prefix already removed). */
export function classifyPhonePath(segments: readonly string[]): PhonePath {
  const name = segments[segments.length - 1] ?? '';
  const mac = macFromFileName(name);
  // MAC-named files are matched case-insensitively but always stored and looked up lower-case.
  const canonicalName = mac ? mac + name.slice(12) : name;
  const path = [...segments.slice(0, -1), canonicalName].join('/');

  if (segments.length === 1) {
    if (name.toLowerCase() === `${SITE_MAC}.cfg`) return { kind: 'master', mac: null };
    if (mac && name.length === 16 && name.toLowerCase().endsWith('.cfg')) return { kind: 'master', mac };
    if (mac && name.slice(12).toLowerCase() === DEVICE_CONFIG_SUFFIX) return { kind: 'device-config', mac };
  }
  if (segments.length === 2 && mac) {
    const upload = UPLOADS[segments[0]!];
    if (upload && upload.suffixes.test(name.slice(12))) {
      // Fixed suffixes are stored lower-case too, so `-APP.log` and `-app.log` are one log that
      // `polyprov log` and the API find; a core file keeps the name the phone gave it.
      const stored = upload.category === 'core-file' ? path : `${segments[0]}/${mac}${name.slice(12).toLowerCase()}`;
      return { kind: 'upload', category: upload.category, mac, path: stored };
    }
  }
  return { kind: 'file', mac, path };
}

/**
 * Phones ask for `<their-part-number>.<APP_FILE_PATH basename>` before the plain name. When the
 * master already names a split image (`3111-44500-001.sip.ld`), the phone doubles the prefix
 * (seen on a VVX 500, fact sheet §1.3 C); answer that request with the single-prefixed file.
 */
export function undoubledImagePath(path: string): string | null {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  const m = /^(\d{4}-\d{5}-\d{3})\.(\1\..+)$/.exec(base);
  return m ? dir + m[2] : null;
}
