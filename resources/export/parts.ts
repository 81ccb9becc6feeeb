// Collects NDJSON lines of one resource type and writes them as numbered files (parts) of bounded size, so
// a type of any size becomes several files and memory holds at most one part. A part's number is the count
// of files before it, so an attempt resumed from a checkpoint rewrites the parts written after it in place.
import type { ExportFile } from './export-job';

/** Where parts go: the store's blobs for a job, a directory for the command line. */
export interface PartSink {
  write(part: number, type: string, bytes: Buffer): Promise<void>;
}

export interface PartLimits {
  /** Lines per file at most (plus what the page that crossed it added). */
  resources: number;
  /** Bytes per file, likewise. */
  bytes: number;
}

export const DEFAULT_PART_LIMITS: PartLimits = { resources: 10_000, bytes: 8 * 1024 * 1024 };

export class PartWriter {
  private lines: string[] = [];
  private size = 0;

  constructor(
    private readonly sink: PartSink,
    /** The files written so far (from the checkpoint); flush appends. */
    readonly files: ExportFile[],
    private readonly limits: PartLimits,
  ) {}

  add(line: string): void {
    this.lines.push(line);
    this.size += line.length + 1;
  }

  get full(): boolean {
    return this.lines.length >= this.limits.resources || this.size >= this.limits.bytes;
  }

  /**
   * Writes the collected lines as the next part of `type` (marked as a file of errors or of deletions); nothing
   * when there are none.
   */
  async flush(type: string, marker: Pick<ExportFile, 'error' | 'deleted'> = {}): Promise<void> {
    if (this.lines.length === 0) return;
    const part = this.files.length;
    await this.sink.write(part, type, Buffer.from(`${this.lines.join('\n')}\n`));
    this.files.push({ type, part, count: this.lines.length, ...marker });
    this.lines = [];
    this.size = 0;
  }
}
