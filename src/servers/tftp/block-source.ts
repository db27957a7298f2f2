import type { Readable } from 'node:stream';
import { OP_DATA } from './packet.js';

/** Packets are carved from slabs this large: one allocation per slab, not one per block. */
const SLAB_BYTES = 256 * 1024;

/**
 * Turns a resource's bytes (in memory, or a stream read in paused mode) into DATA packets, one
 * block at a time, in order. Nothing but the blocks the caller keeps for retransmission stays
 * referenced, so a 40 MB file costs a window and a slab, never the file.
 *
 * Each packet is a fresh slice that is never written again once returned: a retransmission may
 * still sit in the socket's send queue when its block is acknowledged, so reusing a buffer could
 * put one block's header on another block's bytes.
 */
export class BlockSource {
  private chunk: Buffer | null;
  private pos = 0;
  private ended: boolean;
  private failure: Error | null = null;
  private slab: Buffer | null = null;
  private slabPos = 0;
  private building: Buffer | null = null;
  private filled = 0;
  private remaining: number;
  private readonly packetBytes: number;
  private readonly stream: Readable | null;

  /**
   * @param input the bytes, or a stream of them (read once, then destroyed)
   * @param expected how many bytes the input holds, to size the slabs of small files
   * @param onReady called when a `next` that returned null may now succeed (or `failed` is set)
   */
  constructor(
    input: Buffer | Readable,
    private readonly blksize: number,
    expected: number,
    onReady: () => void,
  ) {
    this.packetBytes = 4 + blksize;
    this.remaining = expected;
    if (Buffer.isBuffer(input)) {
      this.chunk = input;
      this.ended = true;
      this.stream = null;
    } else {
      this.chunk = null;
      this.ended = false;
      this.stream = input;
      input.on('readable', onReady);
      input.once('end', () => {
        this.ended = true;
        onReady();
      });
      input.once('error', (err: Error) => {
        this.failure = err;
        onReady();
      });
    }
  }

  /** The stream's error, if reading failed. */
  get failed(): Error | null {
    return this.failure;
  }

  /**
   * The DATA packet of `block` (absolute number; the wire carries it modulo 65536), shorter than a
   * full block when it is the last one; null when its bytes have not arrived yet.
   */
  next(block: number): Buffer | null {
    if (this.failure) return null;
    let out = this.building;
    if (!out) {
      out = this.carve();
      out[0] = 0;
      out[1] = OP_DATA;
      out[2] = (block >>> 8) & 0xff;
      out[3] = block & 0xff;
      this.building = out;
      this.filled = 0;
    }
    const want = this.blksize;
    while (this.filled < want) {
      let chunk = this.chunk;
      if (chunk === null || this.pos >= chunk.length) {
        if (this.stream === null) break;
        chunk = this.stream.read() as Buffer | null;
        this.chunk = chunk;
        this.pos = 0;
        if (chunk === null) break;
      }
      const n = Math.min(want - this.filled, chunk.length - this.pos);
      chunk.copy(out, 4 + this.filled, this.pos, this.pos + n);
      this.pos += n;
      this.filled += n;
    }
    if (this.filled < want && !this.ended) return null;
    this.building = null;
    this.remaining -= this.filled;
    return this.filled < want ? out.subarray(0, 4 + this.filled) : out;
  }

  destroy(): void {
    this.stream?.destroy();
    this.chunk = null;
    this.slab = null;
  }

  private carve(): Buffer {
    const size = this.packetBytes;
    if (!this.slab || this.slabPos + size > this.slab.length) {
      // Small files get a slab their size; big ones a fixed one (at least one packet).
      const packets = Math.max(1, Math.min(Math.floor(SLAB_BYTES / size), Math.floor(Math.max(0, this.remaining) / this.blksize) + 1));
      this.slab = Buffer.allocUnsafeSlow(packets * size);
      this.slabPos = 0;
    }
    const out = this.slab.subarray(this.slabPos, this.slabPos + size);
    this.slabPos += size;
    return out;
  }
}
