package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// StatsMode is a column's metadata.stats-mode: none, counts, truncate(N) or
// full.
type StatsMode struct {
	Kind     StatsKind
	Truncate int // for StatsTruncate
}

// StatsKind is the family of a StatsMode.
type StatsKind uint8

// The stats modes Paimon knows.
const (
	StatsNone StatsKind = iota
	StatsCounts
	StatsTruncate
	StatsFull
)

// DefaultStatsMode is Paimon's default, truncate(16).
var DefaultStatsMode = StatsMode{Kind: StatsTruncate, Truncate: 16}

// ParseStatsMode parses a metadata.stats-mode value (case-insensitive).
func ParseStatsMode(s string) (StatsMode, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "NONE":
		return StatsMode{Kind: StatsNone}, nil
	case "COUNTS":
		return StatsMode{Kind: StatsCounts}, nil
	case "FULL":
		return StatsMode{Kind: StatsFull}, nil
	}
	if strings.HasPrefix(u, "TRUNCATE(") && strings.HasSuffix(u, ")") {
		n, err := strconv.Atoi(u[len("TRUNCATE(") : len(u)-1])
		if err == nil && n > 0 {
			return StatsMode{Kind: StatsTruncate, Truncate: n}, nil
		}
	}
	return StatsMode{}, fmt.Errorf("invalid stats mode %q (want none, counts, truncate(N) or full)", s)
}

// hasMinMax reports whether Paimon keeps min/max for values of type t: only
// for types whose Java values are Comparable (or byte[]).
func hasMinMax(t DataType) bool {
	switch t.Root {
	case TypeArray, TypeMap, TypeMultiset, TypeRow, TypeVector:
		return false
	}
	return true
}

// ColumnStatsMode returns the mode Paimon applies to a value column of type t
// under the table-wide mode: VECTOR columns get none (Java-written files list
// only the other columns in _VALUE_STATS_COLS).
func ColumnStatsMode(t DataType, tableMode StatsMode) StatsMode {
	if t.Root == TypeVector {
		return StatsMode{Kind: StatsNone}
	}
	return tableMode
}

// KeyStatsMode is the mode Paimon applies to _KEY_ and system columns.
var KeyStatsMode = StatsMode{Kind: StatsTruncate, Truncate: 128}

// StatsCollector gathers SimpleStats over the rows of one file, the way
// Paimon's SimpleColStatsCollector does: min and max by value order, with
// strings and binaries truncated (max rounded up) under truncate(N).
type StatsCollector struct {
	types  []DataType
	modes  []StatsMode
	min    []any
	max    []any
	nulls  []int64
	failed []bool
}

// NewStatsCollector collects stats for columns of the given types; modes has
// one entry per column.
func NewStatsCollector(types []DataType, modes []StatsMode) *StatsCollector {
	n := len(types)
	return &StatsCollector{types: types, modes: modes, min: make([]any, n), max: make([]any, n),
		nulls: make([]int64, n), failed: make([]bool, n)}
}

// Add folds one row of values (in column order) into the stats.
func (c *StatsCollector) Add(row Row) {
	for i, v := range row {
		c.AddValue(i, v)
	}
}

// AddValue folds one value of column i into the stats.
func (c *StatsCollector) AddValue(i int, v any) {
	m := c.modes[i]
	if m.Kind == StatsNone {
		return
	}
	if v == nil {
		c.nulls[i]++
		return
	}
	if m.Kind == StatsCounts || c.failed[i] || !hasMinMax(c.types[i]) {
		return
	}
	if c.min[i] == nil || CompareValues(v, c.min[i]) < 0 {
		c.min[i] = copyStat(truncateMin(v, m))
	}
	if c.max[i] == nil || CompareValues(v, c.max[i]) > 0 {
		mx, ok := truncateMax(v, m)
		if !ok {
			c.failed[i] = true
			return
		}
		c.max[i] = copyStat(mx)
	}
}

// AddNulls counts n nulls in column i.
func (c *StatsCollector) AddNulls(i int, n int64) {
	if c.modes[i].Kind != StatsNone {
		c.nulls[i] += n
	}
}

// WantsMinMax reports whether AddValue would still track column i's min and
// max: a columnar caller can skip finding candidates otherwise.
func (c *StatsCollector) WantsMinMax(i int) bool {
	k := c.modes[i].Kind
	return k != StatsNone && k != StatsCounts && !c.failed[i] && hasMinMax(c.types[i])
}

func copyStat(v any) any {
	if b, ok := v.([]byte); ok {
		return append([]byte(nil), b...)
	}
	return v
}

func truncateMin(v any, m StatsMode) any {
	if m.Kind != StatsTruncate {
		return v
	}
	switch x := v.(type) {
	case string:
		return truncateRunes(x, m.Truncate)
	case []byte:
		if len(x) > m.Truncate {
			return x[:m.Truncate]
		}
	}
	return v
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// truncateMax returns a value ≥ v no longer than the limit, or false when no
// such bound exists (every position already at its maximum).
func truncateMax(v any, m StatsMode) (any, bool) {
	if m.Kind != StatsTruncate {
		return v, true
	}
	switch x := v.(type) {
	case string:
		t := truncateRunes(x, m.Truncate)
		if len(t) == len(x) {
			return v, true
		}
		runes := []rune(t)
		for i := len(runes) - 1; i >= 0; i-- {
			next := runes[i] + 1
			if next <= utf8.MaxRune {
				return string(append(runes[:i:i], next)), true
			}
		}
		return nil, false
	case []byte:
		if len(x) <= m.Truncate {
			return v, true
		}
		t := append([]byte(nil), x[:m.Truncate]...)
		for i := len(t) - 1; i >= 0; i-- {
			if t[i] != 0xff {
				t[i]++
				return t[:i+1], true
			}
		}
		return nil, false
	}
	return v, true
}

// Result returns the stats in Paimon's dense form: columns whose mode is none
// are left out, and cols lists the names of the kept columns, or is nil when
// every column is kept (Paimon's _VALUE_STATS_COLS = null).
func (c *StatsCollector) Result(names []string) (SimpleStats, *[]string, error) {
	var types []DataType
	var mins, maxs Row
	var nulls []*int64
	var kept []string
	for i, t := range c.types {
		if c.modes[i].Kind == StatsNone {
			continue
		}
		types = append(types, t.WithNullable(true))
		mn, mx := c.min[i], c.max[i]
		if c.failed[i] {
			mn, mx = nil, nil
		}
		mins = append(mins, mn)
		maxs = append(maxs, mx)
		n := c.nulls[i]
		nulls = append(nulls, &n)
		kept = append(kept, names[i])
	}
	minB, err := EncodeBinaryRow(types, mins, RowKindInsert)
	if err != nil {
		return SimpleStats{}, nil, err
	}
	maxB, err := EncodeBinaryRow(types, maxs, RowKindInsert)
	if err != nil {
		return SimpleStats{}, nil, err
	}
	st := SimpleStats{
		MinValues:  SerializeBinaryRow(len(types), minB),
		MaxValues:  SerializeBinaryRow(len(types), maxB),
		NullCounts: nulls,
	}
	if st.NullCounts == nil {
		st.NullCounts = []*int64{}
	}
	if len(kept) == len(c.types) {
		return st, nil, nil
	}
	if kept == nil {
		kept = []string{}
	}
	return st, &kept, nil
}

// Reset clears the collector for the next file.
func (c *StatsCollector) Reset() {
	for i := range c.types {
		c.min[i], c.max[i], c.nulls[i], c.failed[i] = nil, nil, 0, false
	}
}
