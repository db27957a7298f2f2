import type { RequestCount, RequestProtocol } from '../store/store.js';

/**
 * Requests the core answered, counted in memory per tenant, minute and protocol until the
 * inventory recorder flushes them (store.addRequestCounts adds, so every worker keeps its own
 * counter). Counting is a Map update: it never waits on the store.
 */
export class RequestCounter {
  private counts = new Map<string, RequestCount>();

  /** One answered request; `tenantId` null when no tenant was known (refused before one authenticated). */
  count(tenantId: number | null, protocol: RequestProtocol, ok: boolean, now = Date.now()): void {
    const minute = new Date(now - (now % 60_000)).toISOString();
    const key = `${tenantId ?? 0}|${minute}|${protocol}`;
    let c = this.counts.get(key);
    if (!c) {
      c = { tenantId, minute, protocol, ok: 0, failed: 0 };
      this.counts.set(key, c);
    }
    if (ok) c.ok++;
    else c.failed++;
  }

  /** Everything counted since the last take, which starts over. */
  take(): RequestCount[] {
    const out = [...this.counts.values()];
    this.counts = new Map();
    return out;
  }

  /** Counts a flush could not store: added back, so the next flush tries them again. */
  giveBack(counts: readonly RequestCount[]): void {
    for (const c of counts) {
      const key = `${c.tenantId ?? 0}|${c.minute}|${c.protocol}`;
      const have = this.counts.get(key);
      if (have) {
        have.ok += c.ok;
        have.failed += c.failed;
      } else this.counts.set(key, { ...c });
    }
  }
}
