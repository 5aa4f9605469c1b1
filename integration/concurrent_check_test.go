package integration

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// This file holds TestConcurrentWriters' checks of what the writers left.

// maxDetailedSnapshots: snapshots whose differences from the model are
// listed key by key; later mismatches are only counted.
const maxDetailedSnapshots = 3

// history is the table's snapshots attributed to writers.
type history struct {
	tb       *table.Table
	snaps    []*spec.Snapshot // ascending ids
	writerOf map[int64]int    // APPEND snapshot id → writer
	appendOf map[int][]int64  // writer → its APPEND snapshot ids
	final    map[mkey]mrow    // the model after every APPEND
}

// checkHistory attributes snapshots to writers by commit user and checks
// the strata write contract: exit 0 ⇔ exactly one APPEND snapshot, whose
// id the writer printed; a failed writer committed nothing.
func (r *round) checkHistory() *history {
	ctx := context.Background()
	fs, err := storage.Open(ctx, r.wh)
	if err != nil {
		r.fatalf("open warehouse: %v", err)
	}
	tb, err := catalog.New(fs).GetTable(ctx, catalog.Identifier{Database: "db", Table: "t"})
	if err != nil {
		r.fatalf("open table: %v", err)
	}
	ids, err := tb.Snapshots().IDs(ctx)
	if err != nil {
		r.fatalf("list snapshots: %v", err)
	}
	h := &history{tb: tb, writerOf: map[int64]int{}, appendOf: map[int][]int64{}}
	byUser := map[string][]int64{}
	for _, id := range ids {
		s, err := tb.Snapshots().Get(ctx, id)
		if err != nil {
			r.fatalf("snapshot %d: %v", id, err)
		}
		h.snaps = append(h.snaps, s)
		byUser[s.CommitUser] = append(byUser[s.CommitUser], id)
		w := -1
		for i := range r.res {
			if s.CommitUser == r.commitUser(i) {
				w = i
			}
		}
		switch {
		case s.CommitKind != spec.CommitKindAppend && s.CommitKind != spec.CommitKindCompact:
			r.errorf("snapshot %d is %s (commit user %q): writers only append and compact", id, s.CommitKind, s.CommitUser)
		case w < 0:
			r.errorf("snapshot %d (%s) has commit user %q, which no writer has", id, s.CommitKind, s.CommitUser)
		case s.CommitKind == spec.CommitKindAppend:
			h.writerOf[id] = w
			h.appendOf[w] = append(h.appendOf[w], id)
		}
	}
	ok := 0
	for w := range r.res {
		r.checkWriter(h, w, byUser[r.commitUser(w)])
		if r.res[w].code == 0 {
			ok++
		}
	}
	if ok == 0 {
		r.errorf("no writer of %d succeeded", len(r.res))
	}
	return h
}

// checkWriter checks one writer's exit status and output against the
// snapshots its commit user wrote.
func (r *round) checkWriter(h *history, w int, snaps []int64) {
	res, appends := r.res[w], h.appendOf[w]
	switch {
	case res.code != 0 && len(snaps) > 0:
		r.errorf("writer %d exited %d (%q) but committed snapshots %v (APPEND: %v): a failed write must commit nothing",
			w, res.code, lastLine(res.stderr), snaps, appends)
		return
	case res.code != 0 && (*concSerial || !strings.Contains(res.stderr, "nothing committed after")):
		// Only running out of retries against other writers may fail a
		// write of valid input.
		r.errorf("writer %d exited %d: %s", w, res.code, lastLine(res.stderr))
		return
	case res.code != 0:
		return
	case len(appends) == 0:
		r.errorf("writer %d exited 0 (%q) but no APPEND snapshot has its commit user: its %d rows are lost",
			w, res.stdout, len(r.inputs[w]))
		return
	case len(appends) > 1:
		r.errorf("writer %d committed its rows in %d APPEND snapshots %v: exactly once expected", w, len(appends), appends)
	}
	switch {
	case res.printed == 0:
		r.errorf("writer %d exited 0 without printing \"snapshot A: wrote N rows\": stdout %q", w, res.stdout)
	case res.printed != appends[0]:
		kind := "no such snapshot"
		for _, s := range h.snaps {
			if s.ID == res.printed {
				kind = fmt.Sprintf("%s by %q", s.CommitKind, s.CommitUser)
			}
		}
		r.errorf("writer %d printed snapshot %d (%s), but its APPEND snapshot is %d: it must print its APPEND id",
			w, res.printed, kind, appends[0])
	}
}

