package table

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// commitRows upserts ids from..to with value v and commits; it returns the
// last snapshot.
func commitUpserts(t *testing.T, tb *Table, id int64, from, to int64, v string) int64 {
	t.Helper()
	msgs := writeAll(t, tb, upserts(from, to, func(i int64) spec.Row { return spec.Row{i, v, 1.0} }), false)
	last, err := tb.NewCommit("s").Commit(context.Background(), id, msgs)
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// kinds renders changes as "kind id@snapshot", one per change.
func kinds(cs []Change) string {
	var b []string
	for _, c := range cs {
		b = append(b, fmt.Sprintf("%v%d@%d", c.Kind, c.Row[0], c.Snapshot))
	}
	return strings.Join(b, " ")
}

func TestStreamStartPositions(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "changelog-producer", "input")
	if got := streamAll(t, tb, FromLatestFull()); len(got) != 0 {
		t.Fatalf("empty table: %v", got)
	}
	commitUpserts(t, tb, 0, 1, 2, "a")
	time.Sleep(5 * time.Millisecond)
	mid := time.Now()
	time.Sleep(5 * time.Millisecond)
	commitUpserts(t, tb, 1, 2, 3, "b")
	commitUpserts(t, tb, 2, 4, 4, "c")
	for _, tc := range []struct {
		from StartPosition
		want string
	}{
		{FromLatestFull(), "+I1@3 +I2@3 +I3@3 +I4@3"},
		{FromLatest(), ""},
		{FromEarliest(), "+I1@1 +I2@1 +I2@2 +I3@2 +I4@3"},
		{FromSnapshot(0), "+I1@1 +I2@1 +I2@2 +I3@2 +I4@3"},
		{FromSnapshot(2), "+I2@2 +I3@2 +I4@3"},
		{FromSnapshot(9), ""},
		{FromSnapshotFull(1), "+I1@1 +I2@1 +I2@2 +I3@2 +I4@3"},
		{FromSnapshotFull(2), "+I1@2 +I2@2 +I3@2 +I4@3"},
		{FromSnapshotFull(9), ""},
		{FromTimestamp(mid), "+I2@2 +I3@2 +I4@3"},
		{FromTimestamp(time.UnixMilli(0)), "+I1@1 +I2@1 +I2@2 +I3@2 +I4@3"},
		{FromTimestamp(time.Now().Add(time.Hour)), ""},
	} {
		if got := kinds(streamAll(t, tb, tc.from)); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.from, got, tc.want)
		}
	}
	// Incremental: (start, end], Paimon's range checks.
	var got []Change
	for c, err := range tb.Incremental(ctx, 1, 2) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if kinds(got) != "+I2@2 +I3@2" {
		t.Errorf("incremental (1, 2]: %s", kinds(got))
	}
	for _, r := range [][2]int64{{2, 1}, {0, 4}, {-1, 2}} {
		for _, err := range tb.Incremental(ctx, r[0], r[1]) {
			if err == nil {
				t.Errorf("incremental (%d, %d]: no error", r[0], r[1])
			}
			break
		}
	}
}

// With changelog-producer none a stream reads what APPEND snapshots added,
// with the kinds written, and skips COMPACT snapshots; a full start reads
// the merged table.
func TestStreamDeltaKinds(t *testing.T) {
	tb := newTestTable(t, storage.NewMemory(), 1)
	commitUpserts(t, tb, 0, 1, 3, "a")
	msgs := writeAll(t, tb, append(deletes(2, 2), change{spec.RowKindUpdateAfter, spec.Row{int64(3), "b", 2.0}}), true)
	res, err := tb.NewCommit("s").CommitSteps(context.Background(), 1, msgs)
	if err != nil || res.Compact == 0 {
		t.Fatalf("commit: %+v, %v", res, err)
	}
	if got := kinds(streamAll(t, tb, FromEarliest())); got != "+I1@1 +I2@1 +I3@1 -D2@2 +U3@2" {
		t.Errorf("deltas: %s", got)
	}
	if got := kinds(streamAll(t, tb, FromLatestFull())); got != "+I1@3 +I3@3" {
		t.Errorf("full: %s", got)
	}
}

