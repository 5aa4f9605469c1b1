package table

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

var streamSeed = flag.Uint64("stream.seed", 0, "TestStreamModel: replay this seed")

// streamCase is one table setup of the stream model test.
type streamCase struct {
	name string
	opts []string
	// firstRow: the first write of a key wins; no deletes.
	firstRow bool
}

var streamCases = []streamCase{
	{name: "none"},
	{name: "input", opts: []string{"changelog-producer", "input"}},
	{name: "lookup", opts: []string{"changelog-producer", "lookup"}},
	{name: "lookup-dv", opts: []string{"changelog-producer", "lookup", "deletion-vectors.enabled", "true"}},
	{name: "full-compaction", opts: []string{"changelog-producer", "full-compaction", "full-compaction.delta-commits", "3"}},
	{name: "first-row-lookup", opts: []string{"merge-engine", "first-row", "changelog-producer", "lookup"}, firstRow: true},
}

// TestStreamModel is the streaming acceptance test. Random upserts and
// deletes over several commits (some with a full compaction) go into a
// table for each changelog producer; then:
//
//   - the stream from the earliest snapshot, replayed (+I/+U upsert, -U/-D
//     delete), equals at every snapshot what a full start there reads (the
//     whole table; for lookup the levels above 0, for full-compaction the
//     top level), and the model where the producer's changelog is complete;
//   - kinds are checked strictly while replaying: with lookup and
//     full-compaction +I only for absent keys, every -U right before the +U
//     of its key, -U and -D carrying the replaced row; with input the
//     written records, in order; with none the last record written per key;
//   - a follower started at every snapshot, full or not, emits the
//     reference stream from there;
//   - a follower with a consumer id, killed at random rows and resumed,
//     emits the reference stream with at most the snapshot it was killed in
//     emitted again.
func TestStreamModel(t *testing.T) {
	seed := *streamSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay: go test ./table -run TestStreamModel -stream.seed=%d)", seed, seed)
	for i, tc := range streamCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			runStreamModel(t, rng, tc)
		})
	}
}

// streamOp is one record a commit wrote.
type streamOp struct {
	kind spec.RowKind
	row  spec.Row
}

// streamHistory is what the model test wrote and what each snapshot
// should show.
type streamHistory struct {
	tb *Table
	// ops are the records each APPEND snapshot wrote, by snapshot.
	ops map[int64][]streamOp
	// complete: the model, at the snapshots where the producer's changelog
	// has caught up with the table.
	complete map[int64]map[int64]spec.Row
	latest   int64
}

