package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// This file holds what TestConcurrentWriters draws and predicts: the table
// kind of a round, each writer's input rows, and the model that applies
// committed writes with the merge engine's semantics.

// Delete modes: which retracting rows a round's writers send.
const (
	delNone   = ""                        // adds only
	delPlain  = "delete"                  // deduplicate: -D deletes the key
	delIgnore = "ignore-delete"           // -D rows are ignored (partial-update, first-row)
	delRemove = "remove-record-on-delete" // -D removes the row (partial-update, aggregation)
	delRetrct = "retract"                 // aggregation: -U/-D subtract from sums
)

// privateIDBase: each writer's first row is a key no other writer uses, so
// every write changes the table and must commit.
const privateIDBase = 1000

// tableKind is the random table of one round.
type tableKind struct {
	Buckets    int    // 1..4 fixed, or -1 dynamic
	Cross      bool   // partitioned, primary key without the partition column, bucket -1
	PartType   string // "" unpartitioned, else STRING or INT
	Engine     string // merge-engine
	DelMode    string // one of the del* constants
	DV         bool   // deletion-vectors.enabled
	Lookup     bool   // changelog-producer=lookup
	TargetRows int    // dynamic-bucket.target-row-num (bucket -1)
	Trigger    int    // num-sorted-run.compaction-trigger
	Writers    int    // concurrent strata write processes
	KeySpace   int    // keys per writer range
	Overlap    bool   // writers share one key range, else disjoint ranges
}

// drawKind draws a table kind; rng must be seeded by the round's seed.
func drawKind(rng *rand.Rand) tableKind {
	k := tableKind{
		Engine:   []string{"deduplicate", "partial-update", "aggregation", "first-row"}[rng.IntN(4)],
		PartType: []string{"", "STRING", "INT"}[rng.IntN(3)],
		Writers:  2 + rng.IntN(7),
		KeySpace: 6 + rng.IntN(30),
		Overlap:  rng.IntN(3) != 0,
		Lookup:   rng.IntN(3) == 0,
		Trigger:  2 + rng.IntN(4),
	}
	switch b := rng.IntN(8); {
	case b < 4:
		k.Buckets = b + 1
	case b < 6:
		k.Buckets = -1
	default:
		k.Buckets, k.Cross = -1, true
		if k.PartType == "" {
			k.PartType = []string{"STRING", "INT"}[rng.IntN(2)]
		}
	}
	if k.Buckets == -1 {
		k.TargetRows = 3 + rng.IntN(30)
	}
	k.DV = k.Engine != "first-row" && rng.IntN(2) == 0
	modes := map[string][]string{
		"deduplicate":    {delNone, delPlain},
		"partial-update": {delNone, delIgnore, delRemove},
		"aggregation":    {delNone, delRetrct, delRemove},
		"first-row":      {delNone, delIgnore},
	}[k.Engine]
	if k.Cross {
		// A -D takes the key out of the cross-partition index, so it may only
		// be sent where it also removes the row.
		modes = slices.DeleteFunc(slices.Clone(modes), func(m string) bool { return m == delIgnore })
	}
	k.DelMode = modes[rng.IntN(len(modes))]
	return k
}

// String describes the kind for failure messages.
func (k tableKind) String() string {
	var parts []string
	switch {
	case k.Cross:
		parts = append(parts, "bucket=-1 cross-partition")
	default:
		parts = append(parts, fmt.Sprintf("bucket=%d", k.Buckets))
	}
	if k.Buckets == -1 {
		parts = append(parts, fmt.Sprintf("target-row-num=%d", k.TargetRows))
	}
	if k.PartType != "" {
		parts = append(parts, "partition p "+k.PartType)
	}
	parts = append(parts, k.Engine)
	if k.DelMode != delNone {
		parts = append(parts, "deletes:"+k.DelMode)
	}
	if k.DV {
		parts = append(parts, "deletion-vectors")
	}
	if k.Lookup {
		parts = append(parts, "changelog=lookup")
	}
	keys := "disjoint"
	if k.Overlap {
		keys = "overlapping"
	}
	parts = append(parts, fmt.Sprintf("trigger=%d", k.Trigger), fmt.Sprintf("%d writers on %s keys (%d)", k.Writers, keys, k.KeySpace))
	return strings.Join(parts, ", ")
}