// A following stream waits for snapshots not committed yet, and is
// stopped by its context.
func TestStreamFollowWaits(t *testing.T) {
	for _, tc := range []struct {
		from  StartPosition
		first string
	}{
		{FromLatest(), "+I1@1"},
		{FromSnapshot(2), "+I2@2"},
		{FromSnapshotFull(2), "+I1@2"},
	} {
		tb := newTestTable(t, storage.NewMemory(), 1, "changelog-producer", "input")
		s, err := tb.NewStream(WithStart(tc.from), WithFollow(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		next, done := iter.Pull2(iter.Seq2[Change, error](s.Changes(ctx)))
		go func() {
			time.Sleep(20 * time.Millisecond) // the stream polls meanwhile
			commitUpserts(t, tb, 0, 1, 1, "a")
			commitUpserts(t, tb, 1, 2, 2, "b")
		}()
		c, err, _ := next()
		if got := kinds([]Change{c}); err != nil || got != tc.first {
			t.Errorf("%v: first change %s, %v; want %s", tc.from, got, err, tc.first)
		}
		stop()
		for {
			_, err, ok := next()
			if !ok {
				t.Fatalf("%v: ended without the context's error", tc.from)
			}
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("%v: stopped with %v", tc.from, err)
				}
				break
			}
		}
		done()
	}
}

