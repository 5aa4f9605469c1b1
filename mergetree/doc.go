// Package mergetree is one bucket's LSM writer, Paimon's MergeTreeWriter:
// the write buffer (row by row, spilling to local disk, or column by column
// for tables that merge as plain deduplication), flushes into level-0
// files, the levels, the compaction manager running in the background, the
// lookup levels and deletion vectors that lookup compactions maintain, the
// changelog files, and the bookkeeping of what changed since the last
// commit (new, compacted and changelog files), handed over as an
// Increment.
//
// A Writer knows nothing of tables: it is given the bucket's directory and
// restored files, the file layout, merge function, ordering and options as
// plain values, a FileReader to read its data files back (the table resolves
// the schema each file was written with), and a function to write its
// deletion-vector index file. Routing rows to buckets, commit messages and
// the other index files stay in package table.
//
// The writer sits above package compaction, which imports lsm: a Writer
// owns a compaction.Manager and builds the lsm.Rewriter it runs, so it can
// live in neither of them without an import cycle (nor with an interface
// for the manager moved into lsm, which would leave the rewriter, lookup
// levels and deletion vectors wired together by the table, the closures
// this package replaces). The dependencies are table → mergetree →
// compaction → lsm.
package mergetree
