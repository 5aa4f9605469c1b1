// Package reader reads one data file in Paimon's key-value layout into
// records: it maps the file's columns to the read schema by field id (so
// files written under older schemas read correctly), and skips the rows a
// deletion vector marks deleted.
package reader