func runStreamModel(t *testing.T, rng *rand.Rand, tc streamCase) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2,
		append([]string{"num-sorted-run.compaction-trigger", "3", "target-file-size", "4 kb"}, tc.opts...)...)
	h := &streamHistory{tb: tb, ops: map[int64][]streamOp{}, complete: map[int64]map[int64]spec.Row{}}
	model := map[int64]spec.Row{}
	commits := 9
	if testing.Short() {
		commits = 6
	}
	for c := range commits {
		w, err := tb.NewWrite(ctx, WithSpillDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		var ops []streamOp
		for i := range 10 + rng.IntN(30) {
			id := rng.Int64N(40)
			op := streamOp{spec.RowKindInsert, spec.Row{id, fmt.Sprintf("v%d-%d-%d", id, c, i), float64(i)}}
			if !tc.firstRow && rng.IntN(4) == 0 {
				op = streamOp{spec.RowKindDelete, spec.Row{id, nil, nil}}
			}
			if err := w.WriteRow(ctx, op.kind, op.row); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
			switch _, had := model[id]; {
			case op.kind == spec.RowKindDelete:
				delete(model, id)
			case !tc.firstRow || !had:
				model[id] = op.row
			}
		}
		// Random full compactions, and two sure ones, so that the changelog
		// catches up with the table (full-compaction) at least twice.
		if rng.IntN(3) == 0 || c == commits/2 || c == commits-1 {
			if err := w.Compact(ctx, true, nil); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tb.NewCommit("model").CommitSteps(ctx, int64(c), msgs)
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		h.ops[res.Append] = ops
		last := res.Last()
		snap, err := tb.snapshots.Get(ctx, last)
		if err != nil {
			t.Fatal(err)
		}
		// The changelog has caught up where a full start reads every file.
		files, err := tb.liveFiles(ctx, snap)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(files, func(e spec.ManifestEntry) bool { return !h.fullStartReads(e.File.Level) }) {
			h.complete[last] = maps2(model)
		}
		checkEqual(t, fmt.Sprintf("commit %d scan", c), scanAll(t, tb), modelRows(model))
		h.latest = last
	}
	if len(h.complete) < 2 {
		t.Fatalf("the changelog caught up with the table at %d snapshots only", len(h.complete))
	}
	ref := streamAll(t, tb, FromSnapshot(1))
	t.Logf("%d snapshots, %d changes", h.latest, len(ref))
	h.checkReplay(t, ref, tc)
	starts := make([]int64, h.latest)
	for i := range starts {
		starts[i] = int64(i + 1)
	}
	if testing.Short() {
		rng.Shuffle(len(starts), func(i, j int) { starts[i], starts[j] = starts[j], starts[i] })
		starts = starts[:4]
	}
	for _, start := range starts {
		checkChanges(t, fmt.Sprintf("from snapshot %d", start), streamAll(t, tb, FromSnapshot(start)), suffix(ref, start))
		full := streamAll(t, tb, FromSnapshotFull(start))
		n := 0
		for n < len(full) && full[n].Snapshot == start {
			n++
		}
		head := full[:n]
		checkChanges(t, fmt.Sprintf("full from snapshot %d: changes after it", start), full[len(head):], suffix(ref, start+1))
		checkEqual(t, fmt.Sprintf("full from snapshot %d", start), replayRows(head), h.view(t, start))
		h.checkKilled(t, rng, start, ref)
	}
}

func maps2(m map[int64]spec.Row) map[int64]spec.Row {
	out := make(map[int64]spec.Row, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// streamAll reads a bounded stream to the latest snapshot.
func streamAll(t testing.TB, tb *Table, from StartPosition, opts ...StreamOption) []Change {
	t.Helper()
	s, err := tb.NewStream(append([]StreamOption{WithStart(from)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var out []Change
	for c, err := range s.Changes(context.Background()) {
		if err != nil {
			t.Fatalf("stream from %v: %v", from, err)
		}
		out = append(out, c)
	}
	return out
}

// suffix is the reference stream from snapshot id on.
func suffix(ref []Change, id int64) []Change {
	i := slices.IndexFunc(ref, func(c Change) bool { return c.Snapshot >= id })
	if i < 0 {
		return nil
	}
	return ref[i:]
}

func checkChanges(t testing.TB, what string, got, want []Change) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d changes, want %d\ngot  %v\nwant %v", what, len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.Snapshot != w.Snapshot || spec.CompareRows(g.Row, w.Row) != 0 {
			t.Fatalf("%s: change %d = %v %v @%d, want %v %v @%d", what, i, g.Kind, g.Row, g.Snapshot, w.Kind, w.Row, w.Snapshot)
		}
	}
}

// replay applies changes leniently: +I/+U upsert, -U/-D delete.
func replay(state map[int64]spec.Row, c Change) {
	id := c.Row[0].(int64)
	if c.Kind.IsRetract() {
		delete(state, id)
	} else {
		state[id] = c.Row
	}
}

func replayRows(cs []Change) []spec.Row {
	state := map[int64]spec.Row{}
	for _, c := range cs {
		replay(state, c)
	}
	return modelRows(state)
}

// fullStartReads says whether a full start reads files of a level.
func (h *streamHistory) fullStartReads(level int32) bool {
	switch h.tb.opts.ChangelogProducer {
	case spec.ChangelogProducerLookup:
		return level > 0
	case spec.ChangelogProducerFullCompaction:
		return int(level) == h.tb.opts.NumLevels-1
	}
	return true
}

// view is what a full start at snapshot id reads.
func (h *streamHistory) view(t testing.TB, id int64) []spec.Row {
	t.Helper()
	snap, err := h.tb.snapshots.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var rows []spec.Row
	for c, err := range h.tb.fullChanges(context.Background(), snap) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind != spec.RowKindInsert {
			t.Fatalf("full read of snapshot %d yields %v", id, c.Kind)
		}
		rows = append(rows, c.Row)
	}
	slices.SortFunc(rows, spec.CompareRows)
	return rows
}

// checkReplay replays the reference stream snapshot by snapshot, checking
// kinds strictly, and compares the state at every snapshot.
func (h *streamHistory) checkReplay(t *testing.T, ref []Change, tc streamCase) {
	state := map[int64]spec.Row{}
	producer := h.tb.opts.ChangelogProducer
	i := 0
	for id := int64(1); id <= h.latest; id++ {
		j := i
		for j < len(ref) && ref[j].Snapshot == id {
			j++
		}
		cs := ref[i:j]
		i = j
		switch producer {
		case spec.ChangelogProducerNone:
			checkWritten(t, id, cs, lastPerKey(h.ops[id]))
		case spec.ChangelogProducerInput:
			checkWritten(t, id, cs, h.ops[id])
		default:
			checkStrictKinds(t, id, cs, state, tc.firstRow)
		}
		for _, c := range cs {
			replay(state, c)
		}
		checkEqual(t, fmt.Sprintf("replay to snapshot %d vs a full start there", id), modelRows(state), h.view(t, id))
		if m, ok := h.complete[id]; ok {
			checkEqual(t, fmt.Sprintf("replay to snapshot %d vs the model", id), modelRows(state), modelRows(m))
		}
	}
	if i != len(ref) {
		t.Fatalf("the stream has changes of snapshot %d after the latest, %d", ref[i].Snapshot, h.latest)
	}
}

// lastPerKey keeps each key's last record, in first-appearance order.
func lastPerKey(ops []streamOp) []streamOp {
	var out []streamOp
	at := map[int64]int{}
	for _, op := range ops {
		id := op.row[0].(int64)
		if i, ok := at[id]; ok {
			out[i] = op
			continue
		}
		at[id] = len(out)
		out = append(out, op)
	}
	return out
}

// checkWritten compares a snapshot's changes with the records written,
// key by key in order (files are sorted by key, records of a key by
// sequence).
func checkWritten(t testing.TB, id int64, cs []Change, ops []streamOp) {
	t.Helper()
	byKey := func(f func(yield func(int64, streamOp) bool)) map[int64][]streamOp {
		m := map[int64][]streamOp{}
		for k, op := range f {
			m[k] = append(m[k], op)
		}
		return m
	}
	got := byKey(func(yield func(int64, streamOp) bool) {
		for _, c := range cs {
			yield(c.Row[0].(int64), streamOp{c.Kind, c.Row})
		}
	})
	want := byKey(func(yield func(int64, streamOp) bool) {
		for _, op := range ops {
			yield(op.row[0].(int64), op)
		}
	})
	if len(got) != len(want) {
		t.Fatalf("snapshot %d: changes of %d keys, %d written", id, len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if len(g) != len(w) {
			t.Fatalf("snapshot %d key %d: changes %v, written %v", id, k, g, w)
		}
		for i := range g {
			if g[i].kind != w[i].kind || spec.CompareRows(g[i].row, w[i].row) != 0 {
				t.Fatalf("snapshot %d key %d: changes %v, written %v", id, k, g, w)
			}
		}
	}
}

// checkStrictKinds checks a computed changelog against the state before
// it: +I only for absent keys, -U and -D carry the current row, and each
// -U is followed at once (for its key) by a +U.
func checkStrictKinds(t testing.TB, id int64, cs []Change, before map[int64]spec.Row, firstRow bool) {
	t.Helper()
	state := maps2(before)
	pending := map[int64]bool{}
	for i, c := range cs {
		k := c.Row[0].(int64)
		cur, present := state[k]
		fail := func(why string) {
			t.Helper()
			t.Fatalf("snapshot %d change %d %v %v: %s (current %v)", id, i, c.Kind, c.Row, why, cur)
		}
		if pending[k] && c.Kind != spec.RowKindUpdateAfter {
			fail("after a -U, want the +U of its key")
		}
		switch c.Kind {
		case spec.RowKindInsert:
			if present {
				fail("+I of a present key")
			}
		case spec.RowKindUpdateBefore, spec.RowKindDelete:
			if !present || spec.CompareRows(cur, c.Row) != 0 {
				fail("retracts a row the table does not hold")
			}
			if c.Kind == spec.RowKindUpdateBefore {
				pending[k] = true
			}
		case spec.RowKindUpdateAfter:
			if !pending[k] {
				fail("+U without its -U")
			}
			delete(pending, k)
		}
		if firstRow && c.Kind != spec.RowKindInsert {
			fail("first-row changelog has inserts only")
		}
		replay(state, c)
	}
	for k := range pending {
		t.Fatalf("snapshot %d: key %d retracted by -U with no +U\n%v", id, k, cs)
	}
}

// checkKilled runs a follower with a consumer id from a full start at
// start, killed after a random number of rows again and again until it
// reaches the end; it must emit the reference stream with at most the
// snapshot in progress emitted again at each restart.
func (h *streamHistory) checkKilled(t *testing.T, rng *rand.Rand, start int64, ref []Change) {
	ctx := context.Background()
	consumer := fmt.Sprintf("killed-%d", start)
	want := streamAll(t, h.tb, FromSnapshotFull(start))
	var got []Change
	for run := 0; ; run++ {
		s, err := h.tb.NewStream(WithStart(FromSnapshotFull(start)), WithConsumer(consumer), WithEndSnapshot(h.latest))
		if err != nil {
			t.Fatal(err)
		}
		kill := -1 // the run that reaches the end
		if rng.IntN(4) != 0 {
			kill = rng.IntN(60)
		}
		var out []Change
		finished := true
		for c, err := range s.Changes(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if len(out) == kill {
				finished = false
				break
			}
			out = append(out, c)
		}
		if len(out) > 0 && len(got) > 0 {
			// The snapshot the killed run was in is the only one emitted
			// again; losses show in the comparison at the end.
			if last := got[len(got)-1].Snapshot; out[0].Snapshot < last {
				t.Fatalf("from %d, run %d: resumed at snapshot %d, before %d, the one it was killed in", start, run, out[0].Snapshot, last)
			}
			k := len(got)
			for k > 0 && got[k-1].Snapshot >= out[0].Snapshot {
				k--
			}
			got = got[:k]
		}
		got = append(got, out...)
		if finished {
			break
		}
	}
	checkChanges(t, fmt.Sprintf("killed and resumed from %d", start), got, want)
	c, err := h.tb.Consumer(ctx, consumer)
	if err != nil || c == nil || c.NextSnapshot != h.latest+1 {
		t.Fatalf("consumer %s after the end: %v, %v; want next %d", consumer, c, err, h.latest+1)
	}
}
