// Zips for firmware tests: built with yazl in memory (Poly's release zips, odd ones), and patched
// afterwards when a test needs a zip whose headers lie about what its entries unpack to.

import yazl from 'yazl';

/** A zip as yazl writes it (deflated, sizes in the headers, no data descriptors); null data is a directory entry. */
export function zipBuffer(entries: [string, Buffer | string | null][]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) {
    if (data === null) zip.addEmptyDirectory(name);
    else zip.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name);
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * A copy of `zip` whose central directory and local header say that entry `name` unpacks to
 * `size` bytes (the deflated data is left as it is, so it still unpacks to its real size).
 * Throws when the zip has no such entry, so a test cannot pass by patching nothing.
 */
export function withDeclaredSize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  let at = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (at < 0) throw new Error('no end of central directory record');
  at = out.readUInt32LE(at + 16);
  while (out.readUInt32LE(at) === CENTRAL) {
    const nameLength = out.readUInt16LE(at + 28);
    const entryName = out.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if (entryName === name) {
      out.writeUInt32LE(size, at + 24);
      const local = out.readUInt32LE(at + 42);
      if (out.readUInt32LE(local) !== LOCAL) throw new Error(`no local header for ${name}`);
      out.writeUInt32LE(size, local + 22);
      return out;
    }
    at += 46 + nameLength + out.readUInt16LE(at + 30) + out.readUInt16LE(at + 32);
  }
  throw new Error(`the zip has no entry "${name}"`);
}
