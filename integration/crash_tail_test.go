package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// tailRun is one strata tail --follow --consumer process of an epoch.
type tailRun struct {
	out   string // the file its stdout went to
	proc  *bgProc
	round int    // the round it started in
	point string // the point it was to die at ("": none)
}

// runLine is a change as a tail run printed it.
type runLine struct {
	tailLine
	run int // index in the epoch's runs
}

// endEpoch lets the tail catch up with the latest snapshot, stops it,
// and compares what its runs printed since the epoch began with the
// table's change stream over those snapshots; then a new epoch begins
// after them.
func (r *crashRun) endEpoch() {
	r.t.Helper()
	ctx := context.Background()
	r.syncHist()
	latest, err := r.table().Snapshots().LatestID(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	if latest < r.epochStart {
		return
	}
	if r.tail == nil || r.exited(r.tail) {
		r.startTail("")
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := r.table().Consumer(ctx, "c")
		if err != nil {
			r.t.Fatal(err)
		}
		if c != nil && c.NextSnapshot > latest {
			break
		}
		if r.exited(r.tail) {
			r.startTail("")
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("round %d: the tail did not reach snapshot %d in 60 s\n%s", r.round, latest, r.tail.stderr.String())
		}
	}
	r.stop(r.tail)
	r.tail = nil
	// The epoch ends where the stopped tail's consumer stands, not at
	// latest: the background maintenance loop may go on committing
	// (compactions whose changelog holds the changes of level-0 files a
	// killed writer left), and the tail may print those snapshots before
	// SIGTERM stops it. What it printed of the snapshot the consumer reads
	// next, cut by SIGTERM, is printed again by the next epoch's first run.
	c, err := r.table().Consumer(ctx, "c")
	if err != nil {
		r.t.Fatal(err)
	}
	until := c.NextSnapshot - 1
	ref := parseTail(r.t, r.ok("", "tail", crashTable, "--from", fmt.Sprint(r.epochStart), "--until", fmt.Sprint(until), "--with-snapshot"))
	got, runs := r.tailOutput()
	for len(got) > 0 && got[len(got)-1].snapshot > until {
		got = got[:len(got)-1]
	}
	if msg := tailMismatch(got, ref); msg != "" {
		r.t.Fatalf("round %d: the tail runs' output over snapshots %d-%d (after dropping the snapshot a killed run printed again) is not the stream\n%s\n  the runs:\n%s",
			r.round, r.epochStart, until, msg, runs)
	}
	r.checked.changes += len(ref)
	r.epochStart, r.tailRuns = until+1, nil
	r.resetConsumer("anchor", until+1)
}

// tailOutput joins what the epoch's tail runs printed: a run resumed by
// consumer id replaces what the run before printed of the snapshot it
// starts at (a killed run prints that one again), and must not start
// before it. It also describes the runs, for messages.
func (r *crashRun) tailOutput() ([]runLine, string) {
	r.t.Helper()
	var got []runLine
	var desc strings.Builder
	for i, run := range r.tailRuns {
		data, err := os.ReadFile(run.out)
		if err != nil {
			r.t.Fatal(err)
		}
		lines := parseTail(r.t, string(data))
		fmt.Fprintf(&desc, "    run %d (round %d, point %q, %s): %d changes", i, run.round, run.point, run.proc.end, len(lines))
		if len(lines) > 0 {
			fmt.Fprintf(&desc, " of snapshots %d-%d", lines[0].snapshot, lines[len(lines)-1].snapshot)
		}
		if n := len(got); n > 0 && len(lines) > 0 {
			last := got[n-1].snapshot
			ensure(r.t, lines[0].snapshot >= last, "round %d: tail run %d resumed at snapshot %d, before %d, the last one the run before printed (a repeat)\n%s",
				r.round, i, lines[0].snapshot, last, desc.String())
			for n > 0 && got[n-1].snapshot >= lines[0].snapshot {
				n--
			}
			if n < len(got) {
				fmt.Fprintf(&desc, ", %d printed again", len(got)-n)
			}
			got = got[:n]
		}
		desc.WriteByte('\n')
		for _, l := range lines {
			got = append(got, runLine{l, i})
		}
	}
	return got, desc.String()
}

// tailMismatch describes the first change where what the runs printed
// differs from the stream, and the snapshots around it ("" when they are
// the same).
func tailMismatch(got []runLine, ref []tailLine) string {
	i := 0
	for i < len(got) && i < len(ref) && got[i].tailLine == ref[i] {
		i++
	}
	if i == len(got) && i == len(ref) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %d changes printed, the stream has %d; the first difference is change %d:\n", len(got), len(ref), i)
	var at int64 = -1
	if i < len(got) {
		fmt.Fprintf(&b, "    printed (run %d): %s", got[i].run, got[i].line)
		at = got[i].snapshot
	} else {
		b.WriteString("    printed: nothing more\n")
	}
	if i < len(ref) {
		fmt.Fprintf(&b, "    stream:          %s", ref[i].line)
		if at < 0 || ref[i].snapshot < at {
			at = ref[i].snapshot
		}
	} else {
		b.WriteString("    stream: nothing more\n")
	}
	// Changes per snapshot, three snapshots with changes either side.
	printed, stream := map[int64]int{}, map[int64]int{}
	by := map[int64][]int{}
	var ids []int64
	for _, l := range got {
		if printed[l.snapshot]++; printed[l.snapshot] == 1 {
			ids = append(ids, l.snapshot)
		}
		if rs := by[l.snapshot]; len(rs) == 0 || rs[len(rs)-1] != l.run {
			by[l.snapshot] = append(rs, l.run)
		}
	}
	for _, l := range ref {
		if stream[l.snapshot]++; stream[l.snapshot] == 1 && printed[l.snapshot] == 0 {
			ids = append(ids, l.snapshot)
		}
	}
	slices.Sort(ids)
	k, _ := slices.BinarySearch(ids, at)
	for _, id := range ids[max(k-3, 0):min(k+4, len(ids))] {
		fmt.Fprintf(&b, "    snapshot %d: printed %d (runs %v), the stream has %d\n", id, printed[id], by[id], stream[id])
	}
	if len(got) > 0 && len(ref) > 0 && got[len(got)-1].snapshot > ref[len(ref)-1].snapshot {
		fmt.Fprintf(&b, "    the runs printed changes up to snapshot %d, the stream's last are of snapshot %d\n", got[len(got)-1].snapshot, ref[len(ref)-1].snapshot)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestTailMismatch: the epoch check's message points at the first change
// that differs and counts the changes of the snapshots around it.
func TestTailMismatch(t *testing.T) {
	l := func(snap int64, v string) tailLine {
		return tailLine{snap, fmt.Sprintf("{\"_kind\":\"+I\",\"_snapshot\":%d,\"v\":%q}\n", snap, v)}
	}
	ref := []tailLine{l(3, "a"), l(3, "b"), l(5, "c"), l(7, "d")}
	var got []runLine
	for i, x := range ref {
		got = append(got, runLine{x, i / 2})
	}
	if msg := tailMismatch(got, ref); msg != "" {
		t.Fatalf("the same changes: %s", msg)
	}
	for _, c := range []struct {
		name string
		got  []runLine
		want []string
	}{
		{"one more", append(slices.Clone(got), runLine{l(9, "e"), 2}),
			[]string{"5 changes printed, the stream has 4; the first difference is change 4", `printed (run 2): {"_kind":"+I","_snapshot":9,"v":"e"}`,
				"stream: nothing more", "snapshot 9: printed 1 (runs [2]), the stream has 0", "up to snapshot 9, the stream's last are of snapshot 7"}},
		{"one missing", slices.Delete(slices.Clone(got), 2, 3),
			[]string{"change 2:", `printed (run 1): {"_kind":"+I","_snapshot":7`, `stream:          {"_kind":"+I","_snapshot":5`,
				"snapshot 3: printed 2 (runs [0]), the stream has 2", "snapshot 5: printed 0 (runs []), the stream has 1"}},
	} {
		msg := tailMismatch(c.got, ref)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: the message lacks %q:\n%s", c.name, w, msg)
			}
		}
	}
}
