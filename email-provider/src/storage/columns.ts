// Reading typed columns out of database rows, for every SQL store (SQLite and PostgreSQL).
// A value of the wrong type is a schema bug, never user input: it throws.

export type Row = Record<string, unknown>;

export function str(row: Row, name: string): string {
  const v = row[name];
  if (typeof v !== 'string') throw new Error(`column ${name} is not text`);
  return v;
}

/**
 * An integer column (times in ms, counts). SQLite may hand back a bigint and PostgreSQL's
 * BIGINT and COUNT come back as strings; every value stored here is a safe integer.
 */
export function num(row: Row, name: string): number {
  const v = row[name];
  const n = typeof v === 'string' || typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new Error(`column ${name} is not an integer`);
  }
  return n;
}
