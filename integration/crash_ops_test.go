package integration

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stratalake/strata/internal/faultpoint"
)

// ckptRows is checkpoint c's input (JSON lines) and the state after it:
// deterministic, so a rerun feeds the same rows.
func (r *crashRun) ckptRows(c int) (string, map[int64]string) {
	rng := rand.New(rand.NewPCG(r.seed, uint64(c)))
	next := maps.Clone(r.state)
	var in strings.Builder
	for i := range 20 + rng.IntN(30) {
		id := rng.Int64N(crashKeys)
		if rng.IntN(4) == 0 {
			fmt.Fprintf(&in, "{\"id\":%d,\"_kind\":\"-D\"}\n", id)
			delete(next, id)
		} else {
			v := fmt.Sprintf("c%d-%d", c, i)
			fmt.Fprintf(&in, "{\"id\":%d,\"v\":%q}\n", id, v)
			next[id] = v
		}
	}
	return in.String(), next
}

var (
	wroteRe     = regexp.MustCompile(`(?m)^snapshot (\d+): wrote`)
	committedRe = regexp.MustCompile(`already committed \(snapshot (\d+)\)`)
)

// write writes the next checkpoint. With crash, its first run dies at
// point (or at a random moment): the table then shows the state before
// the checkpoint or after it, and the rerun of the same command commits
// it or says it is committed, matching what the table showed.
func (r *crashRun) write(point string, crash bool) {
	r.t.Helper()
	c := r.ckpt + 1
	in, next := r.ckptRows(c)
	args := []string{"write", crashTable, "--commit-user", "job", "--checkpoint", strconv.Itoa(c)}
	landed, known := false, false
	if crash {
		if _, died := r.runKill("write", r.crashEnv(point, 2), r.randomDelay(point, 400), in, args...); died {
			got := r.scan()
			switch {
			case maps.Equal(got, next) && maps.Equal(got, r.state):
			case maps.Equal(got, next):
				landed, known = true, true
			case maps.Equal(got, r.state):
				known = true
			default:
				r.t.Fatalf("round %d: after a write of checkpoint %d killed at %q the table holds neither the state before it nor after it\n%s",
					r.round, c, point, r.diff(got, next))
			}
		}
	}
	out, _ := r.runKill("", nil, 0, in, args...)
	var snap int64
	if m := wroteRe.FindStringSubmatch(out); m != nil {
		ensure(r.t, !(known && landed), "round %d: checkpoint %d was visible after the kill, and the rerun wrote it again: %s", r.round, c, out)
		snap, _ = strconv.ParseInt(m[1], 10, 64)
	} else if m := committedRe.FindStringSubmatch(out); m != nil {
		ensure(r.t, !known || landed, "round %d: checkpoint %d was not visible after the kill, and the rerun says it is committed: %s", r.round, c, out)
		snap, _ = strconv.ParseInt(m[1], 10, 64)
	} else {
		r.t.Fatalf("round %d: checkpoint %d: unexpected output %q", r.round, c, out)
	}
	r.ckpt, r.state = c, next
	r.byCkpt[c] = next
	r.hist = append(r.hist, histEntry{snap, next})
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
	r.runKill("expire", r.crashEnv(point, 2), r.randomDelay(point, 300), "", "expire", crashTable)
	r.check()
	r.runKill("", nil, 0, "", "expire", crashTable)
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
	r.tags[name] = tagEntry{r.ckpt, tg.Snapshot.ID}
}

func (r *crashRun) hasTag(name string) bool {
	_, err := r.table().Tag(context.Background(), name)
	return err == nil
}

func (r *crashRun) oldestTag() string {
	best := ""
	for n, tg := range r.tags {
		if best == "" || tg.ckpt < r.tags[best].ckpt {
			best = n
		}
	}
	return best
}

// rollback rolls the table back to a random tag (made first when there is
// none), its process dying at point. A half-done rollback shows a state
// some checkpoint since the tag left; the rerun finishes it.
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
		ok := false
		for c := tg.ckpt; c <= r.ckpt && !ok; c++ {
			ok = r.byCkpt[c] != nil && maps.Equal(got, r.byCkpt[c])
		}
		ensure(r.t, ok, "round %d: a rollback to tag %s (checkpoint %d) killed at %q shows a state no checkpoint since left\n%s",
			r.round, name, tg.ckpt, point, r.diff(got, r.byCkpt[tg.ckpt]))
	}
	r.ok("", args...)
	r.state = r.byCkpt[tg.ckpt]
	for len(r.hist) > 0 && r.hist[len(r.hist)-1].snap > tg.snap {
		r.hist = r.hist[:len(r.hist)-1]
	}
	r.hist = append(r.hist, histEntry{tg.snap, r.state})
	for n, other := range r.tags {
		if other.snap > tg.snap {
			delete(r.tags, n)
		}
	}
	r.rolledBack = tg.snap
	r.resetConsumer("c", tg.snap+1)
	r.resetConsumer("anchor", tg.snap+1)
	r.epochStart, r.tailOuts = tg.snap+1, nil
}
