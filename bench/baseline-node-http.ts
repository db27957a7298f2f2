import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { pipeline } from 'node:stream';

// The baseline of the firmware download bench: a bare node:http server in one process that
// streams one file from disk at one path, the plainest way Node can serve a firmware image.
// fs.createReadStream piped to the response, Content-Length set; no authentication, no tenant, no
// ranges, no cache. Run as a child process by firmware-download.ts:
//
//   node --import tsx bench/baseline-node-http.ts <file> <url path> [<read size in bytes>]
//
// The read size is the stream's highWaterMark (Node's default: 64 KiB); the bench gives it
// polyprov's (256 KiB), so that the two differ in what the server does, not in how it reads.
// Prints {"msg":"listening","protocol":"http","port":N} on stdout once it accepts connections.

const [file, urlPath, readSize] = process.argv.slice(2);
const highWaterMark = readSize === undefined ? 64 * 1024 : Number(readSize);
if (!file || !urlPath?.startsWith('/') || !Number.isInteger(highWaterMark) || highWaterMark < 1) {
  process.stderr.write('usage: baseline-node-http.ts <file> <url path> [<read size in bytes>]\n');
  process.exit(2);
}
const size = statSync(file).size;

const server = createServer((req, res) => {
  if (req.url !== urlPath || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // pipeline destroys the file stream when the client hangs up mid-body.
  pipeline(createReadStream(file, { highWaterMark }), res, () => undefined);
});
// Same idle timeout as polyprov's HTTP edge.
server.keepAliveTimeout = 5000;

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(JSON.stringify({ msg: 'listening', protocol: 'http', port, bytes: size, highWaterMark }) + '\n');
});

const stop = () => {
  server.close(() => process.exit(0));
  // Downloads still running do not hold the exit up for long.
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The bench keeps our stdin open: if it dies without stopping us, do not linger.
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