// checkSnapshots compares every snapshot, all levels merged, with the
// model after the APPEND snapshots up to it.
func (r *round) checkSnapshots(h *history) {
	m := newModel(r.kind)
	bad := 0
	for _, s := range h.snaps {
		what := fmt.Sprintf("snapshot %d (%s by %q", s.ID, s.CommitKind, s.CommitUser)
		if w, ok := h.writerOf[s.ID]; ok {
			m.apply(r.inputs[w])
			what += fmt.Sprintf(", writer %d", w)
		}
		what += ", all levels merged)"
		got, ok := r.scan(h.tb, what, table.WithSnapshot(s.ID), table.WithAllLevels())
		if !ok || !r.differs(h, what, m.state, got, bad < maxDetailedSnapshots) {
			continue
		}
		bad++
	}
	if bad > maxDetailedSnapshots {
		r.errorf("%d of %d snapshots differ from the model", bad, len(h.snaps))
	}
	h.final = maps.Clone(m.state)
	r.checkModelSanity(h.final)
}

// checkModelSanity guards the model itself: one partition per id in a
// cross-partition table.
func (r *round) checkModelSanity(state map[mkey]mrow) {
	if !r.kind.Cross {
		return
	}
	seen := map[int64]mkey{}
	for k := range state {
		if o, dup := seen[k.ID]; dup {
			r.fatalf("model bug: id %d in %s and %s", k.ID, o, k)
		}
		seen[k.ID] = k
	}
}

// checkAfterFullCompaction runs strata compact --full and compares the
// default scan (level 0 skipped where Paimon skips it) with the model.
func (r *round) checkAfterFullCompaction(h *history) {
	ctx := context.Background()
	code, out, stderr, err := r.strata(ctx, "compact", "db.t", "--full", "--commit-user", "conc-compact")
	if err != nil || code != 0 {
		r.errorf("strata compact --full: exit %d, %v: %s %s", code, err, out, stderr)
		return
	}
	latest, err := h.tb.Snapshots().LatestID(ctx)
	if err != nil {
		r.fatalf("latest snapshot: %v", err)
	}
	for _, all := range []bool{false, true} {
		what := fmt.Sprintf("after strata compact --full, snapshot %d, default scan", latest)
		opts := []table.ScanOption{table.WithSnapshot(latest)}
		if all {
			what = fmt.Sprintf("after strata compact --full, snapshot %d, all levels merged", latest)
			opts = append(opts, table.WithAllLevels())
		}
		if got, ok := r.scan(h.tb, what, opts...); ok {
			r.differs(h, what, h.final, got, true)
		}
	}
}

// scan reads a snapshot into rows by key, reporting keys seen twice (and,
// cross-partition, ids in two partitions) in one failure per scan.
func (r *round) scan(tb *table.Table, what string, opts ...table.ScanOption) (map[mkey]mrow, bool) {
	got := map[mkey]mrow{}
	ids := map[int64]mkey{}
	var dups []string
	for row, err := range tb.NewScan(opts...).Rows(context.Background()) {
		if err != nil {
			r.errorf("%s: scan: %v", what, err)
			return nil, false
		}
		mr := normalize(row)
		key := r.kind.keyOf(mr)
		if prev, dup := got[key]; dup {
			dups = append(dups, fmt.Sprintf("  key %s twice: %s and %s", key, r.kind.fmtRow(prev), r.kind.fmtRow(mr)))
		}
		if other, dup := ids[key.ID]; r.kind.Cross && dup && other != key {
			dups = append(dups, fmt.Sprintf("  id %d in two partitions: %s and %s", key.ID, r.kind.fmtRow(got[other]), r.kind.fmtRow(mr)))
		}
		got[key], ids[key.ID] = mr, key
	}
	if len(dups) > 0 {
		r.errorf("%s: %d keys twice (a primary key must appear once%s):\n%s", what, len(dups),
			map[bool]string{true: ", in one partition", false: ""}[r.kind.Cross], strings.Join(dups[:min(len(dups), 5)], "\n"))
	}
	return got, true
}

