// SQL for Location `near`: positions (ix_number rows `near$0` latitude and `near$1` longitude of one group)
// within a great-circle distance of a point. The bounding box is a range on the latitude index; each latitude
// row finds its longitude by the table key (rid) — the `+` keeps SQLite off the value index, whose range per row
// would make the join quadratic — and the haversine distance, with SQLite's math functions, decides.
import type { NearValue } from '../../search/query';
import { EARTH_RADIUS_KM, nearBox } from '../../search/types/position';
import type { Sql } from './sql';

/** `alias.rid IN (rows whose position is near one of the values)`; `0` when nothing was ever indexed. */
export function nearSql(alias: string, latitudePids: number[], longitudePids: number[], values: NearValue[]): Sql {
  if (latitudePids.length === 0 || longitudePids.length === 0 || values.length === 0) return { text: '0', params: [] };
  const points = values.map(withinDistance);
  const marks = (pids: number[]) => pids.map(() => '?').join(', ');
  return {
    text:
      `${alias}.rid IN (SELECT la.rid FROM ix_number la JOIN ix_number lo ON lo.rid = la.rid AND lo.grp = la.grp` +
      ` AND +lo.pid IN (${marks(longitudePids)}) WHERE la.pid IN (${marks(latitudePids)})` +
      ` AND (${points.map((p) => `(${p.text})`).join(' OR ')}))`,
    params: [...longitudePids, ...latitudePids, ...points.flatMap((p) => p.params)],
  };
}

function withinDistance(near: NearValue): Sql {
  const box = nearBox(near);
  const longitude = box.longitude ? ' AND +lo.low >= ? AND +lo.low <= ?' : '';
  const haversine =
    `power(sin(radians(la.low - ?) / 2), 2) + cos(radians(?)) * cos(radians(la.low))` +
    ` * power(sin(radians(lo.low - ?) / 2), 2)`;
  return {
    text: `la.low >= ? AND la.low <= ?${longitude} AND 2 * ${EARTH_RADIUS_KM} * asin(min(1, sqrt(${haversine}))) <= ?`,
    params: [
      box.minLatitude,
      box.maxLatitude,
      ...(box.longitude ? [box.longitude.min, box.longitude.max] : []),
      near.latitude,
      near.latitude,
      near.longitude,
      near.distanceKm,
    ],
  };
}
