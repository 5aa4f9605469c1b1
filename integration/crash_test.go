package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/faultpoint"
)

// TestCrashHarness runs real strata processes built with the
// strata_faultpoints tag over one table, locally and on MinIO, and kills
// them with SIGKILL, at random moments and at the named points of
// internal/faultpoint: two writers at once (strata write --checkpoint,
// one commit per command, and a --commit-every stream with checkpoints;
// both rerun until they succeed), strata maintain (a background loop, and
// rounds with orphan cleaning), strata compact --full, strata expire,
// strata orphans, strata tag create/delete, strata rollback --tag, strata
// serve (the lookup server) and strata tail --follow --consumer. Killed
// processes are started again. After every round:
//   - the table opens and scans to the model: every committed checkpoint's
//     rows exactly once; after a kill each writer's keys show the rows of
//     a whole number of its commits, and the rerun commits exactly the
//     rest (a checkpoint the table showed is reported committed, one it
//     did not show is written);
//   - no commit user has two APPEND snapshots of one identifier;
//   - the lookup server answers every key as the model's state at the
//     snapshot it reports, and reaches the latest within 30 s;
//
// and at the end of each epoch (every few rounds, before a rollback, at the
// end) the tail outputs since the epoch began, runs killed and resumed by
// consumer id, are the table's change stream over the epoch's snapshots
// with no gap and nothing repeated but the snapshot a run was killed in
// (a consumer "anchor" keeps those snapshots from expiring). An epoch ends
// where the stopped tail's consumer stands: the maintenance loop may
// commit while the tail catches up.
//
// At the end, what killed processes left in the temporary directory must
// be younger than the guard after which the next process removes it, and
// orphan cleaning must leave no temporary file of an unfinished write in a
// local warehouse.
//
// The seed is printed; STRATA_CRASH_SEED=N replays its choices (the
// processes' timing still varies). CI runs a short version: each named
// point once locally, a sample of 8 rounds on MinIO. The long run sets the
// number of rounds per backend, reports kills by process kind and point,
// and fails if a named point never fired (see docs/testing.md):
//
//	STRATA_CRASH_ROUNDS=250 go test ./integration -run TestCrashHarness -v -timeout 0
func TestCrashHarness(t *testing.T) {
	seed := rand.Uint64()
	if s := os.Getenv("STRATA_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("STRATA_CRASH_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (replay with STRATA_CRASH_SEED=%d)", seed, seed)
	rounds := 0
	if s := os.Getenv("STRATA_CRASH_ROUNDS"); s != "" {
		var err error
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 1 {
			t.Fatalf("STRATA_CRASH_ROUNDS=%q: want a positive number", s)
		}
	}
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-tags", "strata_faultpoints", "-o", bin, "../cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags strata_faultpoints strata: %v\n%s", err, out)
	}
	total := newKillCount()
	for i, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			r := newCrashRun(t, bin, backend, seed+uint64(i), total)
			start := time.Now()
			r.short = rounds == 0
			if r.short && backend == "s3" {
				r.planLimit = 8 // CI's budget: every point runs locally, a sample on MinIO
			}
			r.runRounds(rounds)
			el := time.Since(start)
			t.Logf("%s: %d rounds, %d kills in %v (%.0f kills/min); checked %d scans, %d lookup answers of %d keys, %d tail changes: none lost, duplicated or wrong\n%s",
				backend, r.round, r.kills.sum(), el.Round(time.Second), float64(r.kills.sum())/el.Minutes(),
				r.checked.scans, r.checked.answers, crashKeys, r.checked.changes, r.kills.report())
		})
	}
	t.Logf("all backends: %d processes killed\n%s", total.sum(), total.report())
	if rounds >= 200 && !t.Failed() {
		for _, p := range faultpoint.All {
			if !total.fired(p) {
				t.Errorf("no process died at point %s in %d rounds", p, rounds)
			}
		}
	}
}