// columns are the table's columns: id, the partition column p if any, then
// a (BIGINT), b (STRING), c (BIGINT).
func (k tableKind) columns() []string {
	if k.PartType == "" {
		return []string{"id", "a", "b", "c"}
	}
	return []string{"id", "p", "a", "b", "c"}
}

// col is the position of a column (-1 for p in an unpartitioned table).
func (k tableKind) col(name string) int { return slices.Index(k.columns(), name) }

// createArgs are the strata create arguments (after the table name).
func (k tableKind) createArgs() []string {
	schema, pk := "id INT NOT NULL, a BIGINT, b STRING, c BIGINT", "id"
	args := []string{}
	if k.PartType != "" {
		schema = "id INT NOT NULL, p " + k.PartType + ", a BIGINT, b STRING, c BIGINT"
		args = append(args, "--partition", "p")
		if !k.Cross {
			pk = "id,p"
		}
	}
	args = append(args, "--schema", schema, "--primary-key", pk)
	opt := func(kv ...string) {
		for _, o := range kv {
			args = append(args, "-o", o)
		}
	}
	opt(fmt.Sprintf("bucket=%d", k.Buckets), "merge-engine="+k.Engine, fmt.Sprintf("num-sorted-run.compaction-trigger=%d", k.Trigger))
	if k.Buckets == -1 {
		opt(fmt.Sprintf("dynamic-bucket.target-row-num=%d", k.TargetRows))
	}
	if k.DV {
		opt("deletion-vectors.enabled=true")
	}
	if k.Lookup {
		opt("changelog-producer=lookup")
	}
	if k.Engine == "aggregation" {
		opt("fields.a.aggregate-function=sum", "fields.b.aggregate-function=last_non_null_value", "fields.c.aggregate-function=max")
	}
	switch {
	case k.DelMode == delIgnore:
		opt("ignore-delete=true")
	case k.DelMode == delRemove && k.Engine == "partial-update":
		opt("partial-update.remove-record-on-delete=true")
	case k.DelMode == delRemove:
		opt("aggregation.remove-record-on-delete=true")
	case k.DelMode == delRetrct:
		opt("fields.b.ignore-retract=true", "fields.c.ignore-retract=true")
		if k.Cross {
			opt("fields.p.ignore-retract=true")
		}
	}
	return args
}

// mrow is a row in table column order; ids and INT/BIGINT values are
// int64, strings string, nulls nil.
type mrow []any

// mrec is one input row with its kind (+I, +U, -U, -D).
type mrec struct {
	Kind string
	Row  mrow
}

func isRetract(kind string) bool { return kind == "-U" || kind == "-D" }

// jsonLine renders a record as a strata write JSONL line.
func (k tableKind) jsonLine(r mrec) ([]byte, error) {
	obj := map[string]any{"_kind": r.Kind}
	for i, c := range k.columns() {
		obj[c] = r.Row[i]
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %v: %w", r, err)
	}
	return append(b, '\n'), nil
}

// partValue draws a partition value (nil for an unpartitioned table).
func (k tableKind) partValue(rng *rand.Rand) any {
	i := rng.IntN(3)
	switch k.PartType {
	case "STRING":
		return []string{"x", "y", "z"}[i]
	case "INT":
		return int64(i + 1)
	}
	return nil
}

// drawID draws a shared key (overlapping rounds) or one of writer w's.
func (k tableKind) drawID(rng *rand.Rand, w int) int64 {
	id := rng.Int64N(int64(k.KeySpace))
	if !k.Overlap {
		id += int64(w * k.KeySpace)
	}
	return id
}

// newRow builds a row; p is ignored when the table is unpartitioned.
func (k tableKind) newRow(id int64, p, a, b, c any) mrow {
	if k.PartType == "" {
		return mrow{id, a, b, c}
	}
	return mrow{id, p, a, b, c}
}

// nullable returns v, or nil one time in n.
func nullable(rng *rand.Rand, n int, v any) any {
	if rng.IntN(n) == 0 {
		return nil
	}
	return v
}

