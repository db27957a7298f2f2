import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

// The baseline: the cheapest server that could answer the same requests. A bare node:http server
// in one process with the exact bytes polyprov served, keyed by path. No authentication, no
// tenant, no inventory: a Map get and a write. Run as a child process by config-fetch.ts:
//
//   node --import tsx bench/baseline-server.ts <responses.json>
//
// where responses.json is { "<path>": { "headers": {…}, "body": "<base64>" } }. Prints
// {"msg":"listening","protocol":"http","port":N} on stdout once it accepts connections.

interface Stored {
  headers: Record<string, string>;
  body: string;
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: baseline-server.ts <responses.json>\n');
  process.exit(2);
}
const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Stored>;
const responses = new Map<string, { headers: Record<string, string | number>; body: Buffer }>();
for (const [path, s] of Object.entries(stored)) {
  const body = Buffer.from(s.body, 'base64');
  responses.set(path, { headers: { ...s.headers, 'content-length': body.length }, body });
}

const server = createServer((req, res) => {
  const r = responses.get(req.url ?? '');
  if (!r) {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, r.headers);
  res.end(r.body);
});
// Same idle timeout as polyprov's HTTP edge.
server.keepAliveTimeout = 5000;

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(JSON.stringify({ msg: 'listening', protocol: 'http', port, paths: responses.size }) + '\n');
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The bench keeps our stdin open: if it dies without stopping us, do not linger.
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
