// A TFTP file name becomes the core's request target. Phones send names relative to the server's
// root ("0004f2a1b2c3-polyprov.cfg", "logs/0004f2a1b2c3-app.log"); some clients add a leading "/".

export type TargetResult = { ok: true; target: string } | { ok: false; message: string };

export function targetFromFilename(filename: string): TargetResult {
  // A backslash is a Windows-style separator or a traversal attempt: neither names a file here.
  if (filename.includes('\\')) return { ok: false, message: 'backslash in file name' };
  if (filename.includes('\0')) return { ok: false, message: 'NUL in file name' };
  // Each segment is percent-encoded so that the core sees exactly these characters ('%', '?', '#'
  // included); '..' stays '..' and the core refuses it with every other traversal.
  const segments = filename.split('/').filter((s) => s !== '');
  if (segments.length === 0) return { ok: false, message: 'empty file name' };
  return { ok: true, target: '/' + segments.map(encodeURIComponent).join('/') };
}
