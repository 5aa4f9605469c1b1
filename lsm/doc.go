// Package lsm is one bucket's log-structured merge tree: the sorted write
// buffer, key-value records with their sequence numbers and row kinds, the
// merge functions that fold records of one key (deduplicate and friends),
// the k-way merge over sorted runs, and the writing of level files in
// Paimon's key-value Parquet layout.
package lsm
