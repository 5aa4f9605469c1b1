package table

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

var alterSeed = flag.Uint64("alter.seed", 0, "TestAlterModel: replay this seed")

// TestAlterModel interleaves random schema changes (columns added at any
// position, some under the name of a dropped column, dropped, renamed, the
// key column too, widened, moved; options set and removed) with writes,
// deletes and compactions, and checks after every step that a scan and
// lookups of the reopened table give the model's rows, and at the end that
// every snapshot still reads as the model had it then, mapped to the
// latest schema by field id: a dropped column's values never reappear
// under a new column of the same name.
func TestAlterModel(t *testing.T) {
	seed := *alterSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay: go test ./table -run TestAlterModel -alter.seed=%d)", seed, seed)
	configs := map[string][]string{
		"plain":            {"bucket", "2"},
		"deletion-vectors": {"bucket", "1", "deletion-vectors.enabled", "true"},
	}
	for ci, name := range []string{"plain", "deletion-vectors"} {
		t.Run(name, func(t *testing.T) {
			m := newAlterModel(t, rand.New(rand.NewPCG(seed, uint64(ci))), configs[name])
			for step := 0; step < 40; step++ {
				m.step(step)
			}
			m.checkSnapshots()
		})
	}
}

// alterModel is the expected content of the table: rows by key, each a map
// from field id to its value in the column's current type.
type alterModel struct {
	t     *testing.T
	ctx   context.Context
	fs    storage.Storage
	rng   *rand.Rand
	tb    *Table
	rows  map[int32]map[int]any
	snaps map[int64]alterSnap
	// dropped are names of dropped columns, reused by later adds and
	// renames.
	dropped []string
	ident   int64
	names   int
}

// alterSnap is what a snapshot holds: the schema's fields then, and rows.
type alterSnap struct {
	fields []spec.DataField
	rows   map[int32]map[int]any
}

func newAlterModel(t *testing.T, rng *rand.Rand, opts []string) *alterModel {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, err := spec.ParseColumns("id INT NOT NULL, a INT, b STRING, c FLOAT, d DECIMAL(8, 2)")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(opts...), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Create(ctx, fs, "db.db/t", sc)
	if err != nil {
		t.Fatal(err)
	}
	return &alterModel{t: t, ctx: ctx, fs: fs, rng: rng, tb: tb, rows: map[int32]map[int]any{}, snaps: map[int64]alterSnap{}}
}

func (m *alterModel) step(i int) {
	switch r := m.rng.IntN(10); {
	case r < 5:
		m.write()
	case r < 8:
		m.alter()
	default:
		m.compact(r == 9)
	}
	m.check(fmt.Sprintf("step %d", i))
}

// randomValue is a value of type t, null now and then.
func (m *alterModel) randomValue(t spec.DataType) any {
	if m.rng.IntN(7) == 0 && t.Nullable {
		return nil
	}
	n := m.rng.Int64N(2000) - 1000
	switch t.Root {
	case spec.TypeTinyInt:
		return int8(n % 100)
	case spec.TypeSmallInt:
		return int16(n)
	case spec.TypeInt:
		return int32(n * 1000)
	case spec.TypeBigInt:
		return n << 33
	case spec.TypeFloat:
		return float32(n) / 4
	case spec.TypeDouble:
		return float64(n) / 8
	case spec.TypeDecimal:
		return spec.NewDecimal(n, t.Scale)
	case spec.TypeVarChar:
		return "v" + strconv.FormatInt(n, 36)
	}
	m.t.Fatalf("no random values of %s", t)
	return nil
}

