// A compiled SQL statement: its text and the values bound to its placeholders, in order.
export interface Sql {
  text: string;
  params: unknown[];
}

/**
 * `LIMIT n` as text. A bound `LIMIT ?` lets SQLite's planner read the value, so it re-prepares the statement
 * at every execution with a new binding, which cost a conditional lookup ten times its run; page sizes are
 * few, so a literal limit only adds a few statements to the cache.
 */
export function limit(count: number): string {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`invalid LIMIT ${count}`);
  return `LIMIT ${count}`;
}
