// Package storage is the one narrow interface Strata reads and writes bytes
// through: get, ranged get, put, put-if-absent, list, delete and stat over
// slash-separated paths. It has local-disk, in-memory and S3 backends and one
// acceptance suite (storagetest) that every backend must pass.
package storage
