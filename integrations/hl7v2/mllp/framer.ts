// MLLP framing (HL7v2 Minimal Lower Layer Protocol): <VT> payload <FS><CR>.
// The decoder is an incremental state machine, so a frame split anywhere across TCP reads is rebuilt exactly once.

export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

/** A payload grew past the decoder's limit; the stream cannot be trusted further, so the caller drops it. */
export class FrameTooLargeError extends Error {
  constructor(readonly maxFrameBytes: number) {
    super(`MLLP frame exceeds ${maxFrameBytes} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

export function encodeFrame(payload: Buffer | string, encoding: BufferEncoding = 'utf8'): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, encoding) : payload;
  const frame = Buffer.allocUnsafe(body.length + 3);
  frame[0] = VT;
  body.copy(frame, 1);
  frame[body.length + 1] = FS;
  frame[body.length + 2] = CR;
  return frame;
}

const FS_BYTE = Buffer.from([FS]);

/**
 * Stream decoder. Noise = every received byte that is not delivered in, or framing of, a completed frame:
 * bytes between frames, and an abandoned frame's VT and content when a new VT restarts it.
 */
export class MllpDecoder {
  noiseBytes = 0;
  private inFrame = false;
  // Payload so far as slices of the received chunks: concatenated once, when the frame completes.
  private parts: Buffer[] = [];
  private size = 0;
  // The previous chunk ended with FS inside a frame: footer or data depends on the next chunk's first byte.
  private pendingFs = false;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      i = this.inFrame ? this.scanFrame(chunk, i, frames) : this.seekStart(chunk, i);
    }
    return frames;
  }

  private seekStart(chunk: Buffer, from: number): number {
    const start = chunk.indexOf(VT, from);
    if (start === -1) {
      this.noiseBytes += chunk.length - from;
      return chunk.length;
    }
    this.noiseBytes += start - from;
    this.startFrame();
    return start + 1;
  }

  private scanFrame(chunk: Buffer, from: number, frames: Buffer[]): number {
    if (this.pendingFs) {
      this.pendingFs = false;
      if (chunk[from] === CR) return this.completeFrame(frames, from + 1);
      this.append(FS_BYTE);
    }
    let j = from;
    while (j < chunk.length && chunk[j] !== VT && chunk[j] !== FS) j++;
    if (j === chunk.length) {
      this.append(chunk.subarray(from));
      return j;
    }
    if (chunk[j] === VT) {
      // A sender that restarts mid-frame abandoned what it sent; its VT and content are noise.
      this.noiseBytes += 1 + this.size + (j - from);
      this.startFrame();
      return j + 1;
    }
    this.append(chunk.subarray(from, j));
    if (j + 1 === chunk.length) {
      this.pendingFs = true;
      return j + 1;
    }
    if (chunk[j + 1] === CR) return this.completeFrame(frames, j + 2);
    // FS without CR is not a footer: keep it as data and continue.
    this.append(FS_BYTE);
    return j + 1;
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.size + bytes.length > this.maxFrameBytes) {
      this.reset();
      throw new FrameTooLargeError(this.maxFrameBytes);
    }
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  private completeFrame(frames: Buffer[], next: number): number {
    // concat copies, so the payload never pins a large socket chunk in memory.
    frames.push(Buffer.concat(this.parts, this.size));
    this.reset();
    return next;
  }

  private startFrame(): void {
    this.reset();
    this.inFrame = true;
  }

  private reset(): void {
    this.inFrame = false;
    this.parts = [];
    this.size = 0;
    this.pendingFs = false;
  }
}