// normalize makes scanned values comparable with the model's.
func normalize(row spec.Row) mrow {
	out := make(mrow, len(row))
	for i, v := range row {
		if x, ok := v.(int32); ok {
			v = int64(x)
		}
		out[i] = v
	}
	return out
}

// differs reports whether got differs from want and, with detail, which
// keys and who wrote them.
func (r *round) differs(h *history, what string, want, got map[mkey]mrow, detail bool) bool {
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b mkey) int { return cmp.Or(cmp.Compare(a.P, b.P), cmp.Compare(a.ID, b.ID)) })
	var diffs []string
	for _, k := range keys {
		w, g := want[k], got[k]
		if fmt.Sprintf("%#v", w) != fmt.Sprintf("%#v", g) {
			diffs = append(diffs, fmt.Sprintf("  key %s: want %s, got %s%s; sent by %s",
				k, r.kind.fmtRow(w), r.kind.fmtRow(g), r.failedTag(h, g), r.senders(h, k)))
		}
	}
	if len(diffs) == 0 {
		return false
	}
	if detail {
		shown := diffs[:min(len(diffs), 5)]
		r.errorf("%s: %d keys differ from the model (%d rows, model %d rows):\n%s",
			what, len(diffs), len(got), len(want), strings.Join(shown, "\n"))
	}
	return true
}

// failedTag notes when a row's b value comes from a writer that failed.
func (r *round) failedTag(h *history, row mrow) string {
	if row == nil {
		return ""
	}
	var w, i int
	b, _ := row[r.kind.col("b")].(string)
	if _, err := fmt.Sscanf(b, "w%d.%d", &w, &i); err != nil || w >= len(r.res) || r.res[w].code == 0 {
		return ""
	}
	return fmt.Sprintf(" (b from writer %d, which exited %d)", w, r.res[w].code)
}

// senders lists the writers whose input has the key (its id, for a
// cross-partition table), with exit status and APPEND snapshots.
func (r *round) senders(h *history, k mkey) string {
	var out []string
	for w, recs := range r.inputs {
		n := 0
		for _, rec := range recs {
			rk := r.kind.keyOf(rec.Row)
			if rk == k || (r.kind.Cross && rk.ID == k.ID) {
				n++
			}
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("w%d(%d rows, exit %d, APPEND %v)", w, n, r.res[w].code, h.appendOf[w]))
		}
	}
	if len(out) == 0 {
		return "nobody"
	}
	return strings.Join(out, " ")
}

// fmtRow prints a row with column names ("-" for no row).
func (k tableKind) fmtRow(row mrow) string {
	if row == nil {
		return "-"
	}
	var parts []string
	for i, c := range k.columns() {
		v := row[i]
		if s, ok := v.(string); ok {
			v = fmt.Sprintf("%q", s)
		}
		parts = append(parts, fmt.Sprintf("%s:%v", c, v))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// checkReruns runs every successful writer again with its checkpoint: each
// must find its checkpoint committed and publish nothing.
func (r *round) checkReruns() {
	if !r.checkpoint {
		return
	}
	ctx := context.Background()
	before, err := r.snapshotCount(ctx)
	if err != nil {
		r.fatalf("list snapshots: %v", err)
	}
	for w, res := range r.res {
		if res.code != 0 {
			continue
		}
		args, stdin := r.writeArgs(w)
		if stdin != "" {
			args = append(args, "--input", stdin)
		}
		code, out, stderr, err := r.strata(ctx, args[2:]...)
		if err != nil || code != 0 || !strings.Contains(out, "already committed") {
			r.errorf("writer %d re-run with its checkpoint: exit %d, %v: %s %s (want: already committed)", w, code, err, out, stderr)
		}
	}
	if after, err := r.snapshotCount(ctx); err != nil || after != before {
		r.errorf("re-runs of committed checkpoints published snapshots: %d before, %d after (%v)", before, after, err)
	}
}

func (r *round) snapshotCount(ctx context.Context) (int, error) {
	fs, err := storage.Open(ctx, r.wh)
	if err != nil {
		return 0, err
	}
	tb, err := catalog.New(fs).GetTable(ctx, catalog.Identifier{Database: "db", Table: "t"})
	if err != nil {
		return 0, err
	}
	ids, err := tb.Snapshots().IDs(ctx)
	return len(ids), err
}
