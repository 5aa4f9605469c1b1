// Package spec holds Apache Paimon's on-disk format as pure values and
// codecs, with no I/O: data types and their JSON, table schemas, snapshots,
// BinaryRow and BinaryArray with the bucket hash, manifest entries and their
// Avro schemas, table options and row kinds.
package spec
