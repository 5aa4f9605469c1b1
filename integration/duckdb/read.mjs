// Usage: node read.mjs FILE
// Prints FILE's rows as DuckDB reads them:
// {"columns": [...], "types": [...], "rows": [[...], ...]}.
import { main, query, sqlString } from './duckdb_util.mjs';

await main('usage: node read.mjs FILE', (file) =>
  query(`SELECT * FROM read_parquet(${sqlString(file)})`),
);
