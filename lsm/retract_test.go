package lsm

import (
	"errors"
	"testing"

	"github.com/stratalake/strata/spec"
)

// The writer's rule and the merge functions cannot diverge: for every
// aggregate function, the rule refuses a -U exactly when the aggregation
// engine fails on it (with and without ignore-retract).
func TestRetractRuleMatchesAggregators(t *testing.T) {
	cases := []struct {
		fn, typ string
		v       any
	}{
		{"sum", "INT", int32(1)}, {"product", "INT", int32(1)}, {"max", "INT", int32(1)}, {"min", "INT", int32(1)},
		{"last_value", "INT", int32(1)}, {"last_non_null_value", "INT", int32(1)},
		{"first_value", "INT", int32(1)}, {"first_non_null_value", "INT", int32(1)}, {"first_not_null_value", "INT", int32(1)},
		{"listagg", "STRING", "a"}, {"bool_and", "BOOLEAN", true}, {"bool_or", "BOOLEAN", true},
		{"collect", "ARRAY<INT>", []any{int32(1)}}, {"merge_map", "MAP<INT, INT>", spec.Map{Keys: []any{int32(1)}, Values: []any{int32(1)}}},
	}
	for _, tc := range cases {
		for _, ignore := range []string{"false", "true"} {
			typ, err := spec.ParseType(tc.typ)
			if err != nil {
				t.Fatal(err)
			}
			schema := &spec.TableSchema{
				Fields:      []spec.DataField{{ID: 0, Name: "k", Type: spec.IntType.NotNull()}, {ID: 1, Name: "v", Type: typ}},
				PrimaryKeys: []string{"k"},
			}
			opts, err := spec.ParseOptions(map[string]string{"merge-engine": "aggregation",
				"fields.v.aggregate-function": tc.fn, "fields.v.ignore-retract": ignore})
			if err != nil {
				t.Fatal(err)
			}
			rule, err := NewRetractRule(schema, opts)
			if err != nil {
				t.Fatalf("%s: %v", tc.fn, err)
			}
			f, _ := NewMergeFunctionFactory(schema, opts)
			row := spec.Row{int32(1), tc.v}
			mf := f.Create()
			mf.Reset()
			mergeErr := mf.Add(&KeyValue{Key: spec.Row{int32(1)}, Kind: spec.RowKindInsert, Value: row})
			if mergeErr == nil {
				mergeErr = mf.Add(&KeyValue{Key: spec.Row{int32(1)}, Seq: 1, Kind: spec.RowKindUpdateBefore, Value: row})
			}
			if mergeErr != nil && !errors.Is(mergeErr, ErrRetractUnsupported) {
				t.Fatalf("%s: %v", tc.fn, mergeErr)
			}
			v, admitErr := rule.Admit(spec.RowKindUpdateBefore, row)
			merges := !errors.Is(mergeErr, ErrRetractUnsupported)
			if (v == VerdictAccept) != merges || (v == VerdictReject) != errors.Is(admitErr, ErrRetractUnsupported) {
				t.Errorf("%s ignore-retract=%s: Admit %v (%v), merge error %v", tc.fn, ignore, v, admitErr, mergeErr)
			}
		}
	}
}
