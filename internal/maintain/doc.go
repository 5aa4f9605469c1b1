// Package maintain is the scheduled maintenance job of strata maintain: in
// rounds, for each table in turn, it compacts (a full compaction when one
// is due), expires snapshots and, when asked, deletes orphan files, with
// the table package's operations, each safe beside writers and beside
// another job. A compaction that loses to a concurrent writer's is retried
// from the latest snapshot a few times, then left to the next round. A
// round logs what it did per table (log/slog) and, with a Prometheus
// registry, counts it. Cancelling the context stops the job between steps
// or inside one: a cancelled compaction commits nothing, and a cancelled
// expiration or cleaning is finished by the next run.
package maintain
