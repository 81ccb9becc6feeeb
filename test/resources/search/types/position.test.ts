// Location.position as index entries, and the geometry both stores use for `near`.
import { distanceKm, nearBox, positionEntries } from '../../../../resources/search/types/position';

const entries = (data: unknown) => positionEntries({ type: 'BackboneElement', data }, 'near');

test('a position is two numbers of one group: latitude near$0, longitude near$1', () => {
  expect(entries({ latitude: 52.1, longitude: -4.5, altitude: 3 })).toEqual([
    { type: 'number', param: 'near$0', group: 0, low: 52.1, high: 52.1 },
    { type: 'number', param: 'near$1', group: 0, low: -4.5, high: -4.5 },
  ]);
});

test('a position without both coordinates, or outside WGS84 ranges, has no entries', () => {
  expect(entries({ latitude: 52.1 })).toEqual([]);
  expect(entries({ longitude: 4 })).toEqual([]);
  expect(entries({ latitude: '52', longitude: 4 })).toEqual([]);
  expect(entries({ latitude: 91, longitude: 4 })).toEqual([]);
  expect(entries({ latitude: 0, longitude: -180.5 })).toEqual([]);
  expect(entries('52|4')).toEqual([]);
});

test('haversine distances', () => {
  expect(distanceKm(0, 0, 0, 0)).toBe(0);
  // One degree of latitude is about 111.2 km on the mean sphere.
  expect(distanceKm(0, 0, 1, 0)).toBeCloseTo(111.195, 2);
  // Antipodes: half the circumference, not NaN.
  expect(distanceKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6371.0088, 3);
  expect(distanceKm(-17.5, 179.9, -16.85, -179.95)).toBeLessThan(80);
});

test('the box holds the circle; longitude is unbounded near a pole, across ±180 or for huge distances', () => {
  const box = nearBox({ latitude: 52, longitude: 5, distanceKm: 40 });
  expect(box.minLatitude).toBeCloseTo(52 - 40 / 111.195, 3);
  expect(box.maxLatitude).toBeCloseTo(52 + 40 / 111.195, 3);
  expect(box.longitude!.max - 5).toBeGreaterThan(40 / 111.195 / Math.cos((52 * Math.PI) / 180) - 1e-9);
  // The circle's widest point lies on its box's edge.
  const east = box.longitude!.max;
  expect(Math.min(...[51.9, 52, 52.1].map((lat) => distanceKm(52, 5, lat, east)))).toBeGreaterThan(39.9);
  expect(nearBox({ latitude: 89.9, longitude: 0, distanceKm: 50 })).toEqual({
    minLatitude: expect.any(Number),
    maxLatitude: 90,
  });
  expect(nearBox({ latitude: -89.9, longitude: 0, distanceKm: 50 }).minLatitude).toBe(-90);
  expect(nearBox({ latitude: 0, longitude: 179.9, distanceKm: 50 }).longitude).toBeUndefined();
  expect(nearBox({ latitude: 0, longitude: -179.9, distanceKm: 50 }).longitude).toBeUndefined();
  expect(nearBox({ latitude: 10, longitude: 0, distanceKm: 15000 }).longitude).toBeUndefined();
  expect(nearBox({ latitude: 60, longitude: 0, distanceKm: 3000 }).longitude).toBeDefined();
});
