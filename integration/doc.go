// Package integration holds end-to-end tests across processes and real
// servers: tables on a real MinIO over S3, concurrent committers, the
// strata binary itself (strata maintain stopped by SIGTERM, strata tail
// --follow --consumer SIGKILLed and resumed while strata write commits,
// strata demo checked against the table it leaves),
// concurrent strata write processes on random
// table kinds checked against a model (TestConcurrentWriters), the crash
// harness (TestCrashHarness: strata built with the fault points of
// internal/faultpoint, its writers, maintenance, lookup server and tails
// SIGKILLed at random and at named points, restarted and checked against a
// model; see docs/testing.md), and Apache Paimon's Java implementation
// reading and writing the same tables.
//
// # Java Paimon
//
// TestJavaMatrix runs each table kind of java_cells_test.go (buckets,
// partitions, merge engines, deletion vectors, changelog producers, every
// data type, append tables) in two directions: Strata writes and Java
// reads, and Java writes and Strata reads. After every batch both sides'
// reads are compared with a model of the merge engine; at the end each
// side fully compacts the table, both reads are compared at every
// snapshot, and for the cells marked Stream (every changelog producer,
// and none) Java's streaming read is compared with Strata's (table.Stream),
// snapshot by snapshot. Java runs through the
// driver in integration/java (see its README), built and started by
// integration/paimonjava: the tests skip without java and mvn, and fail
// instead when STRATA_REQUIRE_JAVA is set, as .ci/run sets it. pypaimon,
// Paimon's Python implementation, then reads every snapshot of each run's
// table too (integration/python, set up by integration/paimonpy in a
// virtual environment on first use; STRATA_REQUIRE_PYPAIMON makes a missing
// python3 a failure). Flink, with Paimon's Flink connector, reads every
// snapshot of each run's table as well: the test binary's one Flink driver
// (see Flink below; default profile only, STRATA_REQUIRE_FLINK as there)
// runs one batch job per run, a UNION ALL of one time-travel scan per
// snapshot (/*+ OPTIONS('scan.snapshot-id' = 'N') */), its rows in
// Strata's value format compared with Strata's scan of that snapshot (MAP
// and MULTISET entries in key order: Flink hands them over as hash maps).
// Cells a reader cannot handle say why (NoJavaWrite, NoPython, NoFlink,
// ...), and the report lists them as n/a with that reason.
//
// Each run also looks every key up with Strata's Lookup and Java's
// LocalTableQuery after the full compactions. TestJavaSchemaEvolution has
// Java alter a table between both engines' commits; TestJavaAvroTable
// reads a table Java wrote with file.format=avro, and TestJavaAvroMatrix
// runs the Avro cells (Java writes, Strata reads, scans and lookups).
// TestJavaStrataConflicts has both engines prepare commits to one bucket
// from a snapshot the other then moves past (the driver's write and compact
// --hold keep Java's commit for later): Strata refuses its APPEND and its
// COMPACT, Java its COMPACT ("File deletion conflicts"), nothing is
// published by a refused commit, and both read every snapshot alike. Java's
// APPEND has no such check in Paimon, so that direction is not tested.
// TestJavaTags has Java list and read the tags Strata creates (a retention
// included), Strata re-encode a tag file Java wrote byte for byte, and Java
// read and commit to a table after Strata rolled it back to a tag.
//
// The Java peer figures of BENCHMARKS.md (`strata bench --java`) run the
// driver's bench-write and bench-lookup commands (internal/bench/java.go), and
// javatest.Fixture has it generate Java-written tables for the table
// package's tests on demand, cached in integration/java/.fixtures.
//
// The CI run is short (3 batches of 12 changes per cell, about 40 seconds,
// plus about 35 for Flink's reads, its MiniCluster's start included).
// The long run adds cells and uses 8 batches of 40 changes (about three
// minutes on two cores):
//
//	STRATA_JAVA_LONG=1 go test ./integration -run TestJavaMatrix -v
//
// -v prints the matrix as a table; STRATA_JAVA_MATRIX_REPORT=file writes
// it to a file, STRATA_JAVA_CELLS=a,b runs only the cells whose names
// contain a or b, and STRATA_JAVA_KEEP=dir keeps each warehouse in
// dir/<cell>-<direction> for a look with either engine.
//
// # Flink
//
// TestFlink runs Apache Flink with Paimon's Flink connector on a MiniCluster
// in the Flink driver's JVM (integration/flink, started by
// integration/paimonflink; STRATA_REQUIRE_FLINK makes a missing java or mvn
// a failure): Flink 2.0 with paimon-flink-2.0 1.4.2, and with
// STRATA_FLINK_PROFILES=default,flink-1.20 (as CI sets it) also Flink 1.20
// with paimon-flink-1.20 1.3.1, over Strata warehouses, through a
// Paimon filesystem catalog: a batch SELECT with a filter and one with
// aggregates over a Strata-written partitioned table (with and without
// deletion vectors), compared with the same computed over Strata's scan;
// Flink INSERTs of that table into a Strata-created aggregation table,
// which Strata writes on and reads; a streaming read of a Strata-written
// lookup-changelog table, running while Strata commits, compared key by key
// with Strata's changelog, kinds and order included; and INSERTs (VALUES,
// and a SELECT over the table) and a DELETE into a Strata table that Strata
// then reads, writes on and compacts, each read compared with a model.
// TestJavaMatrix and TestJavaAvroMatrix have the same driver (default
// profile) read every snapshot of every cell's table (see Java Paimon
// above).
package integration
