// The MongoDB filter for Location `near`, with the semantics of sqlite/search-near.ts: a composite group
// (`near$0` latitude, `near$1` longitude) inside the bounding box, and the haversine distance, computed by an
// aggregation expression over our own fields, within the radius. Query values appear only as numbers.
import type { NearValue } from '../../search/query';
import { EARTH_RADIUS_KM, latitudeCode, longitudeCode, nearBox } from '../../search/types/position';
import type { Filter } from './collections';
import { or } from './filters';

export function nearFilter(param: string, values: NearValue[]): Filter {
  return or(values.map((near) => pointFilter(param, near)));
}

function pointFilter(param: string, near: NearValue): Filter {
  const box = nearBox(near);
  const latitude = {
    param: latitudeCode(param),
    type: 'number',
    low: { $gte: box.minLatitude, $lte: box.maxLatitude },
  };
  const longitude = {
    param: longitudeCode(param),
    type: 'number',
    ...(box.longitude ? { low: { $gte: box.longitude.min, $lte: box.longitude.max } } : {}),
  };
  return {
    composites: {
      $elemMatch: { param, $and: [{ parts: { $elemMatch: latitude } }, { parts: { $elemMatch: longitude } }] },
    },
    $expr: { $anyElementTrue: [{ $map: { input: groupsOf(param), as: 'g', in: withinDistance(param, near) } }] },
  };
}

/** The document's composite groups of this parameter (only those: other groups' parts are no coordinates). */
function groupsOf(param: string) {
  return { $filter: { input: '$composites', as: 'c', cond: { $eq: ['$$c.param', { $literal: param }] } } };
}

/** `part` of the group `$$g`: the low of its entry with that code. */
function coordinate(code: string) {
  return { $arrayElemAt: ['$$g.parts.low', { $indexOfArray: ['$$g.parts.param', { $literal: code }] }] };
}

/** 2R asin(min(1, sqrt(sin²(Δlat/2) + cos lat1 cos lat2 sin²(Δlon/2)))) <= distance, as the SQL computes it. */
function withinDistance(param: string, near: NearValue) {
  const lat = coordinate(latitudeCode(param));
  const lon = coordinate(longitudeCode(param));
  const halfSine = (value: unknown, origin: number) => ({
    $pow: [{ $sin: { $divide: [{ $degreesToRadians: { $subtract: [value, origin] } }, 2] } }, 2],
  });
  const h = {
    $add: [
      halfSine(lat, near.latitude),
      {
        $multiply: [
          { $cos: { $degreesToRadians: near.latitude } },
          { $cos: { $degreesToRadians: lat } },
          halfSine(lon, near.longitude),
        ],
      },
    ],
  };
  const distance = { $multiply: [2 * EARTH_RADIUS_KM, { $asin: { $min: [1, { $sqrt: h }] } }] };
  return { $lte: [distance, near.distanceKm] };
}
