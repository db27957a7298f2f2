import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isIPv4 } from 'node:net';
import { parseSubnet } from './domain/ip-subnet.js';
import { resolve } from 'node:path';

/** Everything `serve` and the admin commands need to know, from defaults < config file < environment < flags. */
export interface ServerConfig {
  dataDir: string;
  databaseUrl?: string;
  host: string;
  /** Host name or address printed in URLs and put in the self-signed certificate. */
  publicHost?: string;
  http: { enabled: boolean; port: number };
  /** Requests in flight per HTTP(S) edge and worker beyond which new ones get 503 + Retry-After (0: never). */
  maxInFlight: number;
  /** Seconds a shed request is told to wait (phones get up to half again at random). */
  retryAfterSeconds: number;
  https: { enabled: boolean; port: number; certFile?: string; keyFile?: string; requestClientCert: boolean };
  tftp: { enabled: boolean; port: number; maxTransfers: number; native: boolean; tenantListeners: TenantListener[] };
  ftp: { enabled: boolean; port: number; passivePorts: { min: number; max: number }; passiveAddress?: string };
  /** Implicit FTPS (TLS from the first byte); explicit FTPS (AUTH TLS) is offered on the FTP port. */
  ftps: { enabled: boolean; port: number };
  workers: number;
  /** Recently served blobs (firmware) kept in memory per worker, in MiB; 0 turns it off. */
  blobCacheMb: number;
  inventoryFlushMs: number;
  /** A connection that moves no byte for this long is closed: stalled uploads must not hold a worker forever. */
  idleTimeoutMs: number;
  logLevel: string;
  /** The admin REST API (admin/api/), served by the primary. */
  admin: { enabled: boolean; host: string; port: number; tls: boolean; firmwareMaxUnpackedMib: number; firmwareMaxFiles: number };
  /** The DHCPINFORM responder (reach/dhcp/inform-responder.ts): off without rules. */
  dhcpInform: { rules: DhcpInformRule[]; host: string; port: number; serverId?: string };
}

/** Phones in `subnet` that send a DHCPINFORM are told `url` in options 66, 160 and 161. */
export interface DhcpInformRule {
  subnet: string;
  url: string;
}

/** A TFTP listener of one tenant's: every request on it belongs to that tenant. */
export interface TenantListener {
  tenant: string;
  host?: string;
  port: number;
}

export type ConfigInput = {
  config?: string;
  data?: string;
  databaseUrl?: string;
  host?: string;
  publicHost?: string;
  http?: boolean;
  https?: boolean;
  httpPort?: string | number;
  httpsPort?: string | number;
  tlsCert?: string;
  tlsKey?: string;
  requestClientCert?: boolean;
  tftp?: boolean;
  tftpPort?: string | number;
  tftpMaxTransfers?: string | number;
  /** false: TFTP reads run in TypeScript even where the native pump is built. */
  tftpNative?: boolean;
  /** `slug=[host:]port`, or objects in a config file. */
  tftpTenant?: (string | TenantListener)[];
  ftp?: boolean;
  ftpPort?: string | number;
  ftps?: boolean;
  ftpsPort?: string | number;
  /** `40000-40999` */
  ftpPassivePorts?: string;
  ftpPassiveAddress?: string;
  workers?: string | number;
  blobCacheMb?: string | number;
  inventoryFlushMs?: string | number;
  idleTimeoutMs?: string | number;
  maxInFlight?: string | number;
  retryAfter?: string | number;
  /** `CIDR=URL`, or objects in a config file. */
  dhcpInform?: (string | DhcpInformRule)[];
  dhcpInformHost?: string;
  dhcpInformPort?: string | number;
  dhcpInformServerId?: string;
  admin?: boolean;
  adminHost?: string;
  adminPort?: string | number;
  /** true, or "true"/"1"/"false"/"0" from the environment. */
  adminTls?: boolean | string;
  firmwareMaxUnpackedMib?: string | number;
  firmwareMaxFiles?: string | number;
  logLevel?: string;
};

