import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { MAX_DHCP_OPTION_BYTES, type BootOptions } from '../../domain/dhcp-boot-options.js';
import {
  addressBytes,
  BOOTREPLY,
  BOOTREQUEST,
  buildDhcpMessage,
  DHCP_MESSAGE_TYPES,
  DHCP_OPTIONS,
  hardwareAddress,
  messageType,
  parseDhcpMessage,
  type DhcpMessage,
} from '../../domain/dhcp-packet.js';
import { DomainError } from '../../domain/domain-error.js';
import { addressNumber, parseSubnet, plainAddress, subnetContains, type Subnet } from '../../domain/ip-subnet.js';

// Stage 2 of a Poly phone's boot-server discovery: when its DHCP server offered no boot server,
// the phone asks with a DHCPINFORM (fact sheet §8.1). This answers those, and only those, with a
// DHCPACK holding options 66, 160 and 161. It is not a DHCP server: it never answers DISCOVER,
// REQUEST or anything a real DHCP server should handle.
//
// Port 67 is privileged: run as root or give node CAP_NET_BIND_SERVICE
// (`setcap cap_net_bind_service=+ep $(command -v node)`, or AmbientCapabilities= in a systemd unit).

export interface InformRule {
  /** IPv4 CIDR of the phones this rule answers. */
  subnet: string;
  options: BootOptions;
}

export interface InformResponderOptions {
  /** Address to bind; default 0.0.0.0 (phones broadcast their INFORM). */
  host?: string;
  /** Default 67, the DHCP server port the phones send to. */
  port?: number;
  /** IPv4 address put in option 54 (server identifier): the address phones reach this host at. */
  serverId: string;
  rules: InformRule[];
  logger: Logger;
}

export interface InformResponder {
  port: number;
  close(): Promise<void>;
  stats(): { answered: number; ignored: number };
}

const CLIENT_PORT = 68;
const SERVER_PORT = 67;
const POLY_BOOT_OPTIONS = [DHCP_OPTIONS.tftpServerName, 160, 161] as const;

interface PreparedRule {
  subnet: Subnet;
  options: [number, Buffer][];
}

