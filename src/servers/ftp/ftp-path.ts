// FTP names paths the way a shell does (relative to a working directory, with '.' and '..'); the
// core takes an absolute, percent-encoded target. This turns one into the other and nothing more:
// it never decides what is allowed. A '..' that would climb above the root is kept, not clamped,
// so the core's single traversal check refuses it and the client gets an error rather than a
// silently different file.

/** An absolute path as segments; the root is []. May hold '..' segments above the root. */
export type FtpPath = readonly string[];

export const ROOT: FtpPath = [];

export function resolveFtpPath(cwd: FtpPath, arg: string): FtpPath {
  const out = arg.startsWith('/') ? [] : [...cwd];
  for (const seg of arg.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(seg);
  }
  return out;
}

/** As shown to the client (PWD, MLST): '/a/b'. */
export function displayPath(p: FtpPath): string {
  return '/' + p.join('/');
}

/**
 * The core's request target. Each segment is percent-encoded on its own, so a '%' inside a name
 * stays a character of that name (a literal '%2e%2e' is a name, never '..') and a backslash or NUL
 * arrives encoded, where the core refuses it.
 */
export function coreTarget(p: FtpPath): string {
  return '/' + p.map(encodeURIComponent).join('/');
}

/** The directory holding `p` and the name in it; the root has neither. */
export function splitParent(p: FtpPath): { parent: FtpPath; name: string } | null {
  if (p.length === 0) return null;
  return { parent: p.slice(0, -1), name: p[p.length - 1]! };
}