const ENV: Record<string, keyof ConfigInput> = {
  POLYPROV_CONFIG: 'config',
  POLYPROV_DATA_DIR: 'data',
  POLYPROV_DATABASE_URL: 'databaseUrl',
  POLYPROV_HOST: 'host',
  POLYPROV_PUBLIC_HOST: 'publicHost',
  POLYPROV_HTTP_PORT: 'httpPort',
  POLYPROV_HTTPS_PORT: 'httpsPort',
  POLYPROV_TLS_CERT: 'tlsCert',
  POLYPROV_TLS_KEY: 'tlsKey',
  POLYPROV_TFTP_PORT: 'tftpPort',
  POLYPROV_TFTP_MAX_TRANSFERS: 'tftpMaxTransfers',
  POLYPROV_FTP_PORT: 'ftpPort',
  POLYPROV_FTPS_PORT: 'ftpsPort',
  POLYPROV_FTP_PASSIVE_PORTS: 'ftpPassivePorts',
  POLYPROV_FTP_PASSIVE_ADDRESS: 'ftpPassiveAddress',
  POLYPROV_WORKERS: 'workers',
  POLYPROV_BLOB_CACHE_MB: 'blobCacheMb',
  POLYPROV_IDLE_TIMEOUT_MS: 'idleTimeoutMs',
  POLYPROV_MAX_IN_FLIGHT: 'maxInFlight',
  POLYPROV_RETRY_AFTER: 'retryAfter',
  POLYPROV_DHCP_INFORM_HOST: 'dhcpInformHost',
  POLYPROV_ADMIN_HOST: 'adminHost',
  POLYPROV_ADMIN_PORT: 'adminPort',
  POLYPROV_ADMIN_TLS: 'adminTls',
  POLYPROV_FIRMWARE_MAX_UNPACKED_MIB: 'firmwareMaxUnpackedMib',
  POLYPROV_FIRMWARE_MAX_FILES: 'firmwareMaxFiles',
  POLYPROV_DHCP_INFORM_PORT: 'dhcpInformPort',
  POLYPROV_DHCP_INFORM_SERVER_ID: 'dhcpInformServerId',
  POLYPROV_LOG_LEVEL: 'logLevel',
};

/** A switch given as a boolean (flag, config file) or as text (environment). */
function flag(what: string, v: boolean | string | undefined): boolean {
  if (v === undefined || typeof v === 'boolean') return v ?? false;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)?$/i.test(v)) return false;
  throw new ConfigError(`${what}: "${v}" is not a switch; use true or false`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function int(name: string, v: string | number | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined || v === '') return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`invalid ${name} "${v}": expected a whole number from ${min} to ${max}`);
  return n;
}

export function loadConfig(flags: ConfigInput, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const fromEnv: ConfigInput = {};
  for (const [k, key] of Object.entries(ENV)) if (env[k] !== undefined) (fromEnv as Record<string, unknown>)[key] = env[k];
  const file = flags.config ?? fromEnv.config;
  let fromFile: ConfigInput = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as ConfigInput;
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
  }
  const defined = (o: ConfigInput) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ConfigInput;
  const c: ConfigInput = { ...defined(fromFile), ...defined(fromEnv), ...defined(flags) };
  const cfg: ServerConfig = {
    dataDir: resolve(c.data ?? 'data'),
    host: c.host ?? '0.0.0.0',
    http: { enabled: c.http ?? true, port: int('HTTP port', c.httpPort, 8080, 0, 65535) },
    maxInFlight: int('in-flight request limit', c.maxInFlight, 1000, 0, 1_000_000),
    retryAfterSeconds: int('Retry-After seconds', c.retryAfter, 10, 1, 86400),
    https: {
      enabled: c.https ?? true,
      port: int('HTTPS port', c.httpsPort, 8443, 0, 65535),
      requestClientCert: c.requestClientCert ?? false,
    },
    tftp: {
      enabled: c.tftp ?? true,
      port: int('TFTP port', c.tftpPort, 6969, 0, 65535),
      maxTransfers: int('TFTP transfer limit', c.tftpMaxTransfers, 256, 1, 100_000),
      native: c.tftpNative ?? true,
      tenantListeners: (c.tftpTenant ?? []).map(tenantListener),
    },
    ftp: { enabled: c.ftp ?? true, port: int('FTP port', c.ftpPort, 2121, 0, 65535), passivePorts: portRange(c.ftpPassivePorts ?? '40000-40999') },
    ftps: { enabled: c.ftps ?? true, port: int('FTPS port', c.ftpsPort, 9990, 0, 65535) },
    workers: int('worker count', c.workers, Math.min(availableParallelism(), 8), 1, 64),
    blobCacheMb: int('blob cache size (MiB)', c.blobCacheMb, 256, 0, 1024 * 1024),
    inventoryFlushMs: int('inventory flush interval', c.inventoryFlushMs, 1000, 10, 600_000),
    idleTimeoutMs: int('idle timeout', c.idleTimeoutMs, 60_000, 100, 3_600_000),
    logLevel: c.logLevel ?? 'info',
    // Local only unless asked: administrators reach it through an SSH tunnel, a TLS proxy, or --admin-tls.
    admin: { enabled: c.admin ?? true, host: c.adminHost ?? '127.0.0.1', port: int('admin API port', c.adminPort, 8088, 0, 65535), tls: flag('admin TLS', c.adminTls),
      // Tenant admins upload release zips through the API: bound what one may unpack to.
      firmwareMaxUnpackedMib: int('firmware upload limit (MiB unpacked)', c.firmwareMaxUnpackedMib, 2048, 1, 1024 * 1024),
      firmwareMaxFiles: int('firmware upload limit (files)', c.firmwareMaxFiles, 10_000, 1, 1_000_000),
    },
    dhcpInform: {
      rules: (c.dhcpInform ?? []).map(dhcpInformRule),
      host: c.dhcpInformHost ?? '0.0.0.0',
      port: int('DHCPINFORM port', c.dhcpInformPort, 67, 0, 65535),
    },
  };
  if (c.dhcpInformServerId) {
    if (!isIPv4(c.dhcpInformServerId)) throw new ConfigError(`invalid DHCP server identifier "${c.dhcpInformServerId}": expected this host's IPv4 address as phones reach it`);
    cfg.dhcpInform.serverId = c.dhcpInformServerId;
  }
  if (c.databaseUrl) cfg.databaseUrl = c.databaseUrl;
  if (c.publicHost) cfg.publicHost = c.publicHost;
  if (c.ftpPassiveAddress) {
    if (!isIPv4(c.ftpPassiveAddress)) throw new ConfigError(`invalid FTP passive address "${c.ftpPassiveAddress}": expected the IPv4 address phones reach this server at`);
    cfg.ftp.passiveAddress = c.ftpPassiveAddress;
  }
  if (c.tlsCert) cfg.https.certFile = c.tlsCert;
  if (c.tlsKey) cfg.https.keyFile = c.tlsKey;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(cfg.logLevel)) {
    throw new ConfigError(`invalid log level "${cfg.logLevel}": expected fatal, error, warn, info, debug, trace or silent`);
  }
  if (!cfg.http.enabled && !cfg.https.enabled && !cfg.tftp.enabled && !cfg.ftp.enabled && !cfg.ftps.enabled) {
    throw new ConfigError('every protocol is switched off: nothing to serve');
  }
  return cfg;
}

