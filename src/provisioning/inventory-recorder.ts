import type { Sighting, Store } from '../store/store.js';
import type { Logger } from './logger.js';
import { RequestCounter } from './request-counter.js';

/** How long request counts are kept (the dashboard reads at most 14 days back). */
export const REQUEST_COUNTS_KEPT_MS = 14 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

/**
 * Inventory updates (last seen, last IP, last file, firmware…) are coalesced in memory and written
 * in batches, so a config fetch never waits on a write it does not need. A crash loses at most one
 * flush interval of "last seen" data, never an upload. The core's request counts ride on the same
 * batches (`requests`): added to the store on every flush and on stop, old ones pruned hourly.
 */
export class InventoryRecorder {
  private pending = new Map<string, Sighting>();
  /** Recent IP → MAC per tenant, to attribute requests that name no MAC (`sip.ld`, `000000000000.cfg`). */
  private recentByIp = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Requests the core answered, per tenant, minute and protocol, until the next flush. */
  readonly requests = new RequestCounter();
  private prunedAt = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly opts: { flushMs: number; maxPending: number } = { flushMs: 1000, maxPending: 1000 },
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushMs);
    this.timer.unref();
  }

  macForIp(tenantId: number, ip: string): string | undefined {
    return this.recentByIp.get(`${tenantId}|${ip}`);
  }

  note(s: Sighting): void {
    const key = `${s.tenantId}|${s.mac}`;
    const prev = this.pending.get(key);
    // Later fields win, absent fields keep what an earlier request in the same batch said.
    this.pending.set(key, prev ? { ...prev, ...definedOnly(s) } : s);
    if (s.ip) {
      if (this.recentByIp.size > 100_000) this.recentByIp.clear();
      this.recentByIp.set(`${s.tenantId}|${s.ip}`, s.mac);
    }
    if (this.pending.size >= this.opts.maxPending) void this.flush();
  }

  /** Writes what is pending; resolves when it is in the store. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      await this.flushRequestCounts();
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        await this.store.recordSightings(batch);
      } catch (err) {
        this.logger.error({ err, devices: batch.length }, 'could not record device inventory; will retry');
        for (const s of batch) {
          const key = `${s.tenantId}|${s.mac}`;
          if (!this.pending.has(key)) this.pending.set(key, s);
        }
      }
    });
    return this.flushing;
  }

  private async flushRequestCounts(): Promise<void> {
    const counts = this.requests.take();
    if (counts.length) {
      try {
        await this.store.addRequestCounts(counts);
      } catch (err) {
        this.logger.error({ err, rows: counts.length }, 'could not record request counts; will retry');
        this.requests.giveBack(counts);
        return;
      }
    }
    // Pruning rides on a flush that had counts to add: an idle process touches nothing.
    if (counts.length && Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      await this.store.pruneRequestCounts(new Date(Date.now() - REQUEST_COUNTS_KEPT_MS).toISOString()).catch((err: unknown) => {
        this.logger.error({ err }, 'could not prune old request counts; will retry in an hour');
      });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

function definedOnly(s: Sighting): Partial<Sighting> {
  const out: Partial<Sighting> = {};
  for (const [k, v] of Object.entries(s)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
