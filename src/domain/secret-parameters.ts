/**
 * Which parameters hold secrets: SIP registration passwords, the phone's admin and user passwords,
 * the provisioning server's password, Wi-Fi keys, directory, push, TR-069 and XMPP passwords. In
 * Poly's templates every such name ends in a segment ending `Password`/`password` (or `.psk.key`),
 * while switches about passwords (`dir.local.passwordProtected`, `sec.pwd.length.admin`,
 * `prov.login.localPassword.hashed`) end otherwise; checked against the parameter catalog.
 */
const SECRET_NAME = /(?:password|passwd|secret|passphrase)$|\.psk\.key$/i;

export function isSecretParameter(name: string): boolean {
  return SECRET_NAME.test(name);
}

// An XML attribute of a Polycom file: name="value" or name='value'.
const ATTRIBUTE = /([A-Za-z_][\w.\-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Names of the secret parameters that a Polycom configuration file (or any XML) sets to a non-empty
 * value. A scan of the text rather than a parse: it must also judge files that do not parse, and a
 * false positive only refuses a file over TFTP.
 */
export function secretsIn(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(ATTRIBUTE)) {
    const value = m[2] ?? m[3] ?? '';
    if (value !== '' && isSecretParameter(m[1]!)) found.add(m[1]!);
  }
  return [...found];
}
