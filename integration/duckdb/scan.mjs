// Usage: node scan.mjs < SPEC
// The DuckDB baseline of `strata bench scan`. SPEC (JSON on stdin):
//   {"runs": 3, "threads": [1, 2], "sink": "table"|"chunks",
//    "queries": [{"name": "full", "sql": "SELECT * FROM read_parquet([...])"}]}
// Runs every query once untimed, then `runs` timed times, under each
// `SET threads=N`, on one in-memory DuckDB, and prints
//   {"version": "v1.x", "sink": ..., "results": [{"name", "threads", "rows", "seconds": [...]}]}.
// Sinks, both consuming every column of every row without converting
// values to JavaScript:
//   table   CREATE TEMP TABLE AS <query>: DuckDB materializes the result in
//           memory with all its threads; rows counted afterwards, untimed.
//   chunks  the query streamed, chunk by chunk (2048 rows), counting rows:
//           one round trip into Node per chunk.
import { DuckDBInstance } from '@duckdb/node-api';

async function readStdin() {
  let s = '';
  for await (const chunk of process.stdin) s += chunk;
  return JSON.parse(s);
}

// consume runs sql through the sink and returns the rows it produced.
async function consume(conn, sink, sql) {
  if (sink === 'table') {
    await conn.run(`CREATE OR REPLACE TEMP TABLE bench_sink AS ${sql}`);
    return null; // counted after the clock stops
  }
  const result = await conn.stream(sql);
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return rows;
    rows += chunk.rowCount;
  }
}

async function countSink(conn, sink, rows) {
  if (sink !== 'table') return rows;
  const r = await conn.runAndReadAll('SELECT count(*) FROM bench_sink');
  const n = Number(r.getRows()[0][0]);
  await conn.run('DROP TABLE bench_sink');
  return n;
}

async function run(spec) {
  const sink = spec.sink || 'table';
  if (sink !== 'table' && sink !== 'chunks') throw new Error(`sink ${sink}: want table or chunks`);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
  const results = [];
  try {
    for (const threads of spec.threads) {
      await conn.run(`SET threads=${Number(threads)}`);
      for (const q of spec.queries) {
        let rows = await countSink(conn, sink, await consume(conn, sink, q.sql)); // warm-up
        const seconds = [];
        for (let i = 0; i < spec.runs; i++) {
          const start = process.hrtime.bigint();
          const n = await consume(conn, sink, q.sql);
          seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
          rows = await countSink(conn, sink, n);
        }
        results.push({ name: q.name, threads, rows, seconds });
      }
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return { version, sink, results };
}

let out;
try {
  out = JSON.stringify(await run(await readStdin())) + '\n';
} catch (err) {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(1);
}
// Exit once stdout is flushed: DuckDB's native threads keep Node alive.
process.stdout.write(out, () => process.exit(0));
