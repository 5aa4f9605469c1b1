package integration

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// checkLookups looks every key of the model, and keys it lacks, up with
// Strata's Lookup and Java's LocalTableQuery at the latest snapshot. It
// runs after full compactions: LocalTableQuery returns a key's newest
// record without merging (and ignores deletion vectors), so only a fully
// compacted table is one where it must agree with a scan.
func (r *javaRun) checkLookups() {
	r.t.Helper()
	if r.c.PK == "" || r.t.Failed() {
		return
	}
	var keys []spec.Row
	for _, k := range r.model.order {
		if row, ok := r.model.rows[k]; ok {
			keys = append(keys, row)
		}
	}
	n := len(keys)
	for i := 0; i < min(n, 3); i++ { // the same partitions, keys never written
		missing := slices.Clone(keys[i])
		missing[slices.IndexFunc(r.schema.Fields, func(f spec.DataField) bool { return f.Name == "id" })] = int32(r.c.keys() + i)
		keys = append(keys, missing)
	}
	var keyFields []spec.DataField
	keyRows := make([]spec.Row, len(keys))
	for _, i := range r.model.pk {
		keyFields = append(keyFields, r.schema.Fields[i])
	}
	for j, row := range keys {
		for _, i := range r.model.pk {
			keyRows[j] = append(keyRows[j], row[i])
		}
	}
	want := make([]string, len(keys))
	for j, row := range keys {
		want[j] = "null"
		if j < n {
			w, err := encodeLines(r.schema.Fields, []spec.Row{row})
			if err != nil {
				r.fatal("%v", err)
			}
			want[j] = w[0]
		}
	}

	l, err := r.table().NewLookup(r.ctx, table.WithRefreshInterval(0), table.WithLookupCacheDir(r.t.TempDir()))
	if err != nil {
		r.fail("strata lookup: %v", err)
		return
	}
	res, err := l.GetBatch(r.ctx, keyRows)
	l.Close()
	if err != nil {
		r.fail("strata lookup: %v", err)
		return
	}
	enc := textrow.NewJSONEncoder(nil, keyFields)
	var in strings.Builder
	var javaKeys []int // the keys Java is asked for
	for j, k := range keyRows {
		if r.slashPartition(keys[j]) {
			continue
		}
		javaKeys = append(javaKeys, j)
		b, err := enc.AppendRow(nil, k)
		if err != nil {
			r.fatal("%v", err)
		}
		in.Write(append(b, '\n'))
	}
	javaOut, err := r.d.Lookup(r.ctx, r.wh, javaTable, 0, in.String())
	if err != nil {
		r.fail("java lookup: %v", err)
		return
	}
	if len(javaOut) != len(javaKeys) {
		r.fail("java lookup answered %d lines for %d keys", len(javaOut), len(javaKeys))
		return
	}
	if len(javaKeys) < len(keys) {
		r.notes = append(r.notes, fmt.Sprintf("Java looked up %d of %d keys: %s", len(javaKeys), len(keys), javaSlashBug))
	}
	for j := range keys {
		got := "null"
		if res.Rows[j] != nil {
			g, err := encodeLines(r.schema.Fields, []spec.Row{res.Rows[j]})
			if err != nil {
				r.fatal("%v", err)
			}
			got = g[0]
		}
		if !r.sameRow(got, want[j]) {
			r.fail("strata lookup of %v: %s, want %s", keyRows[j], got, want[j])
		}
		ji := slices.Index(javaKeys, j)
		if ji < 0 {
			continue
		}
		got = javaOut[ji]
		if got != "null" {
			c, err := canonical(r.schema.Fields, []string{got}, false)
			if err != nil {
				r.fail("java lookup of %v: %v", keyRows[j], err)
				continue
			}
			got = c[0]
		}
		if !r.sameRow(got, want[j]) {
			r.fail("java lookup of %v: %s, want %s", keyRows[j], got, want[j])
		}
	}
}

// slashPartition reports whether row's partition values hold a '/'.
func (r *javaRun) slashPartition(row spec.Row) bool {
	for _, p := range r.schema.PartitionKeys {
		i := slices.IndexFunc(r.schema.Fields, func(f spec.DataField) bool { return f.Name == p })
		if s, ok := row[i].(string); ok && strings.Contains(s, "/") {
			return true
		}
	}
	return false
}

// sameRow compares two encoded rows, MAP entries in key order for Avro
// cells (see modelDiff).
func (r *javaRun) sameRow(got, want string) bool {
	if r.c.avro() {
		return sortedObjects([]string{got})[0] == sortedObjects([]string{want})[0]
	}
	return got == want
}
