import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

/** Everything `serve` and the admin commands need to know, from defaults < config file < environment < flags. */
export interface ServerConfig {
  dataDir: string;
  databaseUrl?: string;
  host: string;
  /** Host name or address printed in URLs and put in the self-signed certificate. */
  publicHost?: string;
  http: { enabled: boolean; port: number };
  https: { enabled: boolean; port: number; certFile?: string; keyFile?: string; requestClientCert: boolean };
  workers: number;
  inventoryFlushMs: number;
  /** A connection that moves no byte for this long is closed: stalled uploads must not hold a worker forever. */
  idleTimeoutMs: number;
  logLevel: string;
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
  workers?: string | number;
  inventoryFlushMs?: string | number;
  idleTimeoutMs?: string | number;
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
  POLYPROV_WORKERS: 'workers',
  POLYPROV_IDLE_TIMEOUT_MS: 'idleTimeoutMs',
  POLYPROV_LOG_LEVEL: 'logLevel',
};

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
    https: {
      enabled: c.https ?? true,
      port: int('HTTPS port', c.httpsPort, 8443, 0, 65535),
      requestClientCert: c.requestClientCert ?? false,
    },
    workers: int('worker count', c.workers, Math.min(availableParallelism(), 8), 1, 64),
    inventoryFlushMs: int('inventory flush interval', c.inventoryFlushMs, 1000, 10, 600_000),
    idleTimeoutMs: int('idle timeout', c.idleTimeoutMs, 60_000, 100, 3_600_000),
    logLevel: c.logLevel ?? 'info',
  };
  if (c.databaseUrl) cfg.databaseUrl = c.databaseUrl;
  if (c.publicHost) cfg.publicHost = c.publicHost;
  if (c.tlsCert) cfg.https.certFile = c.tlsCert;
  if (c.tlsKey) cfg.https.keyFile = c.tlsKey;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(cfg.logLevel)) {
    throw new ConfigError(`invalid log level "${cfg.logLevel}": expected fatal, error, warn, info, debug, trace or silent`);
  }
  if (!cfg.http.enabled && !cfg.https.enabled) throw new ConfigError('both HTTP and HTTPS are switched off: nothing to serve');
  return cfg;
}