// A stream behind expiration fails naming the snapshot; a consumer keeps
// its snapshots; long-lived changelogs are read after their snapshots
// expired.
func TestStreamExpired(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	// write-only: one snapshot per commit, expired by hand.
	tb := newTestTable(t, fs, 1, "changelog-producer", "input", "snapshot.num-retained.min", "1",
		"snapshot.num-retained.max", "2", "changelog.num-retained.max", "4", "write-only", "true")
	commit := func(id, from, to int64, v string) {
		t.Helper()
		commitUpserts(t, tb, id, from, to, v)
		if _, err := tb.ExpireSnapshots(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, err := tb.NewStream(WithStart(FromEarliest()), WithFollow(time.Millisecond), WithEndSnapshot(6))
	if err != nil {
		t.Fatal(err)
	}
	commit(0, 1, 1, "a")
	next, stop := iter.Pull2(iter.Seq2[Change, error](s.Changes(ctx)))
	defer stop()
	if c, err, _ := next(); err != nil || c.Snapshot != 1 {
		t.Fatalf("first: %v %v", c, err)
	}
	// Snapshots 2..6 commit; 2 falls out of even the changelog's retention
	// while the stream holds snapshot 1's changes.
	for i := int64(2); i <= 6; i++ {
		commit(i, i, i, "x")
	}
	if c, err, _ := next(); !errors.Is(err, spec.ErrNotFound) || !strings.Contains(fmt.Sprint(err), "snapshot 2 ") {
		t.Fatalf("behind expiration: %v %v", c, err)
	}
	// From the earliest: long-lived changelogs 3..4, then snapshots 5..6.
	if got := kinds(streamAll(t, tb, FromEarliest())); got != "+I3@3 +I4@4 +I5@5 +I6@6" {
		t.Errorf("from earliest: %s", got)
	}
	// A consumer holds its next snapshot through expiration.
	if err := tb.ResetConsumer(ctx, "c", 5); err != nil {
		t.Fatal(err)
	}
	for i := int64(7); i <= 12; i++ {
		commit(i, i, i, "y")
	}
	s, _ = tb.NewStream(WithConsumer("c"))
	var got []Change
	for c, err := range s.Changes(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if kinds(got) != "+I5@5 +I6@6 +I7@7 +I8@8 +I9@9 +I10@10 +I11@11 +I12@12" {
		t.Errorf("consumer: %s", kinds(got))
	}
	if c, err := tb.Consumer(ctx, "c"); err != nil || c.NextSnapshot != 13 {
		t.Errorf("consumer after: %v %v", c, err)
	}
}

func TestConsumers(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1, "consumer.expiration-time", "1 h")
	for _, bad := range []string{"", "a/b", " a", ".."} {
		if err := tb.ResetConsumer(ctx, bad, 1); !errors.Is(err, spec.ErrInvalidOption) {
			t.Errorf("consumer id %q: %v", bad, err)
		}
		if _, err := tb.NewStream(WithConsumer(bad)); bad != "" && !errors.Is(err, spec.ErrInvalidOption) {
			t.Errorf("stream consumer id %q: %v", bad, err)
		}
	}
	if _, err := tb.NewStream(WithIgnoreProgress()); !errors.Is(err, spec.ErrInvalidOption) {
		t.Errorf("ignore progress without a consumer: %v", err)
	}
	if c, err := tb.Consumer(ctx, "x"); c != nil || err != nil {
		t.Fatalf("missing consumer: %v %v", c, err)
	}
	commitUpserts(t, tb, 0, 1, 1, "a")
	if err := tb.ResetConsumer(ctx, "x", 1); err != nil {
		t.Fatal(err)
	}
	// Paimon's JSON.
	data, _ := fs.Get(ctx, "db.db/t/consumer/consumer-x")
	if string(data) != "{\n  \"nextSnapshot\" : 1\n}" {
		t.Errorf("consumer file: %q", data)
	}
	if err := tb.ResetConsumer(ctx, "y", 7); err != nil {
		t.Fatal(err)
	}
	if cs, err := tb.Consumers(ctx); err != nil || len(cs) != 2 || cs["x"] != 1 || cs["y"] != 7 {
		t.Fatalf("consumers: %v %v", cs, err)
	}
	// A consumer beyond the latest snapshot + 1 reads another table.
	s, _ := tb.NewStream(WithConsumer("y"))
	for _, err := range s.Changes(ctx) {
		if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "recreated") {
			t.Errorf("consumer beyond the latest: %v", err)
		}
	}
	// WithIgnoreProgress starts over and overwrites the progress.
	s, _ = tb.NewStream(WithConsumer("y"), WithIgnoreProgress(), WithStart(FromEarliest()))
	n := 0
	for _, err := range s.Changes(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if c, _ := tb.Consumer(ctx, "y"); n != 1 || c.NextSnapshot != 2 {
		t.Errorf("ignore progress: %d changes, consumer %v", n, c)
	}
	if err := tb.DeleteConsumer(ctx, "y"); err != nil {
		t.Fatal(err)
	}
	// consumer.expiration-time: expiration deletes consumers not written
	// for that long.
	if _, err := tb.ExpireSnapshots(ctx, WithExpireTime(time.Now().Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if cs, err := tb.Consumers(ctx); err != nil || len(cs) != 0 {
		t.Errorf("consumers after their expiration time: %v %v", cs, err)
	}
}

// OnSnapshotDone runs after each snapshot with changes, before the
// consumer moves past it; its error stops the stream with the snapshot
// not done.
func TestStreamSnapshotDone(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "changelog-producer", "input")
	for i := range int64(3) {
		commitUpserts(t, tb, i, i, i, "a")
	}
	var done []int64
	boom := errors.New("boom")
	s, _ := tb.NewStream(WithStart(FromEarliest()), WithConsumer("h"), OnSnapshotDone(func(_ context.Context, id int64) error {
		if c, _ := tb.Consumer(ctx, "h"); id > 1 && c.NextSnapshot != id {
			t.Errorf("done %d: consumer at %d", id, c.NextSnapshot)
		}
		done = append(done, id)
		if id == 2 {
			return boom
		}
		return nil
	}))
	var err error
	for _, err = range s.Changes(ctx) {
	}
	if !errors.Is(err, boom) || !slices.Equal(done, []int64{1, 2}) || s.Next() != 2 {
		t.Fatalf("err %v, done %v, next %d", err, done, s.Next())
	}
	if c, _ := tb.Consumer(ctx, "h"); c.NextSnapshot != 2 {
		t.Errorf("consumer %d, want 2", c.NextSnapshot)
	}
}

// A follower with a consumer id, cancelled at random moments and restarted
// while a writer commits, emits the reference stream: each restart emits
// again at most the snapshot it was stopped in.
func TestStreamFollowResume(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2, "changelog-producer", "lookup")
	commits := 12
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for c := range commits {
			var cs []change
			for range 20 {
				id := int64(rand.IntN(30))
				if rand.IntN(4) == 0 {
					cs = append(cs, change{spec.RowKindDelete, spec.Row{id, nil, nil}})
				} else {
					cs = append(cs, change{spec.RowKindInsert, spec.Row{id, fmt.Sprint(c), 1.0}})
				}
			}
			msgs := writeAll(t, tb, cs, false)
			if _, err := tb.NewCommit("w").Commit(ctx, int64(c), msgs); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		}
	}()
	var got []Change
	for run := 0; ; run++ {
		s, err := tb.NewStream(WithStart(FromEarliest()), WithConsumer("f"), WithFollow(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, time.Duration(1+rng.IntN(20))*time.Millisecond)
		var out []Change
		for c, err := range s.Changes(rctx) {
			if err != nil {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("run %d: %v", run, err)
				}
				break
			}
			out = append(out, c)
		}
		cancel()
		if len(out) > 0 && len(got) > 0 {
			if last := got[len(got)-1].Snapshot; out[0].Snapshot < last {
				t.Fatalf("run %d resumed at snapshot %d, before %d", run, out[0].Snapshot, last)
			}
			k := len(got)
			for k > 0 && got[k-1].Snapshot >= out[0].Snapshot {
				k--
			}
			got = got[:k]
		}
		got = append(got, out...)
		select {
		case <-finished:
			latest, _ := tb.Snapshots().LatestID(ctx)
			if c, _ := tb.Consumer(ctx, "f"); c != nil && c.NextSnapshot == latest+1 {
				goto caughtUp
			}
		default:
		}
		if run > 10000 {
			t.Fatal("the follower never caught up")
		}
	}
caughtUp:
	latest, _ := tb.Snapshots().LatestID(ctx)
	var want []Change
	for c, err := range tb.Incremental(ctx, 0, latest) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
	}
	checkChanges(t, "follower killed and resumed", got, want)
}

