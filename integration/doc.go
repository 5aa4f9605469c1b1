// Package integration holds end-to-end tests across processes and real
// servers: tables on a real MinIO over S3, concurrent committers, and the
// strata binary itself.
package integration
