/**
 * Lets at most `perWindow` events per key through in each `windowMs`: the listener answers and logs
 * garbage through it, so a flood of bad packets costs a few lines and a few replies, not one each.
 */
export class RateGate {
  private counts = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly perWindow: number,
    /** More keys than this and the table starts over: a spoofed-source flood cannot grow it. */
    private readonly maxKeys = 10_000,
  ) {}

  allow(key: string, now = Date.now()): boolean {
    let entry = this.counts.get(key);
    if (!entry || now - entry.start >= this.windowMs) {
      if (!entry && this.counts.size >= this.maxKeys) this.counts.clear();
      entry = { start: now, count: 0 };
      this.counts.set(key, entry);
    }
    entry.count += 1;
    return entry.count <= this.perWindow;
  }
}