func (m *alterModel) write() {
	w, err := m.tb.NewWrite(m.ctx)
	if err != nil {
		m.t.Fatal(err)
	}
	defer w.Close()
	fields := m.tb.Schema().Fields
	for n := 1 + m.rng.IntN(12); n > 0; n-- {
		key := int32(m.rng.IntN(40))
		row := make(spec.Row, len(fields))
		vals := map[int]any{}
		for i, f := range fields {
			if f.ID == 0 {
				row[i] = key
			} else {
				row[i] = m.randomValue(f.Type)
			}
			vals[f.ID] = row[i]
		}
		kind := spec.RowKindInsert
		if m.rng.IntN(5) == 0 {
			kind = spec.RowKindDelete
			delete(m.rows, key)
		} else {
			m.rows[key] = vals
		}
		if err := w.WriteRow(m.ctx, kind, row); err != nil {
			m.t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(m.ctx)
	if err != nil {
		m.t.Fatal(err)
	}
	m.ident++
	if _, err := m.tb.NewCommit("model").Commit(m.ctx, m.ident, msgs); err != nil {
		m.t.Fatal(err)
	}
	m.recordSnapshot()
}

func (m *alterModel) compact(full bool) {
	res, err := m.tb.Compact(m.ctx, full, "compactor", nil)
	if err != nil {
		m.t.Fatal(err)
	}
	if res.Snapshot > 0 {
		m.recordSnapshot()
	}
}

// recordSnapshot remembers the model at the latest snapshot.
func (m *alterModel) recordSnapshot() {
	id, err := m.tb.Snapshots().LatestID(m.ctx)
	if err != nil {
		m.t.Fatal(err)
	}
	rows := make(map[int32]map[int]any, len(m.rows))
	for k, r := range m.rows {
		c := make(map[int]any, len(r))
		for f, v := range r {
			c[f] = v
		}
		rows[k] = c
	}
	m.snaps[id] = alterSnap{fields: slices.Clone(m.tb.Schema().Fields), rows: rows}
}

// expected lays rows out in fields, casting each value from the type it
// had in from.
func (m *alterModel) expected(from, fields []spec.DataField, rows map[int32]map[int]any) []spec.Row {
	var out []spec.Row
	for _, r := range rows {
		row := make(spec.Row, len(fields))
		for i, f := range fields {
			j := slices.IndexFunc(from, func(g spec.DataField) bool { return g.ID == f.ID })
			if j >= 0 {
				row[i] = modelCast(m.t, r[f.ID], from[j].Type, f.Type)
			}
		}
		out = append(out, row)
	}
	return out
}

// modelCast converts a value along the type changes the model makes, all
// of which compose: casting directly gives what casting step by step does.
func modelCast(t *testing.T, v any, from, to spec.DataType) any {
	if v == nil || from.Root == to.Root && from.Root != spec.TypeDecimal {
		return v
	}
	var n int64
	switch x := v.(type) {
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case float32:
		return float64(x)
	case spec.Decimal:
		return x
	}
	switch to.Root {
	case spec.TypeSmallInt:
		return int16(n)
	case spec.TypeInt:
		return int32(n)
	case spec.TypeBigInt:
		return n
	case spec.TypeVarChar:
		return strconv.FormatInt(n, 10)
	}
	t.Fatalf("the model does not cast %s to %s", from, to)
	return nil
}

// render formats rows with their Go types, sorted, for comparison.
func render(rows []spec.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		s := ""
		for _, v := range r {
			if d, ok := v.(spec.Decimal); ok {
				s += "dec:" + d.String() + " "
			} else {
				s += fmt.Sprintf("%T:%v ", v, v)
			}
		}
		out[i] = s
	}
	slices.Sort(out)
	return out
}

func (m *alterModel) check(when string) {
	m.t.Helper()
	fields := m.tb.Schema().Fields
	want := render(m.expected(fields, fields, m.rows))
	if got := render(scanAll(m.t, m.tb)); !slices.Equal(got, want) {
		m.t.Fatalf("%s: scan of schema %d:\n%v\nmodel:\n%v", when, m.tb.Schema().ID, got, want)
	}
	l, err := m.tb.NewLookup(m.ctx, WithRefreshInterval(0))
	if err != nil {
		m.t.Fatal(err)
	}
	defer l.Close()
	for _, key := range []int32{int32(m.rng.IntN(40)), int32(m.rng.IntN(40)), 99} {
		got, err := l.Get(m.ctx, spec.Row{key})
		if err != nil {
			m.t.Fatal(err)
		}
		var want []spec.Row
		if r, ok := m.rows[key]; ok {
			want = m.expected(fields, fields, map[int32]map[int]any{key: r})
		}
		var gotRows []spec.Row
		if got != nil {
			gotRows = []spec.Row{got}
		}
		if g, w := render(gotRows), render(want); !slices.Equal(g, w) {
			m.t.Fatalf("%s: lookup of %d: %v, model has %v", when, key, g, w)
		}
	}
}

// checkSnapshots scans every snapshot with the latest schema.
func (m *alterModel) checkSnapshots() {
	latest := m.tb.Schema().Fields
	for id, s := range m.snaps {
		want := render(m.expected(s.fields, latest, s.rows))
		if got := render(scanAll(m.t, m.tb, WithSnapshot(id))); !slices.Equal(got, want) {
			m.t.Fatalf("snapshot %d in the latest schema:\n%v\nmodel:\n%v", id, got, want)
		}
	}
}

// alter applies one to three random changes in one Alter, now and then
// first trying one that must be refused.
func (m *alterModel) alter() {
	old := m.tb.Schema()
	if m.rng.IntN(6) == 0 {
		key := old.PrimaryKeys[0]
		if _, err := m.tb.Alter(m.ctx, spec.DropColumn{Name: key}); !errors.Is(err, spec.ErrInvalidSchema) {
			m.t.Fatalf("dropping the key column %q: %v", key, err)
		}
	}
	var changes []spec.SchemaChange
	next := old
	for n := 1 + m.rng.IntN(3); n > 0; n-- {
		c := m.randomChange(next)
		s, err := spec.ApplySchemaChanges(next, true, c)
		if err != nil {
			continue // such as a rename onto a name an earlier change took
		}
		changes, next = append(changes, c), s
	}
	if len(changes) == 0 {
		return
	}
	got, err := m.tb.Alter(m.ctx, changes...)
	if err != nil {
		m.t.Fatalf("alter %#v: %v", changes, err)
	}
	if m.tb, err = Open(m.ctx, m.fs, m.tb.Path()); err != nil {
		m.t.Fatal(err)
	}
	if got.ID != old.ID+1 || m.tb.Schema().ID != got.ID {
		m.t.Fatalf("alter wrote schema %d, the table opens %d, after %d", got.ID, m.tb.Schema().ID, old.ID)
	}
	for _, f := range old.Fields {
		nf, ok := got.FieldByID(f.ID)
		switch {
		case !ok:
			m.dropped = append(m.dropped, f.Name)
			for _, r := range m.rows {
				delete(r, f.ID)
			}
		case !nf.Type.Equal(f.Type):
			for _, r := range m.rows {
				r[f.ID] = modelCast(m.t, r[f.ID], f.Type, nf.Type)
			}
		}
	}
}

// widenings are the type changes the model makes.
var widenings = map[string][]string{
	"TINYINT":     {"SMALLINT", "INT", "BIGINT", "STRING"},
	"SMALLINT":    {"INT", "BIGINT"},
	"INT":         {"BIGINT", "STRING"},
	"BIGINT":      {"STRING"},
	"FLOAT":       {"DOUBLE"},
	"VARCHAR(10)": {"STRING"},
}

var addTypes = []string{"TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DECIMAL(8, 2)", "VARCHAR(10)", "STRING"}

// newName is a fresh column name or, half the time, a dropped one.
func (m *alterModel) newName() string {
	if len(m.dropped) > 0 && m.rng.IntN(2) == 0 {
		return m.dropped[m.rng.IntN(len(m.dropped))]
	}
	m.names++
	return fmt.Sprintf("x%d", m.names)
}

func (m *alterModel) randomMove(sc *spec.TableSchema) *spec.Move {
	ref := sc.Fields[m.rng.IntN(len(sc.Fields))].Name
	switch m.rng.IntN(5) {
	case 0:
		return &spec.Move{Kind: spec.MoveFirst}
	case 1:
		return &spec.Move{Kind: spec.MoveLast}
	case 2:
		return &spec.Move{Kind: spec.MoveAfter, Ref: ref}
	case 3:
		return &spec.Move{Kind: spec.MoveBefore, Ref: ref}
	}
	return nil
}

func (m *alterModel) randomChange(sc *spec.TableSchema) spec.SchemaChange {
	field := sc.Fields[m.rng.IntN(len(sc.Fields))]
	typ := func(s string) spec.DataType {
		d, err := spec.ParseType(s)
		if err != nil {
			m.t.Fatal(err)
		}
		return d
	}
	switch m.rng.IntN(9) {
	case 0, 1:
		return spec.AddColumn{Name: m.newName(), Type: typ(addTypes[m.rng.IntN(len(addTypes))]), Move: m.randomMove(sc)}
	case 2:
		return spec.DropColumn{Name: field.Name}
	case 3:
		return spec.RenameColumn{Name: field.Name, NewName: m.newName()}
	case 4, 5:
		ts := field.Type.String()
		if field.Type.Root == spec.TypeDecimal {
			return spec.UpdateColumnType{Name: field.Name, Type: spec.DecimalType(field.Type.Precision+2, field.Type.Scale)}
		}
		if w := widenings[ts]; len(w) > 0 {
			return spec.UpdateColumnType{Name: field.Name, Type: typ(w[m.rng.IntN(len(w))])}
		}
		return spec.UpdateColumnComment{Name: field.Name, Comment: &ts}
	case 6:
		if mv := m.randomMove(sc); mv != nil {
			return spec.UpdateColumnPosition{Name: field.Name, Move: *mv}
		}
		return spec.UpdateComment{Comment: &field.Name}
	case 7:
		return spec.SetOption{Key: "num-sorted-run.compaction-trigger", Value: strconv.Itoa(2 + m.rng.IntN(4))}
	}
	return spec.RemoveOption{Key: "num-sorted-run.compaction-trigger"}
}
