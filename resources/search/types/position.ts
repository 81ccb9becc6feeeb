// Location `near` (a special parameter): Location.position is indexed as two numbers in one group, latitude as
// `near$0` and longitude as `near$1`, so every store keeps and compares plain numbers. The geometry that both
// store compilers share (great-circle distance, the bounding box that narrows it) lives here too.
import type { NumberEntry } from '../index-entry';
import type { NearValue } from '../query';
import { finiteNumber, isObject, type TypedValue } from './value';

/** Mean Earth radius (IUGG), the sphere the haversine distance is measured on. */
export const EARTH_RADIUS_KM = 6371.0088;

/** Index codes of the two components of a position parameter. */
export const latitudeCode = (param: string) => `${param}$0`;
export const longitudeCode = (param: string) => `${param}$1`;

/** A Location.position (WGS84 decimal degrees) as its latitude and longitude entries; nothing when out of range. */
export function positionEntries(value: TypedValue, param: string): NumberEntry[] {
  if (!isObject(value.data)) return [];
  const latitude = finiteNumber(value.data.latitude);
  const longitude = finiteNumber(value.data.longitude);
  if (latitude === undefined || longitude === undefined) return [];
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return [];
  return [
    { type: 'number', param: latitudeCode(param), group: 0, low: latitude, high: latitude },
    { type: 'number', param: longitudeCode(param), group: 0, low: longitude, high: longitude },
  ];
}

const radians = (degrees: number) => (degrees * Math.PI) / 180;
const degrees = (radians: number) => (radians * 180) / Math.PI;

/** Great-circle distance in km between two points (haversine), as the stores compute it. */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const h =
    Math.sin(radians(lat2 - lat1) / 2) ** 2 +
    Math.cos(radians(lat1)) * Math.cos(radians(lat2)) * Math.sin(radians(lon2 - lon1) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Degree bounds that hold every point within the distance; longitude is unbounded near a pole or across ±180. */
export interface NearBox {
  minLatitude: number;
  maxLatitude: number;
  longitude?: { min: number; max: number };
}

/**
 * The box around the circle: latitude ± the angular distance; longitude ± asin(sin(d) / cos(lat)), the widest
 * point of the circle. The box only narrows the index range; the distance itself decides.
 */
export function nearBox(near: NearValue): NearBox {
  const angle = near.distanceKm / EARTH_RADIUS_KM;
  const minLatitude = near.latitude - degrees(angle);
  const maxLatitude = near.latitude + degrees(angle);
  const box: NearBox = { minLatitude: Math.max(minLatitude, -90), maxLatitude: Math.min(maxLatitude, 90) };
  const spread = Math.sin(angle) / Math.cos(radians(near.latitude));
  if (minLatitude <= -90 || maxLatitude >= 90 || angle >= Math.PI / 2 || spread >= 1) return box;
  const delta = degrees(Math.asin(spread));
  const min = near.longitude - delta;
  const max = near.longitude + delta;
  return min < -180 || max > 180 ? box : { ...box, longitude: { min, max } };
}
