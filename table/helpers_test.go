package table

import (
	"context"
	"testing"

	"github.com/stratalake/strata/spec"
)

// change is one row write of a test.
type change struct {
	kind spec.RowKind
	row  spec.Row
}

func upserts(from, to int64, f func(id int64) spec.Row) []change {
	var out []change
	for id := from; id <= to; id++ {
		out = append(out, change{spec.RowKindInsert, f(id)})
	}
	return out
}

// writeAll writes changes through a fresh writer and returns its messages.
func writeAll(t *testing.T, tb *Table, cs []change, compact bool) []CommitMessage {
	t.Helper()
	ctx := context.Background()
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	for _, c := range cs {
		if err := w.WriteRow(ctx, c.kind, c.row); err != nil {
			t.Fatal(err)
		}
	}
	if compact {
		if err := w.Compact(ctx, true, nil); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func deletes(from, to int64) []change {
	var out []change
	for id := from; id <= to; id++ {
		out = append(out, change{spec.RowKindDelete, spec.Row{id, nil, nil}})
	}
	return out
}

func rowsOf(cs []change) []spec.Row {
	var out []spec.Row
	for _, c := range cs {
		out = append(out, c.row)
	}
	return out
}
