// Usage: node parquet_schema.mjs FILE
// Prints DuckDB's view of FILE's Parquet schema as JSON: one object per
// schema element with name, type, field_id, repetition_type,
// converted_type and logical_type.
import { main, query, sqlString } from './duckdb_util.mjs';

await main('usage: node parquet_schema.mjs FILE', async (file) => {
  const res = await query(
    'SELECT name, type, field_id, repetition_type, converted_type, logical_type ' +
      `FROM parquet_schema(${sqlString(file)})`,
  );
  return res.rows.map((r) => Object.fromEntries(res.columns.map((c, i) => [c, r[i]])));
});
