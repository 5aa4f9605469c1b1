package integration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/spec"
)

// state is the table's rows by the model.
func (r *crashRun) state() map[int64]string { return merged(r.half[0], r.half[1]) }

// batchRows is writer w's input for identifiers from base (JSON lines,
// odd or even keys) and its rows after each of them: after[i] once the
// first i rows are applied. Deterministic, so a rerun feeds the same rows.
func (r *crashRun) batchRows(w int, base int64, n int) (string, []map[int64]string) {
	rng := rand.New(rand.NewPCG(r.seed, uint64(base)*2+uint64(w)))
	cur := maps.Clone(r.half[w])
	after := []map[int64]string{maps.Clone(cur)}
	var in strings.Builder
	for i := range n {
		id := 2*rng.Int64N(crashKeys/2) + int64(w)
		if rng.IntN(4) == 0 {
			fmt.Fprintf(&in, "{\"id\":%d,\"_kind\":\"-D\"}\n", id)
			delete(cur, id)
		} else {
			v := fmt.Sprintf("w%d-%d-%d", w, base, i)
			fmt.Fprintf(&in, "{\"id\":%d,\"v\":%q}\n", id, v)
			cur[id] = v
		}
		after = append(after, maps.Clone(cur))
	}
	return in.String(), after
}

var (
	wroteRe     = regexp.MustCompile(`(?m)^snapshot (\d+): wrote`)
	committedRe = regexp.MustCompile(`already committed \(snapshot (\d+)\)`)
)

// writeJob is one writer's command of a round.
type writeJob struct {
	w         int
	args      []string
	in        string
	after     []map[int64]string // rows after 0, 1, ... commits of this command
	idents    []int64            // the identifiers of its commits
	env       []string
	killAfter time.Duration
	died      bool
	out       string
	err       error
	landed    int // commits visible after a kill (-1: unknown)
}

// jobs builds the round's two writer commands: writer 0 one checkpoint
// (one commit), writer 1 a stream of rows committed every few rows.
func (r *crashRun) jobs() [2]*writeJob {
	var js [2]*writeJob
	c := r.ckpt + 1
	in, after := r.batchRows(0, c, 20+r.rng.IntN(30))
	js[0] = &writeJob{w: 0, in: in, after: []map[int64]string{after[0], after[len(after)-1]}, idents: []int64{c},
		args: []string{"write", crashTable, "--commit-user", "job0", "--checkpoint", fmt.Sprint(c)}}
	base := c + 1
	n, every := 30+r.rng.IntN(40), 8+r.rng.IntN(10)
	in, after = r.batchRows(1, base, n)
	j := &writeJob{w: 1, in: in, after: []map[int64]string{after[0]},
		args: []string{"write", crashTable, "--commit-user", "job1", "--checkpoint", fmt.Sprint(base), "--commit-every", fmt.Sprint(every)}}
	for k := every; ; k += every {
		k = min(k, n)
		j.after = append(j.after, after[k])
		j.idents = append(j.idents, base+int64(k))
		if k == n {
			break
		}
	}
	js[1] = j
	r.ckpt = base + int64(n)
	return js
}

// write runs both writers at once. With crash, writer 0 dies at point (or
// at a random moment), and writer 1 at a random point or moment: the table
// then shows, for each writer's keys, the rows after some whole number of
// its commits, and the reruns of the same commands commit the rest, each
// commit exactly once.
func (r *crashRun) write(point string, crash bool) {
	r.t.Helper()
	js := r.jobs()
	stop := r.collectAnswers()
	if crash {
		js[0].env, js[0].killAfter = r.crashEnv(point, 2), r.randomDelay(point, 400)
		p1 := writePoints[r.rng.IntN(len(writePoints))]
		js[1].env, js[1].killAfter = r.crashEnv(p1, 4), r.randomDelay(p1, 800)
	}
	r.runJobs(js, "write")
	if js[0].died || js[1].died {
		got := r.scan()
		for _, j := range js {
			j.landed = r.landed(j, got)
		}
	}
	for _, j := range js {
		j.env, j.killAfter = nil, 0
	}
	r.runJobs(js, "")
	for _, j := range js {
		r.checkRerun(j)
		for i, id := range j.idents {
			r.after[j.w][id] = j.after[i+1]
		}
		r.half[j.w] = j.after[len(j.after)-1]
	}
	answers := stop()
	r.syncHist()
	r.checked.answers += len(answers)
	for _, a := range answers {
		if exp := r.stateAt(a.snap); !maps.Equal(a.rows, exp) {
			r.t.Fatalf("round %d: while the writers ran, the lookup server answered at snapshot %d unlike that snapshot\n%s", r.round, a.snap, r.diff(a.rows, exp))
		}
	}
}

// collectAnswers asks the lookup server for every key, again and again,
// until the returned stop is called; stop returns the answers. Answers
// from before a rollback the server has not followed yet are left out.
func (r *crashRun) collectAnswers() func() []served {
	done := make(chan struct{})
	out := make(chan []served, 1)
	floor := r.rolledBack
	go func() {
		var answers []served
		for {
			select {
			case <-done:
				out <- answers
				return
			case <-time.After(15 * time.Millisecond):
			}
			if a, err := r.lookupAll(); err == nil && (floor == 0 || a.snap <= floor) {
				answers = append(answers, a)
			}
		}
	}()
	return func() []served {
		close(done)
		return <-out
	}
}

