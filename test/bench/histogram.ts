// A compact latency histogram (log-linear buckets, about 1.6% resolution, microseconds up to ~35 minutes)
// so a load run can record millions of requests in a few kilobytes and still report exact-enough percentiles.

const SUB_BUCKET_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const BUCKET_COUNT = SUB_BUCKETS * 26;

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class LatencyHistogram {
  private readonly buckets = new Uint32Array(BUCKET_COUNT);
  private count = 0;
  private sumMicros = 0;
  private maxMicros = 0;

  recordMs(ms: number): void {
    const micros = Math.max(0, Math.min(0x7fffffff, Math.round(ms * 1000)));
    this.buckets[bucketOf(micros)]++;
    this.count++;
    this.sumMicros += micros;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKET_COUNT; i++) this.buckets[i] += other.buckets[i];
    this.count += other.count;
    this.sumMicros += other.sumMicros;
    this.maxMicros = Math.max(this.maxMicros, other.maxMicros);
  }

  /** The latency below which `fraction` of the recorded requests fall, in ms (bucket midpoint). */
  percentileMs(fraction: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.buckets[i];
      if (seen >= rank) return Math.min(midpointOf(i), this.maxMicros) / 1000;
    }
    return this.maxMicros / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      meanMs: this.count === 0 ? 0 : this.sumMicros / this.count / 1000,
      p50Ms: this.percentileMs(0.5),
      p95Ms: this.percentileMs(0.95),
      p99Ms: this.percentileMs(0.99),
      maxMs: this.maxMicros / 1000,
    };
  }
}

/** Values below 2^7 get exact buckets; above, each power of two is split into 64 equal sub-buckets. */
function bucketOf(micros: number): number {
  const bitLength = 32 - Math.clz32(micros);
  const shift = Math.max(0, bitLength - (SUB_BUCKET_BITS + 1));
  return SUB_BUCKETS * shift + (micros >>> shift);
}

function midpointOf(bucket: number): number {
  const shift = Math.max(0, Math.floor(bucket / SUB_BUCKETS) - 1);
  const lower = (bucket - SUB_BUCKETS * shift) * 2 ** shift;
  return lower + (2 ** shift - 1) / 2;
}
