// Package compaction decides what one bucket's LSM tree compacts and runs
// it: Paimon's universal compaction (size amplification, size ratio, file
// number), forced level-0 pick-up, full compaction, the interval partition
// of overlapping files, and the choice between upgrading a file to a new
// level and rewriting it.
package compaction
