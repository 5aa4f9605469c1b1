// Package integration holds end-to-end tests across processes and real
// servers: tables on a real MinIO over S3, concurrent committers, the
// strata binary itself, and concurrent strata write processes on random
// table kinds checked against a model (TestConcurrentWriters).
package integration
