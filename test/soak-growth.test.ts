// The soak suite's growth flags: RSS slope over the second half, p99 and throughput of late windows against early
// ones. A flat run passes every check; a leak, a slow-down or errors are flagged.
import type { LoadResult } from './bench/load';
import { floorSamples, growthChecks, rssSlopeMbPerMinute } from './bench/suites/soak';
import type { PhaseReport } from './bench/suite';

function window(requestsPerSecond: number, p99Ms: number, errors = 0): PhaseReport {
  const load: LoadResult = {
    requests: requestsPerSecond * 60,
    errors,
    durationMs: 60_000,
    requestsPerSecond,
    latency: {
      count: requestsPerSecond * 60,
      meanMs: p99Ms / 4,
      p50Ms: p99Ms / 5,
      p95Ms: p99Ms / 2,
      p99Ms,
      maxMs: p99Ms * 2,
    },
    statusCounts: {},
    errorSamples: [],
  };
  return { name: 'window', load };
}

const rss = (mbAtMinute: (minute: number) => number) =>
  Array.from({ length: 25 }, (_, i) => ({ atMs: i * 5_000, rssMb: mbAtMinute((i * 5_000) / 60_000) }));

const met = (checks: ReturnType<typeof growthChecks>) => Object.fromEntries(checks.map((c) => [c.name, c.met]));

test('the RSS slope is the least-squares line in MB per minute', () => {
  expect(rssSlopeMbPerMinute(rss((m) => 200 + 12 * m))).toBeCloseTo(12, 6);
  expect(rssSlopeMbPerMinute(rss(() => 300))).toBe(0);
  expect(rssSlopeMbPerMinute([{ atMs: 0, rssMb: 100 }])).toBe(0);
});

test('a sawtooth with a steady floor is no leak; a rising floor is', () => {
  const sawtooth = rss((m) => 250 + 100 * ((m * 4) % 1));
  expect(floorSamples(sawtooth).map((s) => s.rssMb)).toEqual([250, 250, 250, 250]);
  expect(met(growthChecks([window(900, 20)], sawtooth))['RSS floor slope over the second half']).toBe(true);
  const rising = rss((m) => 250 + 30 * m + 100 * ((m * 4) % 1));
  expect(met(growthChecks([window(900, 20)], rising))['RSS floor slope over the second half']).toBe(false);
  expect(floorSamples(rss(() => 1).slice(0, 5))).toHaveLength(5);
});

test('a steady run passes every check', () => {
  const checks = growthChecks(
    [window(900, 20), window(950, 22), window(920, 21), window(910, 19)],
    rss(() => 250),
  );
  expect(Object.values(met(checks))).toEqual([true, true, true, true]);
});

test('RSS that keeps climbing in the second half is flagged, a warm-up climb is not', () => {
  const steady = [window(900, 20), window(900, 20)];
  const leaking = growthChecks(
    steady,
    rss((m) => 200 + 30 * m),
  );
  expect(met(leaking)['RSS floor slope over the second half']).toBe(false);
  const warming = growthChecks(
    steady,
    rss((m) => (m < 1 ? 150 + 100 * m : 250)),
  );
  expect(met(warming)['RSS floor slope over the second half']).toBe(true);
});

test('a growing p99, falling throughput and errors are flagged', () => {
  const checks = met(
    growthChecks(
      [window(1000, 20), window(1000, 22), window(400, 80, 3), window(300, 90)],
      rss(() => 250),
    ),
  );
  expect(checks['p99, second half vs first half (medians of windows)']).toBe(false);
  expect(checks['throughput, second half vs first half']).toBe(false);
  expect(checks['errors (all windows)']).toBe(false);
});