// addRec draws an insert or update; b tags the writer and row ("w3.17").
func (k tableKind) addRec(rng *rand.Rand, w, i int, id int64, p any) mrec {
	nulls := 8
	if k.Engine == "partial-update" {
		nulls = 3
	}
	kind := "+I"
	if k.Engine != "first-row" && rng.IntN(8) == 0 {
		kind = "+U"
	}
	return mrec{kind, k.newRow(id, p, nullable(rng, nulls, rng.Int64N(41)-20),
		nullable(rng, nulls, fmt.Sprintf("w%d.%d", w, i)), nullable(rng, nulls, rng.Int64N(100)))}
}

// sendsDeletes reports whether writers send -D rows for random keys.
func (k tableKind) sendsDeletes() bool {
	return k.DelMode == delPlain || k.DelMode == delIgnore || k.DelMode == delRemove
}

// genInput draws writer w's input: its private key first, then adds and,
// as the kind allows, deletes (null values) or retractions of rows it
// added before (so no key's first record in a commit is a retraction).
func (k tableKind) genInput(seed int64, w int) []mrec {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(w)+1))
	n := 20 + rng.IntN(181)
	recs := []mrec{k.addRec(rng, w, 0, int64(privateIDBase+w), k.partValue(rng))}
	var added []mrow
	for i := 1; i < n; i++ {
		id, p := k.drawID(rng, w), k.partValue(rng)
		switch {
		case k.DelMode == delRetrct && len(added) > 0 && rng.IntN(5) == 0:
			row := slices.Clone(added[rng.IntN(len(added))])
			row[k.col("a")], row[k.col("b")], row[k.col("c")] = rng.Int64N(10), fmt.Sprintf("w%d.%d", w, i), rng.Int64N(100)
			kind := "-U"
			if !k.Cross && rng.IntN(2) == 0 {
				kind = "-D" // a -D would leave the cross-partition index
			}
			recs = append(recs, mrec{kind, row})
		case k.sendsDeletes() && rng.IntN(6) == 0:
			recs = append(recs, mrec{"-D", k.newRow(id, p, nil, nil, nil)})
		default:
			r := k.addRec(rng, w, i, id, p)
			added = append(added, r.Row)
			recs = append(recs, r)
		}
	}
	return recs
}

// mkey locates a row: its partition value (as printed, "" without
// partitions) and id. It is the LSM key of every kind of table; a
// cross-partition table must in addition hold each id in one partition.
type mkey struct {
	P  string
	ID int64
}

func (k mkey) String() string {
	if k.P == "" {
		return fmt.Sprintf("id=%d", k.ID)
	}
	return fmt.Sprintf("p=%s id=%d", k.P, k.ID)
}

// keyOf is the location key of a row.
func (k tableKind) keyOf(r mrow) mkey {
	key := mkey{ID: r[0].(int64)}
	if k.PartType != "" {
		key.P = fmt.Sprint(r[1])
	}
	return key
}

// model is the table as the committed writes, applied one commit at a time
// in snapshot order, must leave it: each commit's records are routed
// (cross-partition), folded per key by the merge engine (what a writer's
// flush does), and the folded record merged into the key's state.
type model struct {
	k     tableKind
	state map[mkey]mrow
}

func newModel(k tableKind) *model { return &model{k: k, state: map[mkey]mrow{}} }

// apply commits one write.
func (m *model) apply(recs []mrec) {
	groups := map[mkey][]mrec{}
	var order []mkey
	for _, r := range m.route(recs) {
		key := m.k.keyOf(r.Row)
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], r)
	}
	for _, key := range order {
		folded, ok := m.merge(groups[key])
		if !ok {
			continue
		}
		res := folded
		if old, exists := m.state[key]; exists {
			res, ok = m.merge([]mrec{{"+I", old}, folded})
		}
		if !ok || isRetract(res.Kind) {
			delete(m.state, key)
		} else {
			m.state[key] = res.Row
		}
	}
}

