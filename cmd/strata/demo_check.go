package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// demoRiskyFilter is the batch scan's filter for risky users.
const demoRiskyFilter = "flagged_count > 0"

// demoLookupBatch is how many users one verifying lookup request asks for.
const demoLookupBatch = 500

// finish runs the end of the demo once the writer stopped: a last
// maintenance round (whose compaction brings the changelog up to the last
// commit), the change stream caught up, the batch scan of risky users, and
// the checks of the scan, the lookups and the replayed changelog against
// the model. The summary is filled in whether or not a check failed.
func (r *demoRun) finish(ctx context.Context) (*demoSummary, error) {
	job, err := r.maintainJob()
	if err != nil {
		return nil, err
	}
	if err := r.maintainRound(ctx, job); err != nil {
		return nil, err
	}
	latest, err := r.t.Snapshots().LatestID(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.follower.catchUp(ctx, latest); err != nil {
		return nil, err
	}
	risky, top, err := r.scanRisky(ctx)
	if err != nil {
		return nil, err
	}
	cerr := r.check(ctx, latest, risky)
	sum := r.summary(latest, int64(len(risky)))
	sum.top = top
	return sum, cerr
}

// check compares the scan, a lookup of every user and the replayed
// changelog with the model, and the risky users with the model's.
func (r *demoRun) check(ctx context.Context, latest int64, risky []int64) error {
	m := r.writer.model
	rows, err := r.scanAll(ctx)
	if err != nil {
		return err
	}
	if err := m.checkRows("batch scan", rows); err != nil {
		return err
	}
	if err := r.checkLookups(ctx, latest); err != nil {
		return err
	}
	if err := m.checkRows("changelog replayed", r.follower.state); err != nil {
		return err
	}
	return checkRisky(risky, m.risky())
}

// checkRisky compares the users the batch scan found risky with the
// model's (both ascending), naming the first user found or missed wrongly.
func checkRisky(got, want []int64) error {
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		switch {
		case j == len(want) || i < len(got) && got[i] < want[j]:
			return fmt.Errorf("the scan where %s found user %d, which the model does not flag (%d users found, want %d)",
				demoRiskyFilter, got[i], len(got), len(want))
		case i == len(got) || want[j] < got[i]:
			return fmt.Errorf("the scan where %s missed user %d, whom the model flags (%d users found, want %d)",
				demoRiskyFilter, want[j], len(got), len(want))
		}
		i, j = i+1, j+1
	}
	return nil
}

// scanAll reads the latest snapshot, by user.
func (r *demoRun) scanAll(ctx context.Context) (map[int64]spec.Row, error) {
	rows := map[int64]spec.Row{}
	for row, err := range r.t.NewScan().Rows(ctx) {
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		u, ok := row[colUser].(int64)
		if !ok {
			return nil, fmt.Errorf("scan: row %v: not the demo table's columns", row)
		}
		rows[u] = row
	}
	return rows, nil
}

// scanRisky is the demo's batch job: the users with a flagged payment
// (ascending), and the five with the most.
func (r *demoRun) scanRisky(ctx context.Context) ([]int64, []spec.Row, error) {
	p, err := predicate.Parse(demoRiskyFilter, r.t.Schema().Fields)
	if err != nil {
		return nil, nil, err
	}
	var users []int64
	var top []spec.Row
	for row, err := range r.t.NewScan(table.WithFilter(p)).Rows(ctx) {
		if err != nil {
			return nil, nil, fmt.Errorf("scan where %s: %w", demoRiskyFilter, err)
		}
		u, ok := row[colUser].(int64)
		if _, fok := row[colFlagged].(int64); !ok || !fok {
			return nil, nil, fmt.Errorf("scan where %s: row %v: not the demo table's columns", demoRiskyFilter, row)
		}
		users = append(users, u)
		top = insertTop(top, row, 5)
	}
	slices.Sort(users)
	return users, top, nil
}

// insertTop keeps the k rows with the most flagged payments (then the
// smallest user id), in that order.
func insertTop(top []spec.Row, row spec.Row, k int) []spec.Row {
	before := func(a, b spec.Row) bool {
		fa, fb := a[colFlagged].(int64), b[colFlagged].(int64)
		return fa > fb || fa == fb && a[colUser].(int64) < b[colUser].(int64)
	}
	i := len(top)
	for i > 0 && before(row, top[i-1]) {
		i--
	}
	if i >= k {
		return top
	}
	top = append(top[:i], append([]spec.Row{row}, top[i:]...)...)
	return top[:min(len(top), k)]
}

// checkLookups waits (up to 30 s) for the lookup server to serve the
// latest snapshot, then looks every user up over HTTP and compares the
// answers with the model.
func (r *demoRun) checkLookups(ctx context.Context, latest int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err := r.client.do(ctx, []int64{1})
		if err != nil {
			return err
		}
		if a.Snapshot >= latest {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the lookup server still serves snapshot %d, 30 s after snapshot %d", a.Snapshot, latest)
		}
		time.Sleep(r.f.refresh / 2)
	}
	enc := textrow.NewJSONEncoder(nil, r.t.Schema().Fields)
	m := r.writer.model
	users := make([]int64, 0, demoLookupBatch)
	for u := int64(1); u <= int64(r.f.users); u++ {
		users = append(users, u)
		if len(users) < demoLookupBatch && u < int64(r.f.users) {
			continue
		}
		a, err := r.client.do(ctx, users)
		if err != nil {
			return err
		}
		for i, row := range a.Rows {
			if err := m.checkJSON(enc, users[i], row); err != nil {
				return fmt.Errorf("snapshot %d: %w", a.Snapshot, err)
			}
		}
		users = users[:0]
	}
	return nil
}
