// Shared helpers for the DuckDB check scripts.
import { DuckDBInstance } from '@duckdb/node-api';

// sqlString quotes s as a SQL string literal.
export function sqlString(s) {
  return "'" + String(s).replaceAll("'", "''") + "'";
}

// query runs sql on a fresh in-memory DuckDB and returns the column names,
// their DuckDB types and the rows as JSON-safe values (big integers,
// decimals and timestamps come out as strings).
export async function query(sql) {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return {
      columns: reader.columnNames(),
      types: reader.columnTypes().map((t) => t.toString()),
      rows: reader.getRowsJson(),
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

// main runs f with the single FILE argument and prints its result as JSON.
// It exits explicitly once stdout is flushed: DuckDB's native threads keep
// Node alive for seconds after the instance is closed.
export async function main(usage, f) {
  const file = process.argv[2];
  if (!file || process.argv.length !== 3) {
    console.error(usage);
    process.exit(2);
  }
  let out;
  try {
    out = JSON.stringify(await f(file)) + '\n';
  } catch (err) {
    console.error(String(err && err.stack ? err.stack : err));
    process.exit(1);
  }
  process.stdout.write(out, () => process.exit(0));
}