function prepareRules(rules: InformRule[]): PreparedRule[] {
  if (rules.length === 0) throw new DomainError('the DHCPINFORM responder needs at least one rule (a subnet of phones and the boot server options for it)');
  return rules.map((rule) => {
    const subnet = parseSubnet(rule.subnet);
    if (!/^\d+\.\d+\.\d+\.\d+\//.test(subnet.text)) throw new DomainError(`DHCPINFORM rule subnet ${subnet.text} is not IPv4: DHCPv4 phones have IPv4 addresses`);
    const values = [rule.options.option66, rule.options.option160, rule.options.option161];
    const options = POLY_BOOT_OPTIONS.map((code, i): [number, Buffer] => {
      const data = Buffer.from(values[i] ?? '', 'utf8');
      if (data.length === 0 || data.length > MAX_DHCP_OPTION_BYTES) {
        throw new DomainError(`option ${code} for ${subnet.text} must be 1 to ${MAX_DHCP_OPTION_BYTES} bytes, got ${data.length}: build it with bootOptions`);
      }
      return [code, data];
    });
    return { subnet, options };
  });
}

/** The rule with the longest prefix holding `ip`, or null. */
function ruleFor(rules: PreparedRule[], ip: string): PreparedRule | null {
  const address = addressNumber(ip);
  if (address === null) return null;
  let best: PreparedRule | null = null;
  for (const r of rules) if (subnetContains(r.subnet, address) && (!best || r.subnet.bits > best.subnet.bits)) best = r;
  return best;
}

function ackFor(request: DhcpMessage, serverId: string, rule: PreparedRule): DhcpMessage {
  // RFC 2131 table 3 (DHCPACK to a DHCPINFORM): ciaddr echoed, yiaddr 0, no lease time.
  return {
    op: BOOTREPLY,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: request.ciaddr,
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: request.giaddr,
    chaddr: request.chaddr,
    sname: '',
    file: '',
    options: new Map<number, Buffer>([
      [DHCP_OPTIONS.messageType, Buffer.from([DHCP_MESSAGE_TYPES.ack])],
      [DHCP_OPTIONS.serverIdentifier, addressBytes(serverId)],
      ...rule.options,
    ]),
  };
}

/**
 * Where the ACK goes: the client's own address on port 68 (RFC 2131 §4.3.5; dhcping and nmap
 * listen there), else the relay that forwarded the INFORM, else back to the request's source
 * address and port.
 */
function destination(request: DhcpMessage, from: RemoteInfo): { address: string; port: number } {
  if (request.ciaddr !== '0.0.0.0') return { address: request.ciaddr, port: CLIENT_PORT };
  if (request.giaddr !== '0.0.0.0') return { address: request.giaddr, port: SERVER_PORT };
  return { address: plainAddress(from.address), port: from.port };
}

/**
 * Listens for DHCPINFORM and answers phones inside one of `rules` with that rule's boot server
 * options. Everything else (other message types, clients outside every rule, garbage) is counted
 * as ignored and logged at debug level only. Rejects when the port cannot be bound (EACCES
 * without CAP_NET_BIND_SERVICE, EADDRINUSE next to a DHCP server on the same host).
 */
export async function startInformResponder(opts: InformResponderOptions): Promise<InformResponder> {
  if (!isIPv4(opts.serverId)) throw new DomainError(`the server identifier ${JSON.stringify(opts.serverId)} must be this host's IPv4 address as phones reach it, e.g. 192.0.2.5`);
  const host = opts.host ?? '0.0.0.0';
  if (!isIPv4(host)) throw new DomainError(`the DHCPINFORM responder binds an IPv4 address (DHCPv4), not ${JSON.stringify(host)}`);
  const rules = prepareRules(opts.rules);
  const log = opts.logger.child({ component: 'dhcp-inform' });
  const counts = { answered: 0, ignored: 0 };
  const socket = createSocket({ type: 'udp4', reuseAddr: false });

  const ignore = (why: string, detail: object): void => {
    counts.ignored++;
    log.debug(detail, `dhcp packet ignored: ${why}`);
  };

  const handle = (buf: Buffer, from: RemoteInfo): void => {
    const request = parseDhcpMessage(buf);
    if (!request) return ignore('not a DHCP message', { from: from.address, bytes: buf.length });
    const type = messageType(request);
    if (request.op !== BOOTREQUEST || type !== DHCP_MESSAGE_TYPES.inform) return ignore('not a DHCPINFORM', { from: from.address, op: request.op, type });
    const client = request.ciaddr !== '0.0.0.0' ? request.ciaddr : plainAddress(from.address);
    // A DHCPINFORM comes from a configured client (RFC 2131 §3.4). 0.x, multicast, reserved and broadcast addresses
    // are never one (nmap's UDP probe for port 67 gives 255.255.255.255), and an answer there would be a broadcast.
    const first = Number(client.split('.')[0]);
    if (!isIPv4(client) || first === 0 || first >= 224) return ignore('not a client address', { client, mac: hardwareAddress(request) });
    const rule = ruleFor(rules, client);
    if (!rule) return ignore('client outside every configured subnet', { client, mac: hardwareAddress(request) });
    const to = destination(request, from);
    socket.send(buildDhcpMessage(ackFor(request, opts.serverId, rule)), to.port, to.address, (err) => {
      if (err) log.warn({ err, to: to.address, mac: hardwareAddress(request) }, 'could not send the DHCPACK to a DHCPINFORM');
    });
    counts.answered++;
    log.debug({ client, mac: hardwareAddress(request), to: `${to.address}:${to.port}`, subnet: rule.subnet.text }, 'DHCPINFORM answered');
  };

  socket.on('message', (buf, from) => {
    try {
      handle(buf, from);
    } catch (err) {
      // A bug must cost one answer, not the listener.
      counts.ignored++;
      log.error({ err, from: from.address }, 'DHCPINFORM handling failed');
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind({ address: host, port: opts.port ?? SERVER_PORT, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    socket.close();
    const hint =
      err.code === 'EACCES'
        ? ': port 67 needs root or CAP_NET_BIND_SERVICE'
        : err.code === 'EADDRINUSE'
          ? ': another DHCP server listens there; run the responder on a host without one, or bind a specific address'
          : '';
    throw new Error(`cannot listen for DHCPINFORM on ${host}:${opts.port ?? SERVER_PORT} (${err.code ?? err.message})${hint}`, { cause: err });
  });
  socket.on('error', (err) => log.error({ err }, 'DHCPINFORM socket error'));
  const port = socket.address().port;
  log.info({ host, port, subnets: rules.map((r) => r.subnet.text) }, 'answering DHCPINFORM from Poly phones');

  let closed: Promise<void> | null = null;
  return {
    port,
    stats: () => ({ ...counts }),
    close: () => (closed ??= new Promise<void>((resolve) => socket.close(() => resolve()))),
  };
}
