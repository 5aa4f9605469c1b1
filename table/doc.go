// Package table is Strata's public API over one Paimon table: opening it,
// writing rows through per-bucket LSM writers (Write), turning their output
// into snapshots (Commit), reading any snapshot back (Scan), and managing
// the snapshot and schema files that make up the table's history.
package table