// runJobs runs the writers at once and fails on any failure.
func (r *crashRun) runJobs(js [2]*writeJob, kind string) {
	r.t.Helper()
	var wg sync.WaitGroup
	for _, j := range js {
		wg.Go(func() {
			j.out, j.died, j.err = r.runProc(kind, j.env, j.killAfter, j.in, j.args...)
		})
	}
	wg.Wait()
	for _, j := range js {
		if j.err != nil {
			r.t.Fatalf("round %d: writer %d: %v", r.round, j.w, j.err)
		}
	}
}

// landed finds how many of j's commits the table shows after a kill: its
// keys must hold the rows after a whole number of them.
func (r *crashRun) landed(j *writeJob, got map[int64]string) int {
	r.t.Helper()
	mine := map[int64]string{}
	for k, v := range got {
		if int(k%2) == j.w {
			mine[k] = v
		}
	}
	found := -1
	for i, st := range j.after {
		if maps.Equal(mine, st) {
			if found >= 0 {
				return -1 // two commits leave the same rows: either may have landed
			}
			found = i
		}
	}
	if found < 0 {
		r.t.Fatalf("round %d: after writer %d was killed its keys hold the rows after no whole number of its commits\n%s",
			r.round, j.w, r.diff(mine, j.after[len(j.after)-1]))
	}
	return found
}

// checkRerun checks a writer's rerun after a kill: writer 0's says its
// checkpoint committed exactly when the table showed it.
func (r *crashRun) checkRerun(j *writeJob) {
	r.t.Helper()
	if j.w != 0 {
		return
	}
	if m := wroteRe.FindStringSubmatch(j.out); m != nil {
		ensure(r.t, !j.died || j.landed != 1, "round %d: checkpoint %d was visible after the kill, and the rerun wrote it again: %s", r.round, j.idents[0], j.out)
	} else if m := committedRe.FindStringSubmatch(j.out); m != nil {
		ensure(r.t, !j.died || j.landed != 0, "round %d: checkpoint %d was not visible after the kill, and the rerun says it is committed: %s", r.round, j.idents[0], j.out)
	} else {
		r.t.Fatalf("round %d: checkpoint %d: unexpected output %q", r.round, j.idents[0], j.out)
	}
}

