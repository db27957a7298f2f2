import { PHONE_DIRECTORIES } from '../domain/phone-path.js';
import { AdminError } from './admin-error.js';

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function validateSlug(what: string, slug: string): string {
  if (!SLUG.test(slug)) {
    throw new AdminError(`invalid ${what} "${slug}": use 1-63 lower-case letters, digits and "-", starting with a letter or digit`);
  }
  return slug;
}

const RESERVED_PREFIXES = new Set<string>(Object.values(PHONE_DIRECTORIES));

export function validatePathPrefix(prefix: string): string {
  validateSlug('path prefix', prefix);
  if (RESERVED_PREFIXES.has(prefix)) throw new AdminError(`path prefix "${prefix}" is a directory phones upload to; choose another`);
  if (/^[0-9a-f]{12}$/.test(prefix)) throw new AdminError(`path prefix "${prefix}" looks like a MAC address; choose another`);
  return prefix;
}

export function validateHostname(host: string): string {
  const h = host.trim().toLowerCase();
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  if (h.length > 253 || !h.split('.').every((l) => label.test(l))) {
    throw new AdminError(`invalid host name "${host}": expected a DNS name such as prov.example.com`);
  }
  return h;
}

export function validateUsername(name: string): string {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
    throw new AdminError(`invalid provisioning user name "${name}": use 1-64 letters, digits and . _ @ -`);
  }
  return name;
}

export function validatePassword(pw: string): string {
  if (pw.length < 8 || pw.length > 128 || /[\u0000-\u001f\u007f]/.test(pw)) {
    throw new AdminError('invalid provisioning password: use 8-128 printable characters');
  }
  return pw;
}

/** APP_FILE_PATH and CONFIG_FILES entries: phones accept forward slashes only, no spaces, ≤ 255 characters (fact sheet §1.8, §3.1). */
export function validateFileReference(what: string, ref: string): string {
  if (!ref || ref.length > 255 || /[\s,\\]/.test(ref)) {
    throw new AdminError(`invalid ${what} "${ref}": expected a file name or URL of at most 255 characters without spaces, commas or backslashes`);
  }
  return ref;
}

export function validateConfigFileList(list: string[]): string[] {
  for (const f of list) validateFileReference('CONFIG_FILES entry', f);
  if (list.join(', ').length > 2000) throw new AdminError('the extra CONFIG_FILES list is too long: phones accept at most 2047 characters in all');
  return list;
}