// route places records as the cross-partition index does (Paimon's
// GlobalIndexAssigner): a retraction goes to the key's partition or is
// dropped, and the key keeps its place (a writer's index starts from the
// table's live keys); an add of a known key in another partition
// moves it (deduplicate: -D in the old partition), is rewritten into the
// old partition (partial-update, aggregation) or dropped (first-row).
// Other tables keep records as they are.
func (m *model) route(recs []mrec) []mrec {
	if !m.k.Cross {
		return recs
	}
	where := map[int64]any{}
	for key, row := range m.state {
		where[key.ID] = row[1]
	}
	var out []mrec
	for _, r := range recs {
		id, p := r.Row[0].(int64), r.Row[1]
		old, exists := where[id]
		moved := slices.Clone(r.Row)
		moved[1] = old
		switch {
		case isRetract(r.Kind) && !exists:
		case isRetract(r.Kind):
			out = append(out, mrec{r.Kind, moved})
		case !exists || old == p:
			where[id] = p
			out = append(out, r)
		case m.k.Engine == "deduplicate":
			out = append(out, mrec{"-D", moved}, r)
			where[id] = p
		case m.k.Engine == "first-row":
		default:
			out = append(out, mrec{r.Kind, moved})
		}
	}
	return out
}

// merge folds one key's records, oldest first, as the engine's merge
// function behind Paimon's ReducerMergeFunctionWrapper does (a single
// record passes unchanged). ok is false when nothing results.
func (m *model) merge(recs []mrec) (mrec, bool) {
	if len(recs) == 1 {
		return recs[0], true
	}
	switch m.k.Engine {
	case "deduplicate":
		return recs[len(recs)-1], true
	case "first-row":
		for _, r := range recs {
			if !isRetract(r.Kind) {
				return r, true
			}
		}
		return mrec{}, false
	case "partial-update":
		return m.partialUpdate(recs), true
	}
	return m.aggregate(recs), true
}

// partialUpdate is PartialUpdateMergeFunction without sequence groups:
// non-null fields overwrite; a first retraction seeds the row; -D with
// remove-record-on-delete replaces the row and deletes it.
func (m *model) partialUpdate(recs []mrec) mrec {
	row := make(mrow, len(m.k.columns()))
	filled, meetInsert, deleteRow := false, false, false
	for _, r := range recs {
		deleteRow = false
		if isRetract(r.Kind) {
			if !filled {
				row, filled = slices.Clone(r.Row), true
			}
			if m.k.DelMode == delRemove && r.Kind == "-D" {
				deleteRow, row = true, slices.Clone(r.Row)
			}
			continue // ignore-delete; the generator sends no other retraction
		}
		for i, v := range r.Row {
			if v != nil {
				row[i] = v
			}
		}
		meetInsert, filled = true, true
	}
	if deleteRow || !meetInsert {
		return mrec{"-D", row}
	}
	return mrec{"+I", row}
}

// aggregate is AggregateMergeFunction with this test's columns: id (and p
// unless cross-partition) primary key, a sum, b last_non_null_value, c max,
// p last_non_null_value; retractions change only the sum (ignore-retract
// elsewhere), and a -D with remove-record-on-delete replaces the row.
func (m *model) aggregate(recs []mrec) mrec {
	cols := m.k.columns()
	row := make(mrow, len(cols))
	deleteRow := false
	for _, r := range recs {
		deleteRow = m.k.DelMode == delRemove && r.Kind == "-D"
		if deleteRow {
			row = slices.Clone(r.Row)
			continue
		}
		for i, c := range cols {
			acc, in := row[i], r.Row[i]
			switch {
			case c == "id" || (c == "p" && !m.k.Cross):
				row[i] = in
			case c == "a" && isRetract(r.Kind):
				row[i] = sumRetract(acc, in)
			case isRetract(r.Kind):
			case c == "a":
				row[i] = nonNull(acc, in, func(x, y int64) int64 { return x + y })
			case c == "c":
				row[i] = nonNull(acc, in, func(x, y int64) int64 { return max(x, y) })
			case in != nil: // b, and p of a cross-partition table
				row[i] = in
			}
		}
	}
	if deleteRow {
		return mrec{"-D", row}
	}
	return mrec{"+I", row}
}

// nonNull applies f unless an argument is null, which yields the other.
func nonNull(acc, in any, f func(x, y int64) int64) any {
	switch {
	case acc == nil:
		return in
	case in == nil:
		return acc
	}
	return f(acc.(int64), in.(int64))
}

// sumRetract is the sum aggregator's retract.
func sumRetract(acc, in any) any {
	switch {
	case in == nil:
		return acc
	case acc == nil:
		return -in.(int64)
	}
	return acc.(int64) - in.(int64)
}