// syncHist adds the APPEND snapshots published since the last sync to the
// history, each with the rows its writer had after its identifier; a
// snapshot of an identifier no writer finished is a failure.
func (r *crashRun) syncHist() {
	r.t.Helper()
	ctx := context.Background()
	snaps := r.table().Snapshots()
	ids, err := snaps.IDs(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, id := range ids {
		if id <= r.histMax {
			continue
		}
		s, err := snaps.Get(ctx, id)
		if errors.Is(err, spec.ErrNotFound) && id < r.epochStart {
			continue // a compaction's, expired: the writers' are all kept
		}
		if err != nil {
			r.t.Fatalf("round %d: snapshot %d: %v", r.round, id, err)
		}
		r.histMax = id
		if s.CommitKind != spec.CommitKindAppend {
			continue
		}
		w := -1
		switch {
		case strings.HasSuffix(s.CommitUser, "job0"):
			w = 0
		case strings.HasSuffix(s.CommitUser, "job1"):
			w = 1
		}
		half := r.after[max(w, 0)][s.CommitIdentifier]
		ensure(r.t, w >= 0 && half != nil, "round %d: snapshot %d (%s, identifier %d) commits nothing the writers wrote", r.round, id, s.CommitUser, s.CommitIdentifier)
		r.hist = append(r.hist, histEntry{id, w, half})
	}
}

// randomDelay is when a run without a point is killed: a random moment
// of its first ms milliseconds (0: never, the point kills it).
func (r *crashRun) randomDelay(point string, ms int) time.Duration {
	if point != "" {
		return 0
	}
	return time.Duration(1+r.rng.IntN(ms)) * time.Millisecond
}

// clockEnv makes every file two hours old to orphan cleaning, whose age
// guard is at least an hour: nothing else writes to the table then.
var clockEnv = []string{"STRATA_CRASH_CLOCK=2h"}

// maintain runs one foreground round of strata maintain with orphan
// cleaning, dying at point, then again to the end.
func (r *crashRun) maintain(point string) {
	r.t.Helper()
	args := []string{"maintain", crashTable, "--full-every", "1ms", "--orphans", "--orphan-age", "1h"}
	r.runKill("maintain", append(r.crashEnv(point, 2), clockEnv...), r.randomDelay(point, 500), "", args...)
	r.check()
	r.runKill("", clockEnv, 0, "", args...)
}

// expire runs strata expire, dying at point, then again to the end.
func (r *crashRun) expire(point string) {
	r.t.Helper()
	nth := 1 // one pass over the expired snapshots per run
	if point == faultpoint.ExpireDataFileDeleted {
		nth = 3
	}
	r.runKill("expire", r.crashEnv(point, nth), r.randomDelay(point, 300), "", "expire", crashTable)
	r.check()
	r.runKill("", nil, 0, "", "expire", crashTable)
}

// compact runs strata compact --full, dying at point, then again.
func (r *crashRun) compact(point string) {
	r.t.Helper()
	args := []string{"compact", crashTable, "--full"}
	r.runKill("compact", r.crashEnv(point, 1), r.randomDelay(point, 400), "", args...)
	r.check()
	r.runKill("", nil, 0, "", args...)
}

// orphans runs strata orphans, dying at point, then again to the end.
func (r *crashRun) orphans(point string) {
	r.t.Helper()
	args := []string{"orphans", crashTable, "--older-than", "1h"}
	r.runKill("orphans", append(r.crashEnv(point, 3), clockEnv...), r.randomDelay(point, 200), "", args...)
	r.check()
	r.runKill("", clockEnv, 0, "", args...)
}

// tag creates a tag of the latest snapshot, or deletes the oldest tag,
// its process dying at point; the tag is then there whole or not at all.
func (r *crashRun) tag(point string) {
	r.t.Helper()
	del := point == faultpoint.TagBeforeDelete || (point == "" && len(r.tags) > 0 && r.rng.IntN(2) == 0) || len(r.tags) > 3
	if del && len(r.tags) == 0 {
		r.createTag("")
	}
	if !del {
		r.createTag(point)
		return
	}
	name := r.oldestTag()
	r.runKill("tag", r.crashEnv(point, 1), r.randomDelay(point, 150), "", "tag", "delete", crashTable, name)
	if r.hasTag(name) {
		r.ok("", "tag", "delete", crashTable, name)
	}
	ensure(r.t, !r.hasTag(name), "round %d: tag %s deleted, still there", r.round, name)
	delete(r.tags, name)
}

func (r *crashRun) createTag(point string) {
	r.t.Helper()
	name := fmt.Sprintf("t%d", r.ckpt)
	if _, ok := r.tags[name]; ok {
		return
	}
	r.runKill("tag", r.crashEnv(point, 1), r.randomDelay(point, 150), "", "tag", "create", crashTable, name)
	if !r.hasTag(name) {
		r.ok("", "tag", "create", crashTable, name)
	}
	tg, err := r.table().Tag(context.Background(), name)
	if err != nil {
		r.t.Fatalf("round %d: tag %s: %v", r.round, name, err)
	}
	r.tags[name] = tagEntry{tg.Snapshot.ID, r.half}
}

func (r *crashRun) hasTag(name string) bool {
	_, err := r.table().Tag(context.Background(), name)
	return err == nil
}

func (r *crashRun) oldestTag() string {
	best := ""
	for n, tg := range r.tags {
		if best == "" || tg.snap < r.tags[best].snap {
			best = n
		}
	}
	return best
}

// rollback rolls the table back to a random tag (made first when there is
// none), its process dying at point. A half-done rollback shows the rows
// of a snapshot between the tag's and the latest; the rerun finishes it.
func (r *crashRun) rollback(point string) {
	r.t.Helper()
	if len(r.tags) == 0 {
		r.createTag("")
		r.write("", false)
	}
	names := make([]string, 0, len(r.tags))
	for n := range r.tags {
		names = append(names, n)
	}
	slices.Sort(names)
	name := names[r.rng.IntN(len(names))]
	tg := r.tags[name]
	r.kill(r.tail, false) // its consumer moves back with the table
	r.tail = nil
	args := []string{"rollback", crashTable, "--tag", name}
	nth := 1 // the LATEST hint is written once
	if point == faultpoint.RollbackSnapshotDeleted {
		nth = 2
	}
	if _, died := r.runKill("rollback", r.crashEnv(point, nth), r.randomDelay(point, 200), "", args...); died {
		got := r.scan()
		ok := maps.Equal(got, merged(tg.half[0], tg.half[1]))
		for _, h := range r.hist {
			ok = ok || (h.snap > tg.snap && maps.Equal(got, r.stateAt(h.snap)))
		}
		ensure(r.t, ok, "round %d: a rollback to tag %s (snapshot %d) killed at %q shows the rows of no snapshot since\n%s",
			r.round, name, tg.snap, point, r.diff(got, merged(tg.half[0], tg.half[1])))
	}
	r.ok("", args...)
	r.half = tg.half
	for len(r.hist) > 0 && r.hist[len(r.hist)-1].snap > tg.snap {
		r.hist = r.hist[:len(r.hist)-1]
	}
	r.hist = append(r.hist, histEntry{tg.snap, 0, tg.half[0]}, histEntry{tg.snap, 1, tg.half[1]})
	r.histMax = tg.snap
	for n, other := range r.tags {
		if other.snap > tg.snap {
			delete(r.tags, n)
		}
	}
	r.rolledBack = tg.snap
	r.resetConsumer("c", tg.snap+1)
	r.resetConsumer("anchor", tg.snap+1)
	r.epochStart, r.tailRuns = tg.snap+1, nil
}
