// A phone that downloads the same firmware image again and again while it keeps reporting its old
// version is in an upgrade loop (a bad image, a missing Updater or BootROM prerequisite, a signing
// key its Updater does not know: fact sheet §9.1). Counting those downloads is the only way to see
// it from the server. Counts live in memory, per worker: a loop repeats every few minutes, so a
// restart only delays its detection.

/** Downloads of one image by one phone, still on another version, within the window, that make a loop. */
export const LOOP_DOWNLOADS = 3;
export const LOOP_WINDOW_MS = 6 * 3_600_000;
const MAX_TRACKED = 100_000;

export class UpgradeLoopDetector {
  private readonly seen = new Map<string, number[]>();

  /**
   * Notes that `phone` (a MAC, else its address) fetched `image` while running another version;
   * true exactly once, when this download makes it a loop.
   */
  note(phone: string, image: string, now: number): boolean {
    const key = `${phone}|${image}`;
    const recent = (this.seen.get(key) ?? []).filter((t) => now - t < LOOP_WINDOW_MS);
    recent.push(now);
    // A phone flagged once is not flagged again for the same image until its window has emptied.
    if (this.seen.size >= MAX_TRACKED && !this.seen.has(key)) this.seen.clear();
    this.seen.set(key, recent);
    return recent.length === LOOP_DOWNLOADS;
  }
}
