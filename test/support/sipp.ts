import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * sipp (Debian's sip-tester) playing a phone: a foreground child process bound to 127.0.0.1 that
 * runs one scenario and records every message it sent and received (`-trace_msg`), so tests can
 * read what actually went over the wire.
 */

export interface SippMessage {
  direction: 'received' | 'sent';
  text: string;
}

export interface SippResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The tail of sipp's screen output, for failure messages. */
  output: string;
  messages: SippMessage[];
}

export interface SippOptions {
  /** Path of the scenario XML. */
  scenario: string;
  transport?: 'udp' | 'tcp';
  /** Calls to process before exiting (-m). */
  calls?: number;
  /** sipp's own global timeout; the process is killed a little after it in any case. */
  timeoutSeconds?: number;
  /** More sipp arguments, e.g. `-nr`. */
  extraArgs?: string[];
}

const OUTPUT_TAIL = 16_384;

async function freePort(transport: 'udp' | 'tcp'): Promise<number> {
  if (transport === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const { port } = s.address();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether the kernel shows a socket bound (UDP) or listening (TCP) on the port, read without touching it. */
function isBound(transport: 'udp' | 'tcp', port: number): boolean {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of transport === 'udp' ? ['/proc/net/udp', '/proc/net/udp6'] : ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(hexPort) && (transport === 'udp' || cols[3] === '0A')) return true;
    }
  }
  return false;
}

/** Splits sipp's message trace into the messages, each with its direction and CRLF text. */
export function parseSippTrace(trace: string): SippMessage[] {
  const out: SippMessage[] = [];
  for (const block of trace.split(/^-{20,} [^\n]*\n/m)) {
    const m = /^\w+ message (received|sent)[^\n]*\n\n([\s\S]*)$/.exec(block);
    // sipp adds one LF after each message's own CRLF CRLF.
    if (m) out.push({ direction: m[1] === 'received' ? 'received' : 'sent', text: m[2]!.replace(/\r\n\r\n\n$/, '\r\n\r\n') });
  }
  return out;
}

/** A running sipp; always `stop()` it in a finally. */
export class Sipp {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
    private readonly output: () => string,
    private readonly killTimer: NodeJS.Timeout,
  ) {}

  /** Starts sipp on a free loopback port and waits (bounded) until its socket is bound. */
  static async start(opts: SippOptions): Promise<Sipp> {
    const transport = opts.transport ?? 'udp';
    let lastFailure = '';
    // A port found free can be taken by someone else before sipp binds it: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort(transport);
      const dir = mkdtempSync(join(tmpdir(), 'polyprov-sipp-'));
      const timeoutSeconds = opts.timeoutSeconds ?? 15;
      const args = [
        '-sf', opts.scenario,
        '-i', '127.0.0.1',
        '-p', String(port),
        '-t', transport === 'udp' ? 'u1' : 't1',
        '-m', String(opts.calls ?? 1),
        '-timeout', `${timeoutSeconds}s`,
        '-timeout_error',
        '-nostdin',
        '-trace_msg', '-message_file', join(dir, 'messages.log'),
        '-trace_err', '-error_file', join(dir, 'errors.log'),
        ...(opts.extraArgs ?? []),
      ];
      const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const collect = (d: Buffer) => {
        output = (output + d.toString('latin1')).slice(-OUTPUT_TAIL);
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      let hasExited = false;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on('error', (err) => {
          output += `\nspawn failed: ${err.message} (is sip-tester installed?)`;
          hasExited = true;
          resolve({ code: null, signal: null });
        });
        child.on('exit', (code, signal) => {
          hasExited = true;
          resolve({ code, signal });
        });
      });
      const killTimer = setTimeout(() => child.kill('SIGKILL'), (timeoutSeconds + 10) * 1000);
      const sipp = new Sipp(port, child, dir, exited, () => output, killTimer);
      const until = Date.now() + 10_000;
      while (!hasExited && !isBound(transport, port) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      if (!hasExited && isBound(transport, port)) return sipp;
      const result = await sipp.stop();
      lastFailure = result.output;
    }
    throw new Error(`sipp did not start:\n${lastFailure}`);
  }

  /** Waits for sipp to finish its calls on its own (bounded by its timeout), then cleans up. */
  async finished(): Promise<SippResult> {
    const { code, signal } = await this.exited;
    return this.collect(code, signal);
  }

  /** Ends sipp now if it still runs, then cleans up; safe to call more than once. */
  async stop(): Promise<SippResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    const { code, signal } = await this.exited;
    return this.collect(code, signal);
  }

  private collected: SippResult | undefined;

  private collect(code: number | null, signal: NodeJS.Signals | null): SippResult {
    if (this.collected) return this.collected;
    clearTimeout(this.killTimer);
    let trace = '';
    try {
      trace = readFileSync(join(this.dir, 'messages.log'), 'latin1');
    } catch {
      // sipp writes the file on its first message only.
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.collected = { code, signal, output: this.output(), messages: parseSippTrace(trace) };
    return this.collected;
  }
}

/** A traced (or received) SIP request: its request line and headers, lower-case names, first value each. */
export function readRequest(text: string): { requestLine: string; headers: Map<string, string> } {
  const [head = ''] = text.split('\r\n\r\n');
  const [requestLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (colon > 0 && !headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { requestLine, headers };
}

/**
 * What the sipp scenarios send, for in-process stand-in phones: a response copying Via, From,
 * To (plus a tag), Call-ID and CSeq from the request.
 */
export function phoneResponse(requestText: string, status: number, reason: string, extra: string[] = []): string {
  const { headers } = readRequest(requestText);
  return [
    `SIP/2.0 ${status} ${reason}`,
    `Via: ${headers.get('via') ?? ''}`,
    `From: ${headers.get('from') ?? ''}`,
    `To: ${headers.get('to') ?? ''};tag=standin`,
    `Call-ID: ${headers.get('call-id') ?? ''}`,
    `CSeq: ${headers.get('cseq') ?? ''}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
