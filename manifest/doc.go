// Package manifest reads and writes Paimon's manifest files, manifest lists
// and index manifests through storage, and merges ADD/DELETE entries into the
// set of live files. It names files as Java does (manifest-<uuid>-<n>).
package manifest
