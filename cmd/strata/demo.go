package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

func newDemoCmd(e *env) *cobra.Command {
	var accounts int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Create a demo table, write several commits of upserts and deletes, scan it",
		Long: `Run an end-to-end demo on the warehouse: (re)create strata_demo.accounts, write
generated account rows over several commits (inserts, balance updates,
deletes), then scan the latest and an older snapshot and check the results
against an in-memory model.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), e, accounts)
		},
	}
	cmd.Flags().IntVar(&accounts, "accounts", 10000, "number of accounts to generate")
	return cmd
}

func runDemo(ctx context.Context, e *env, n int) error {
	if n <= 0 {
		return usagef("--accounts must be positive")
	}
	out := e.stdout
	c, err := e.catalog(ctx)
	if err != nil {
		return err
	}
	id := catalog.Identifier{Database: "strata_demo", Table: "accounts"}
	if err := c.DropTable(ctx, id); err == nil {
		fmt.Fprintf(out, "dropped the previous %s\n", id)
	} else if !errors.Is(err, spec.ErrNotFound) {
		return err
	}
	fields, err := spec.ParseColumns("id BIGINT NOT NULL, owner STRING, balance DECIMAL(12, 2), risk_score DOUBLE, updated_at TIMESTAMP(3)")
	if err != nil {
		return err
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "4"), nil)
	if err != nil {
		return err
	}
	t, err := c.CreateTable(ctx, id, sc)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created %s at %s/%s (primary key id, 4 buckets)\n", id, c.Storage(), t.Path())

	rng := rand.New(rand.NewPCG(42, 7))
	model := map[int64]spec.Row{}
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	account := func(i int64) spec.Row {
		now = now.Add(time.Second)
		return spec.Row{i, fmt.Sprintf("owner-%05d", i), spec.NewDecimal(rng.Int64N(10_000_000), 2),
			float64(rng.IntN(1000)) / 1000, spec.TimestampFromTime(now)}
	}
	type change struct {
		kind spec.RowKind
		row  spec.Row
	}
	commit := func(label string, changes []change) (int64, error) {
		start := time.Now()
		w, err := t.NewWrite(ctx)
		if err != nil {
			return 0, err
		}
		for _, ch := range changes {
			if err := w.WriteRow(ctx, ch.kind, ch.row); err != nil {
				return 0, err
			}
			if ch.kind == spec.RowKindDelete {
				delete(model, ch.row[0].(int64))
			} else {
				model[ch.row[0].(int64)] = ch.row
			}
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			return 0, err
		}
		snap, err := t.NewCommit("strata-demo").Commit(ctx, table.BatchCommitIdentifier, msgs)
		if err != nil {
			return 0, err
		}
		files := 0
		for _, m := range msgs {
			files += len(m.NewFiles)
		}
		fmt.Fprintf(out, "snapshot %d: %-34s %6d changes, %d files, %s\n", snap, label, len(changes), files, time.Since(start).Round(time.Millisecond))
		return snap, nil
	}

	var chs []change
	for i := int64(1); i <= int64(n); i++ {
		chs = append(chs, change{spec.RowKindInsert, account(i)})
	}
	first, err := commit("insert accounts", chs)
	if err != nil {
		return err
	}
	firstCount := len(model)
	chs = nil
	for i := 0; i < n/3; i++ {
		chs = append(chs, change{spec.RowKindUpdateAfter, account(rng.Int64N(int64(n)) + 1)})
	}
	if _, err := commit("update balances", chs); err != nil {
		return err
	}
	chs = nil
	for i := 0; i < n/20; i++ {
		k := rng.Int64N(int64(n)) + 1
		chs = append(chs, change{spec.RowKindDelete, spec.Row{k, nil, nil, nil, nil}})
	}
	if _, err := commit("close accounts (deletes)", chs); err != nil {
		return err
	}
	chs = nil
	for i := 0; i < n/5; i++ {
		k := rng.Int64N(int64(n)*11/10) + 1 // some new accounts too
		if rng.IntN(5) == 0 {
			chs = append(chs, change{spec.RowKindDelete, spec.Row{k, nil, nil, nil, nil}})
		} else {
			chs = append(chs, change{spec.RowKindUpdateAfter, account(k)})
		}
	}
	if _, err := commit("mixed upserts and deletes", chs); err != nil {
		return err
	}

	// A scheduled compaction job: merge every bucket into one sorted run.
	start := time.Now()
	cw, err := t.NewWrite(ctx)
	if err != nil {
		return err
	}
	if err := cw.Compact(ctx, true, nil); err != nil {
		cw.Close()
		return err
	}
	msgs, err := cw.PrepareCommit(ctx)
	cw.Close()
	if err != nil {
		return err
	}
	before, after := 0, 0
	for _, m := range msgs {
		before += len(m.CompactBefore)
		after += len(m.CompactAfter)
	}
	snap, err := t.NewCommit("strata-demo").Commit(ctx, table.BatchCommitIdentifier, msgs)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "snapshot %d: %-34s %d files into %d, %s\n", snap, "full compaction (COMPACT)", before, after, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	var rows []spec.Row
	for row, err := range t.NewScan().Rows(ctx) {
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	fmt.Fprintf(out, "scan latest: %d rows in %s\n", len(rows), time.Since(start).Round(time.Millisecond))
	for _, r := range rows {
		m, ok := model[r[0].(int64)]
		if !ok || spec.CompareRows(m, r) != 0 {
			return fmt.Errorf("demo check failed: row %v does not match the model (%v)", r, m)
		}
	}
	if len(rows) != len(model) {
		return fmt.Errorf("demo check failed: %d rows, model has %d", len(rows), len(model))
	}
	old := 0
	for _, err := range t.NewScan(table.WithSnapshot(first)).Rows(ctx) {
		if err != nil {
			return err
		}
		old++
	}
	if old != firstCount {
		return fmt.Errorf("demo check failed: snapshot %d has %d rows, want %d", first, old, firstCount)
	}
	fmt.Fprintf(out, "time travel: snapshot %d still has %d rows\n", first, old)
	fmt.Fprintln(out, "sample of the latest snapshot:")
	enc, err := newEncoder(out, "table", t.Schema().Fields)
	if err != nil {
		return err
	}
	for _, r := range rows[:min(5, len(rows))] {
		if err := enc.Write(r); err != nil {
			return err
		}
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "OK: every row matches the model. Try:\n  strata scan %s --limit 5 --format jsonl\n  strata snapshots %s\n", id, id)
	return nil
}
