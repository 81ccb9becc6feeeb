// Version timestamps: never decreasing within the process, so meta.lastUpdated follows the write order even
// when the wall clock steps back (history pages order by the store's write sequence, not by this value).
let last = 0;

export function nextTimestamp(now: number = Date.now()): number {
  last = Math.max(now, last);
  return last;
}