// A full start after the end snapshot reads nothing and stores no
// progress.
func TestStreamFullBeyondEnd(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "changelog-producer", "input")
	for i := range int64(3) {
		commitUpserts(t, tb, i, i, i, "a")
	}
	if got := streamAll(t, tb, FromSnapshotFull(3), WithEndSnapshot(2), WithConsumer("b")); len(got) != 0 {
		t.Fatalf("full start after the end: %v", got)
	}
	if c, err := tb.Consumer(ctx, "b"); c != nil || err != nil {
		t.Fatalf("consumer: %v %v", c, err)
	}
}

// An append table streams each commit's rows as inserts.
func TestStreamAppendTable(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("day STRING NOT NULL, event STRING")
	sc, err := spec.NewSchema(fields, []string{"day"}, nil, spec.NewStringMap("bucket", "-1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Create(ctx, storage.NewMemory(), "db.db/events", sc)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for c := range 3 {
		w, err := tb.NewWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			row := spec.Row{"d0", fmt.Sprint(c, "-", i)}
			if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("+I%v@%d", row, c+1))
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tb.NewCommit("a").Commit(ctx, int64(c), msgs); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	var got []string
	for _, c := range streamAll(t, tb, FromEarliest()) {
		got = append(got, fmt.Sprintf("%v%v@%d", c.Kind, c.Row, c.Snapshot))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("append stream %v, want %v", got, want)
	}
}
