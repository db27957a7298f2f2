import type { LogFileStore } from '../blobs/log-file-store.js';
import { overlapMismatch, overlapOf, parseContentRange, planLogAppend, type LogAppendRefusal } from '../domain/log-append.js';
import type { Store } from '../store/store.js';

export class LogRefused extends Error {
  override name = 'LogRefused';
  constructor(readonly reason: LogAppendRefusal['reason'], message: string) {
    super(message);
  }
}

/**
 * One log upload, under the log's lock: the rules are in domain/log-append.ts. Bytes are written
 * and fsynced before the new length commits, so an acknowledged append survives a crash and an
 * unacknowledged one leaves nothing that counts.
 */
export async function appendToLog(
  deps: { store: Store; logFiles: LogFileStore },
  target: { tenantId: number; mac: string; path: string },
  data: Buffer,
  contentRange: string | undefined,
): Promise<{ before: number; after: number }> {
  const name = `${target.tenantId}/${target.path}`;
  const range = parseContentRange(contentRange);
  let before = 0;
  const after = await deps.store.updatePhoneLog(target.tenantId, target.path, target.mac, async (storedLength) => {
    before = storedLength;
    // polyprov keeps history: a whole-file PUT appends (the phone's append mode, our default).
    const input = { storedLength, range, bodyLength: data.length, appendMode: true };
    const plan = planLogAppend(input);
    if (plan.action === 'refuse') throw new LogRefused(plan.reason, plan.message);
    const overlap = overlapOf(input);
    if (overlap) {
      const stored = await deps.logFiles.readBytes(name, overlap.storedFrom, overlap.length);
      if (!stored.equals(data.subarray(0, overlap.length))) {
        const refusal = overlapMismatch(overlap);
        throw new LogRefused(refusal.reason, refusal.message);
      }
    }
    if (plan.action === 'nothing') return storedLength;
    if (plan.action === 'replace') {
      await deps.logFiles.writeAt(name, 0, data);
      return data.length;
    }
    await deps.logFiles.writeAt(name, storedLength, data.subarray(plan.skip));
    return storedLength + data.length - plan.skip;
  });
  return { before, after };
}
