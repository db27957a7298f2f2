const BY_EXTENSION: Record<string, string> = {
  cfg: 'application/xml',
  xml: 'application/xml',
  ld: 'application/octet-stream',
  ver: 'text/plain; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  wav: 'audio/wav',
  png: 'image/png',
  jpg: 'image/jpeg',
  bmp: 'image/bmp',
  pem: 'application/x-pem-file',
  crt: 'application/x-x509-ca-cert',
};

/** Phones ignore Content-Type (fact sheet §12.10); this is for browsers and humans. */
export function contentTypeFor(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return BY_EXTENSION[ext] ?? 'application/octet-stream';
}