// killCount counts the processes killed, by "kind point" (point "random":
// SIGKILL from the harness at a random moment).
type killCount struct {
	mu     sync.Mutex
	n      map[string]int
	missed map[string]int // a point named and not reached: the process finished
	parent *killCount
}

func newKillCount() *killCount { return &killCount{n: map[string]int{}, missed: map[string]int{}} }

func (k *killCount) miss(kind, point string) {
	for c := k; c != nil; c = c.parent {
		c.mu.Lock()
		c.missed[kind+" "+point]++
		c.mu.Unlock()
	}
}

// fired reports whether some process died at point.
func (k *killCount) fired(point string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key, n := range k.n {
		if strings.HasSuffix(key, " "+point) && n > 0 {
			return true
		}
	}
	return false
}

func (k *killCount) add(kind, point string) {
	for c := k; c != nil; c = c.parent {
		c.mu.Lock()
		c.n[kind+" "+point]++
		c.mu.Unlock()
	}
}

func (k *killCount) sum() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := 0
	for _, n := range k.n {
		s += n
	}
	return s
}

func (k *killCount) report() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys := make([]string, 0, len(k.n))
	for key := range k.n {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, key := range keys {
		fmt.Fprintf(&b, "  %-40s %d\n", key, k.n[key])
	}
	if len(k.missed) > 0 {
		keys = keys[:0]
		for key := range k.missed {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		b.WriteString("  named but not reached (the process finished first):\n")
		for _, key := range keys {
			fmt.Fprintf(&b, "  %-40s %d\n", key, k.missed[key])
		}
	}
	return b.String()
}

// Points by round kind; "" is a kill at a random moment. The lists for
// write, maintain and expire hold every point their processes pass.
var (
	writePoints = []string{faultpoint.FlushWritten, faultpoint.ManifestWritten, faultpoint.ManifestListWritten,
		faultpoint.SnapshotBeforePublish, faultpoint.SnapshotAfterPublish, faultpoint.CompactBeforeCommit,
		faultpoint.ExpireDataFileDeleted, faultpoint.ExpireFilesDeleted, faultpoint.ExpireBeforeHint, ""}
	compactPoints = []string{faultpoint.CompactBeforeCommit, faultpoint.ManifestWritten, faultpoint.ManifestListWritten,
		faultpoint.SnapshotBeforePublish, faultpoint.SnapshotAfterPublish, ""}
	maintainPoints = []string{faultpoint.CompactBeforeCommit, faultpoint.ManifestWritten, faultpoint.ManifestListWritten,
		faultpoint.SnapshotBeforePublish, faultpoint.SnapshotAfterPublish, faultpoint.ExpireDataFileDeleted,
		faultpoint.ExpireFilesDeleted, faultpoint.ExpireBeforeHint, faultpoint.OrphanDeleted, ""}
	expirePoints   = []string{faultpoint.ExpireDataFileDeleted, faultpoint.ExpireFilesDeleted, faultpoint.ExpireBeforeHint, ""}
	orphanPoints   = []string{faultpoint.OrphanDeleted, ""}
	tagPoints      = []string{faultpoint.TagBeforeCreate, faultpoint.TagBeforeDelete, ""}
	rollbackPoints = []string{faultpoint.RollbackHintWritten, faultpoint.RollbackSnapshotDeleted, ""}
	servePoints    = []string{faultpoint.LookupRefreshBuilt, ""}
	tailPoints     = []string{faultpoint.ConsumerBeforeWrite, faultpoint.ConsumerWritten, ""}
)

// step is one round's foreground work and the point its process dies at.
type step struct{ kind, point string }

// plan is the short run's rounds: each named point once, where a process
// surely passes it, and a random kill of each kind, in a random order.
func (r *crashRun) plan() []step {
	var steps []step
	add := func(kind string, points ...string) {
		for _, p := range points {
			steps = append(steps, step{kind, p})
		}
	}
	add("write", writePoints[:6]...)
	add("write", "")
	add("compact", faultpoint.CompactBeforeCommit)
	add("maintain", faultpoint.OrphanDeleted, "")
	add("expire", expirePoints...)
	add("orphans", orphanPoints...)
	add("tag", tagPoints...)
	add("rollback", rollbackPoints...)
	add("serve", servePoints...)
	add("tail", tailPoints...)
	r.rng.Shuffle(len(steps), func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
	return steps
}

// randomStep picks a long run's round.
func (r *crashRun) randomStep() step {
	pick := func(kind string, ps []string) step { return step{kind, ps[r.rng.IntN(len(ps))]} }
	switch n := r.rng.IntN(100); {
	case n < 40:
		return pick("write", writePoints)
	case n < 48:
		return pick("maintain", maintainPoints)
	case n < 55:
		return pick("compact", compactPoints)
	case n < 63:
		return pick("expire", expirePoints)
	case n < 68:
		return pick("orphans", orphanPoints)
	case n < 76:
		return pick("tag", tagPoints)
	case n < 81:
		return pick("rollback", rollbackPoints)
	case n < 90:
		return pick("serve", servePoints)
	default:
		return pick("tail", tailPoints)
	}
}

// runRounds runs the short plan (rounds 0) or that many random rounds.
func (r *crashRun) runRounds(rounds int) {
	r.setup()
	defer r.stopAll()
	steps := r.plan()
	if r.planLimit > 0 {
		steps = steps[:r.planLimit]
	}
	if rounds > 0 {
		steps = steps[:0]
		for range rounds {
			steps = append(steps, r.randomStep())
		}
	}
	for _, s := range steps {
		r.round++
		r.oneRound(s)
		if r.round%6 == 0 {
			r.endEpoch()
		}
		if r.round%50 == 0 {
			r.t.Logf("round %d: %d kills", r.round, r.kills.sum())
		}
	}
	r.endEpoch()
	r.checkLeftovers()
}

// oneRound: a checkpoint or two written with the background processes
// running (and killed now and then), then the round's step, then the
// checks.
func (r *crashRun) oneRound(s step) {
	r.t.Helper()
	r.ensureBackground(s.kind != "write")
	writes := 1 + r.rng.IntN(2)
	if r.short {
		writes = 1
	}
	for range writes {
		r.write("", false)
	}
	r.maybeKillBackground()
	switch s.kind {
	case "write":
		r.write(s.point, true)
	case "maintain":
		r.stopMaintain()
		r.maintain(s.point)
	case "compact":
		r.stopMaintain()
		r.compact(s.point)
	case "expire":
		r.stopMaintain()
		r.endEpoch() // the anchor moves on: the epoch's snapshots may expire
		r.expire(s.point)
	case "orphans":
		r.stopMaintain()
		r.orphans(s.point)
	case "tag":
		r.stopMaintain()
		r.tag(s.point)
	case "rollback":
		r.stopMaintain()
		r.endEpoch() // the stream before the rollback is checked whole
		r.rollback(s.point)
	case "serve":
		r.kill(r.serve, false)
		r.startServe(s.point)
		r.write("", false) // its refresh builds the new snapshot's state
		r.killSoon(r.serve, s.point)
	case "tail":
		r.kill(r.tail, false)
		r.startTail(s.point)
		r.write("", false)
		r.killSoon(r.tail, s.point)
	}
	r.check()
}

// crashEnv is the environment of a process that dies at point's nth hit
// (nothing for a random kill).
func (r *crashRun) crashEnv(point string, maxNth int) []string {
	if point == "" {
		return nil
	}
	return []string{fmt.Sprintf("STRATA_CRASH_AT=%s:%d", point, 1+r.rng.IntN(maxNth))}
}

// ensure fails the test with the process's stderr unless cond holds.
func ensure(t *testing.T, cond bool, format string, args ...any) {
	t.Helper()
	if !cond {
		t.Fatalf(format, args...)
	}
}

// keysOf lists a state's keys in order, for messages.
func keysOf(m map[int64]string) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
