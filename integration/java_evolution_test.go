package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/integration/paimonjava/javatest"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// TestJavaSchemaEvolution: Java (or, in strata-alters, Strata's
// Table.Alter) alters a table (adds, renames and drops columns, widens INT
// to BIGINT and FLOAT to DOUBLE) between commits of both engines; Strata reads every snapshot as Java does, each old
// snapshot mapped to the latest schema by field id (Java reads a snapshot
// with the schema it was written with, Strata with the latest), and both
// agree with the expected rows after every step.
func TestJavaSchemaEvolution(t *testing.T) {
	d := javatest.ForTest(t)
	for _, mode := range []string{"strata-creates", "java-creates", "strata-alters"} {
		t.Run(mode, func(t *testing.T) { runEvolution(t, d, mode) })
	}
}

// evoRow is an expected row by column name.
type evoRow map[string]any

func runEvolution(t *testing.T, d *paimonjava.Driver, mode string) {
	ctx := context.Background()
	wh := t.TempDir()
	fs, err := storage.Open(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(fs)
	c := &javaCell{
		Name: "evolution", Columns: "id INT NOT NULL, a INT, b STRING, c DOUBLE, d FLOAT", PK: "id",
		Options: map[string]string{"bucket": "2"},
	}
	schema, err := c.schema()
	if err != nil {
		t.Fatal(err)
	}
	r := &javaRun{t: t, ctx: ctx, d: d, c: c, wh: wh, cat: cat,
		id: catalog.Identifier{Database: "db", Table: "t"}, schema: schema}
	if mode == "java-creates" {
		err = d.Create(ctx, r.wh, javaTable, spec.EncodeSchema(schema))
	} else {
		_, err = cat.CreateTable(ctx, r.id, schema)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]evoRow{}

	// Batch 1, by Strata, in the first schema.
	var changes []change
	for i := int32(1); i <= 6; i++ {
		row := spec.Row{i, i * 10, fmt.Sprintf("s%d", i), float64(i) + 0.5, float32(i) * 1.5}
		changes = append(changes, change{spec.RowKindInsert, row})
		want[i] = evoRow{"id": i, "a": i * 10, "b": row[2], "c": row[3], "d": row[4]}
	}
	r.strataWrite(1, changes)
	r.checkEvolved(want, "after batch 1")

	// Java (or Strata) evolves the schema.
	if mode == "strata-alters" {
		_, err = r.table().Alter(ctx, spec.AddColumn{Name: "e", Type: spec.BigIntType},
			spec.RenameColumn{Name: "b", NewName: "b2"}, spec.DropColumn{Name: "c"},
			spec.UpdateColumnType{Name: "a", Type: spec.BigIntType}, spec.UpdateColumnType{Name: "d", Type: spec.DoubleType})
	} else {
		err = d.Alter(ctx, r.wh, javaTable, `[
		{"op": "add", "column": "e", "type": "BIGINT"},
		{"op": "rename", "column": "b", "to": "b2"},
		{"op": "drop", "column": "c"},
		{"op": "type", "column": "a", "type": "BIGINT"},
		{"op": "type", "column": "d", "type": "DOUBLE"}
	]`)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		w["a"] = int64(w["a"].(int32))
		w["b2"] = w["b"]
		w["d"] = float64(w["d"].(float32))
		delete(w, "b")
		delete(w, "c")
	}
	r.schema = r.table().Schema()
	r.checkEvolved(want, "after the schema change")

	// Batch 2, by Java, in the new schema.
	changes = nil
	for _, i := range []int32{2, 3, 7} {
		row := evoRow{"id": i, "a": int64(i) << 40, "b2": fmt.Sprintf("j%d", i), "d": float64(i) / 3, "e": int64(-i)}
		changes = append(changes, change{spec.RowKindInsert, r.evoSpecRow(row)})
		want[i] = row
	}
	r.javaWrite(2, changes)
	r.checkEvolved(want, "after batch 2")

	// Batch 3, by Strata, in the new schema, with a delete.
	changes = nil
	for _, i := range []int32{4, 8} {
		row := evoRow{"id": i, "a": int64(i), "b2": nil, "d": nil, "e": int64(i) * 1000}
		changes = append(changes, change{spec.RowKindInsert, r.evoSpecRow(row)})
		want[i] = row
	}
	changes = append(changes, change{spec.RowKindDelete, r.evoSpecRow(evoRow{"id": int32(5)})})
	delete(want, 5)
	r.strataWrite(3, changes)
	r.checkEvolved(want, "after batch 3")

	r.compact(true, "Java's full compaction")
	r.checkEvolved(want, "after Java's full compaction")
	r.compact(false, "Strata's full compaction")
	r.checkEvolved(want, "after Strata's full compaction")
	r.checkEvolvedSnapshots()
}

// evoSpecRow lays an expected row out in the current schema.
func (r *javaRun) evoSpecRow(w evoRow) spec.Row {
	row := make(spec.Row, len(r.schema.Fields))
	for i, f := range r.schema.Fields {
		row[i] = w[f.Name]
	}
	return row
}

// checkEvolved compares both engines' latest reads with want. (The model
// of javaRun is not used: its rows have a fixed schema.)
func (r *javaRun) checkEvolved(want map[int32]evoRow, when string) {
	r.t.Helper()
	var rows []spec.Row
	for _, w := range want {
		rows = append(rows, r.evoSpecRow(w))
	}
	lines, err := encodeLines(r.schema.Fields, rows)
	if err != nil {
		r.fatal("%v", err)
	}
	got, err := r.strataLines(0)
	if err != nil {
		r.fail("%s: strata scan: %v", when, err)
	} else if d := diffLines(lines, got); d != "" {
		r.fail("%s: strata scan differs from the expected rows:\n%s", when, d)
	}
	got, err = r.javaLines(0)
	if err != nil {
		r.fail("%s: java read: %v", when, err)
	} else if d := diffLines(lines, got); d != "" {
		r.fail("%s: java read differs from the expected rows:\n%s", when, d)
	}
}

// checkEvolvedSnapshots compares, at every snapshot, Strata's scan (in the
// latest schema) with Java's read (in the snapshot's schema) mapped to the
// latest schema by field id.
func (r *javaRun) checkEvolvedSnapshots() {
	r.t.Helper()
	tb := r.table()
	latest := tb.Schema()
	for _, id := range r.snapshotIDs() {
		snap, err := tb.Snapshots().Get(r.ctx, id)
		if err != nil {
			r.fatal("%v", err)
		}
		old, err := tb.Schemas().Get(r.ctx, snap.SchemaID)
		if err != nil {
			r.fatal("%v", err)
		}
		raw, err := r.d.Read(r.ctx, r.wh, javaTable, id)
		if err != nil {
			r.fail("snapshot %d: java read: %v", id, err)
			continue
		}
		oldLines, err := canonical(old.Fields, raw, false)
		if err != nil {
			r.fail("snapshot %d: %v", id, err)
			continue
		}
		var mapped []spec.Row
		for _, l := range oldLines {
			rows, err := decodeLines(old.Fields, l)
			if err != nil {
				r.fatal("%v", err)
			}
			row, err := toSchema(rows[0], old.Fields, latest.Fields)
			if err != nil {
				r.fatal("snapshot %d: %v", id, err)
			}
			mapped = append(mapped, row)
		}
		j, err := encodeLines(latest.Fields, mapped)
		if err != nil {
			r.fatal("%v", err)
		}
		s, err := r.strataLines(id)
		if err != nil {
			r.fail("snapshot %d: strata scan: %v", id, err)
			continue
		}
		if d := diffLines(s, j); d != "" {
			r.fail("snapshot %d (schema %d): java read (+) differs from strata scan (-):\n%s", id, snap.SchemaID, d)
		}
	}
}

// toSchema maps a row of one schema to another by field id: columns the
// other lacks are null, changed types are cast.
func toSchema(row spec.Row, from, to []spec.DataField) (spec.Row, error) {
	out := make(spec.Row, len(to))
	for i, f := range to {
		j := slices.IndexFunc(from, func(g spec.DataField) bool { return g.ID == f.ID })
		if j < 0 || row[j] == nil {
			continue
		}
		v, err := spec.CastValue(row[j], from[j].Type, f.Type)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// decodeLines decodes JSON Lines rows with Strata's decoder.
func decodeLines(fields []spec.DataField, text string) ([]spec.Row, error) {
	var rows []spec.Row
	dec := textrow.NewJSONDecoder(strings.NewReader(text), fields)
	for {
		row, _, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
}
