package integration

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
)

// This file holds what the Java matrix (java_matrix_test.go) writes and
// predicts: random changes for a cell's table, drawn so that the merged
// result does not depend on how flushes and compactions grouped them, and
// a model applying them with the merge engine's semantics.

// change is one record written: a row and its kind.
type change struct {
	kind spec.RowKind
	row  spec.Row
}

// jmodel is the expected content of a table: one row per primary key
// (the merge engine's result), or every row of an append table.
type jmodel struct {
	c      *javaCell
	fields []spec.DataField
	pk     []int
	rows   map[string]spec.Row
	order  []string // keys in first-seen order, for drawing existing keys
	append []spec.Row
	aggs   []string // aggregation: the function of each column ("" for primary-key columns)
	groups []seqGroup
	inGrp  []int // partial-update: the group of each column, -1 for none
	// seqField is the sequence.field column (deduplicate), or -1.
	seqField int
}

// seqGroup is a partial-update sequence group: ordering columns and the
// columns they protect.
type seqGroup struct {
	seq, members []int
}

func newJModel(c *javaCell, schema *spec.TableSchema) (*jmodel, error) {
	m := &jmodel{c: c, fields: schema.Fields, rows: map[string]spec.Row{}, seqField: -1}
	idx := func(name string) (int, error) {
		i := slices.IndexFunc(m.fields, func(f spec.DataField) bool { return f.Name == name })
		if i < 0 {
			return 0, fmt.Errorf("cell %s: no column %q", c.Name, name)
		}
		return i, nil
	}
	for _, k := range schema.PrimaryKeys {
		i, err := idx(k)
		if err != nil {
			return nil, err
		}
		m.pk = append(m.pk, i)
	}
	if sf := c.Options["sequence.field"]; sf != "" {
		if c.engine() != "deduplicate" {
			return nil, fmt.Errorf("cell %s: the model follows sequence.field for deduplicate only", c.Name)
		}
		i, err := idx(sf)
		if err != nil {
			return nil, err
		}
		m.seqField = i
	}
	switch c.engine() {
	case "aggregation":
		m.aggs = make([]string, len(m.fields))
		for i, f := range m.fields {
			if slices.Contains(m.pk, i) {
				continue
			}
			fn := c.Options["fields."+f.Name+".aggregate-function"]
			if fn == "" {
				fn = "last_non_null_value"
			}
			if c.Options["fields."+f.Name+".ignore-retract"] == "true" {
				fn += "/ignore-retract"
			}
			m.aggs[i] = fn
		}
	case "partial-update":
		m.aggs = make([]string, len(m.fields))
		m.inGrp = make([]int, len(m.fields))
		for i := range m.inGrp {
			m.inGrp[i] = -1
		}
		for i, f := range m.fields {
			m.aggs[i] = c.Options["fields."+f.Name+".aggregate-function"]
		}
		for _, k := range slices.Sorted(mapKeys(c.Options)) {
			seqs, ok := strings.CutSuffix(k, ".sequence-group")
			seqs, ok2 := strings.CutPrefix(seqs, "fields.")
			if !ok || !ok2 {
				continue
			}
			var g seqGroup
			for _, s := range strings.Split(seqs, ",") {
				i, err := idx(s)
				if err != nil {
					return nil, err
				}
				g.seq = append(g.seq, i)
				m.inGrp[i] = len(m.groups)
			}
			for _, s := range strings.Split(c.Options[k], ",") {
				i, err := idx(s)
				if err != nil {
					return nil, err
				}
				g.members = append(g.members, i)
				m.inGrp[i] = len(m.groups)
			}
			m.groups = append(m.groups, g)
		}
	}
	return m, nil
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (m *jmodel) key(row spec.Row) string {
	var b strings.Builder
	for _, i := range m.pk {
		fmt.Fprintf(&b, "%#v|", row[i])
	}
	return b.String()
}

// apply applies one change as the merge engine would.
func (m *jmodel) apply(ch change) {
	if len(m.pk) == 0 {
		m.append = append(m.append, ch.row)
		return
	}
	k := m.key(ch.row)
	old, exists := m.rows[k]
	if !exists && !slices.Contains(m.order, k) {
		m.order = append(m.order, k)
	}
	switch m.c.engine() {
	case "deduplicate":
		if sq := m.seqField; sq >= 0 && exists && spec.CompareValues(ch.row[sq], old[sq]) < 0 {
			return // an older sequence.field value loses (nulls are oldest)
		}
		if ch.kind.IsRetract() {
			delete(m.rows, k)
		} else {
			m.rows[k] = ch.row
		}
	case "first-row":
		if !exists && !ch.kind.IsRetract() {
			m.rows[k] = ch.row
		}
	case "aggregation":
		acc := old
		if !exists {
			acc = make(spec.Row, len(m.fields))
		} else {
			acc = slices.Clone(old)
		}
		for i := range m.fields {
			if m.aggs[i] == "" {
				acc[i] = ch.row[i]
			} else if ch.kind.IsRetract() {
				acc[i] = retractAgg(m.aggs[i], acc[i], ch.row[i])
			} else {
				acc[i] = agg(m.aggs[i], acc[i], ch.row[i])
			}
		}
		m.rows[k] = acc
	case "partial-update":
		if ch.kind.IsRetract() {
			panic("the matrix sends no retractions to partial-update")
		}
		row := old
		if !exists {
			row = make(spec.Row, len(m.fields))
		} else {
			row = slices.Clone(old)
		}
		m.rows[k] = m.partialUpdate(row, ch.row)
	}
}

// partialUpdate merges in into row as PartialUpdateMergeFunction does for
// an added record: columns in index order, each sequence group updated
// as a unit when its ordering columns are not older.
func (m *jmodel) partialUpdate(row, in spec.Row) spec.Row {
	handled := make([]bool, len(m.fields))
	for i := range m.fields {
		if slices.Contains(m.pk, i) {
			row[i] = in[i]
			continue
		}
		g := m.inGrp[i]
		if g < 0 {
			if m.aggs[i] != "" {
				row[i] = agg(m.aggs[i], row[i], in[i])
			} else if in[i] != nil {
				row[i] = in[i]
			}
			continue
		}
		if handled[i] {
			continue
		}
		grp := m.groups[g]
		allNull := true
		for _, s := range grp.seq {
			allNull = allNull && in[s] == nil
		}
		if allNull {
			for _, s := range grp.seq {
				handled[s] = true
			}
			continue
		}
		c := 0
		for _, s := range grp.seq {
			if c = spec.CompareValues(in[s], row[s]); c != 0 {
				break
			}
		}
		isSeq := slices.Contains(grp.seq, i)
		switch {
		case c >= 0 && isSeq:
			for _, s := range grp.seq {
				row[s] = in[s]
				handled[s] = true
			}
		case c >= 0 && m.aggs[i] != "":
			row[i] = agg(m.aggs[i], row[i], in[i])
		case c >= 0:
			row[i] = in[i]
		case m.aggs[i] != "" && !isSeq:
			row[i] = agg(m.aggs[i], in[i], row[i])
		}
	}
	return row
}

// agg is a field aggregator's agg(acc, in) for the functions the matrix
// uses (Paimon's FieldAggregator semantics).
func agg(fn string, acc, in any) any {
	fn, _, _ = strings.Cut(fn, "/")
	switch fn {
	case "last_value":
		return in
	case "last_non_null_value":
		if in != nil {
			return in
		}
		return acc
	case "first_non_null_value":
		if acc != nil {
			return acc
		}
		return in
	}
	if acc == nil {
		return in
	}
	if in == nil {
		return acc
	}
	switch fn {
	case "sum":
		return addValues(acc, in, 1)
	case "max":
		if spec.CompareValues(in, acc) > 0 {
			return in
		}
		return acc
	case "min":
		if spec.CompareValues(in, acc) <= 0 {
			return in
		}
		return acc
	case "bool_or":
		return acc.(bool) || in.(bool)
	case "bool_and":
		return acc.(bool) && in.(bool)
	case "listagg":
		if strings.TrimSpace(in.(string)) == "" {
			return acc
		}
		if strings.TrimSpace(acc.(string)) == "" {
			return in
		}
		return acc.(string) + "," + in.(string)
	}
	panic("the model has no aggregator " + fn)
}

// retractAgg is a field aggregator's retract(acc, in).
func retractAgg(fn string, acc, in any) any {
	fn, opt, _ := strings.Cut(fn, "/")
	if opt == "ignore-retract" {
		return acc
	}
	switch fn {
	case "last_value":
		return nil
	case "last_non_null_value":
		if in != nil {
			return nil
		}
		return acc
	case "sum":
		switch {
		case in == nil:
			return acc
		case acc == nil:
			return addValues(zeroOf(in), in, -1)
		}
		return addValues(acc, in, -1)
	}
	panic("the model cannot retract " + fn)
}

func zeroOf(v any) any {
	switch x := v.(type) {
	case int32:
		return int32(0)
	case int64:
		return int64(0)
	case spec.Decimal:
		return spec.NewDecimal(0, x.Scale)
	}
	panic(fmt.Sprintf("no zero for %T", v))
}

// addValues returns a + sign×b for integers and decimals of one scale.
func addValues(a, b any, sign int64) any {
	switch x := a.(type) {
	case int32:
		return x + int32(sign)*b.(int32)
	case int64:
		return x + sign*b.(int64)
	case spec.Decimal:
		y := b.(spec.Decimal)
		d := new(big.Int).Mul(y.Unscaled, big.NewInt(sign))
		return spec.Decimal{Unscaled: d.Add(d, x.Unscaled), Scale: x.Scale}
	}
	panic(fmt.Sprintf("cannot add %T", a))
}

// lines is the model's content as Strata's JSON Lines, sorted.
func (m *jmodel) lines() ([]string, error) {
	rows := m.append
	if len(m.pk) > 0 {
		rows = nil
		for _, r := range m.rows {
			rows = append(rows, r)
		}
	}
	return encodeLines(m.fields, rows)
}

// encodeLines renders rows as Strata's JSON Lines, sorted.
func encodeLines(fields []spec.DataField, rows []spec.Row) ([]string, error) {
	enc := textrow.NewJSONEncoder(nil, fields)
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		b, err := enc.AppendRow(nil, r)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out, nil
}

// draw draws one batch of changes for the model's current state.
func (m *jmodel) draw(rng *rand.Rand, n int) []change {
	var out []change
	for len(out) < n {
		out = append(out, m.drawOne(rng)...)
	}
	return out
}

// existing returns the row of a random key the model holds, or nil.
func (m *jmodel) existing(rng *rand.Rand) spec.Row {
	if len(m.rows) == 0 {
		return nil
	}
	for {
		if r, ok := m.rows[m.order[rng.IntN(len(m.order))]]; ok {
			return r
		}
	}
}

func (m *jmodel) drawOne(rng *rand.Rand) []change {
	fresh := m.freshRow(rng)
	r := rng.IntN(100)
	switch m.c.engine() {
	case "":
		return []change{{spec.RowKindInsert, fresh}}
	case "deduplicate":
		old := m.existing(rng)
		if m.seqField >= 0 {
			break // adds only (see the dedup-sequence-field cell)
		}
		switch {
		case r < 15 && old != nil:
			return []change{{spec.RowKindDelete, m.keyOnly(old)}}
		case r < 25 && old != nil:
			next := slices.Clone(fresh)
			m.copyKey(next, old)
			return []change{{spec.RowKindUpdateBefore, old}, {spec.RowKindUpdateAfter, next}}
		case r < 35:
			return []change{{spec.RowKindUpdateAfter, fresh}}
		}
	case "aggregation":
		old := m.existing(rng)
		if r < 25 && old != nil {
			// A retraction of a key the table holds, so the result never
			// depends on a lone retraction meeting nothing (which Paimon's
			// readers drop). last_non_null_value columns retract null:
			// retracting a value makes a merge's result depend on how the
			// records were grouped.
			ret := slices.Clone(fresh)
			m.copyKey(ret, old)
			for i, fn := range m.aggs {
				if strings.HasPrefix(fn, "last_non_null_value") {
					ret[i] = nil
				}
			}
			kind := spec.RowKindUpdateBefore
			if r < 10 {
				kind = spec.RowKindDelete
			}
			return []change{{kind, ret}}
		}
	}
	return []change{{spec.RowKindInsert, fresh}}
}

func (m *jmodel) keyOnly(row spec.Row) spec.Row {
	out := make(spec.Row, len(row))
	m.copyKey(out, row)
	for i, f := range m.fields {
		if out[i] == nil && !f.Type.Nullable {
			out[i] = row[i] // a NOT NULL column keeps its value
		}
	}
	return out
}

func (m *jmodel) copyKey(dst, src spec.Row) {
	for _, i := range m.pk {
		dst[i] = src[i]
	}
}

// freshRow draws a row: the id from the cell's key space, partition
// columns from the cell's values, other columns by type (a partial-update
// group's columns null together with its ordering columns).
func (m *jmodel) freshRow(rng *rand.Rand) spec.Row {
	row := make(spec.Row, len(m.fields))
	for i, f := range m.fields {
		if vals, ok := m.c.Values[f.Name]; ok {
			row[i] = vals[rng.IntN(len(vals))]
			continue
		}
		if f.Name == "id" {
			row[i] = int32(rng.IntN(m.c.keys()))
			continue
		}
		row[i] = genValue(rng, &f.Type, m.c.small())
	}
	for _, g := range m.groups {
		if row[g.seq[0]] == nil {
			for _, i := range append(slices.Clone(g.seq), g.members...) {
				row[i] = nil
			}
		}
	}
	return row
}