function portRange(text: string): { min: number; max: number } {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!(min >= 1024 && max <= 65535 && min <= max)) throw new ConfigError(`invalid FTP passive port range "${text}": expected LOW-HIGH between 1024 and 65535, e.g. 40000-40999`);
  return { min, max };
}

/** `10.1.0.0/16=https://prov.example.com:8443/acme/`, or `{ "subnet": …, "url": … }` in a config file. */
function dhcpInformRule(v: string | DhcpInformRule): DhcpInformRule {
  const [subnet, url] = typeof v === 'object' && v ? [v.subnet, v.url] : typeof v === 'string' ? [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)] : [];
  if (!subnet || !url || typeof v === 'string' && !v.includes('=')) {
    throw new ConfigError(`invalid DHCPINFORM rule "${String(typeof v === 'object' ? JSON.stringify(v) : v)}": expected CIDR=URL, e.g. 10.1.0.0/16=https://prov.example.com:8443/`);
  }
  try {
    parseSubnet(subnet.trim());
  } catch (err) {
    throw new ConfigError(`invalid DHCPINFORM rule subnet "${subnet}": ${(err as Error).message}`);
  }
  return { subnet: subnet.trim(), url: url.trim() };
}

/** `acme=6970`, `acme=10.0.0.5:69`, `acme=[2001:db8::5]:69`, or `{ "tenant": "acme", "host": "10.0.0.5", "port": 69 }`. */
function tenantListener(v: string | TenantListener): TenantListener {
  if (typeof v === 'object' && v && typeof v.tenant === 'string') {
    return { tenant: v.tenant, port: int(`TFTP port of tenant ${v.tenant}`, v.port, 0, 0, 65535), ...(v.host ? { host: v.host } : {}) };
  }
  const m = typeof v === 'string' ? /^([^=]+)=(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(v.trim()) : null;
  if (!m) throw new ConfigError(`invalid TFTP tenant listener "${String(v)}": expected SLUG=[HOST:]PORT, e.g. acme=10.0.0.5:69`);
  const host = m[2]?.replace(/^\[|\]$/g, '');
  return { tenant: m[1]!, port: int(`TFTP port of tenant ${m[1]}`, m[3], 0, 0, 65535), ...(host ? { host } : {}) };
}
