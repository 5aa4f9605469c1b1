package table

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/miniotest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/storage/faulty"
)

var (
	faultsSeed   = flag.Uint64("faults.seed", 0, "TestFaultsModel: replay the round with this seed (default: drawn per round)")
	faultsRounds = flag.Int("faults.rounds", 0, "TestFaultsModel: rounds per backend (default 4 in memory, 2 on local disk, 1 on MinIO; 1 with -faults.seed)")
)

// TestFaultsModel runs random workloads (checkpoints written and committed
// by one job, dedicated compactions, snapshot expiration, orphan cleaning)
// on storage that fails, slows, tears writes and loses answers (see
// storage/faulty), in memory, on local disk and on MinIO. After every
// failed operation the table is opened on the same storage, healed, and
// must equal the model of the checkpoints committed so far, the failed one
// included exactly when its commit user's snapshots say it landed: nothing
// lost, nothing duplicated (the aggregation tables sum, so a checkpoint
// committed twice shows), nothing uncommitted visible. The job then
// resumes as a restarted writer does: it skips a checkpoint that landed and
// writes it again otherwise.
//
// Each round prints its seed; -faults.seed replays one round (the workload
// and the rules exactly; the faults too, up to the order of the calls the
// table makes concurrently). The long run, which also prints the faults
// injected by kind:
//
//	go test ./table -run TestFaultsModel -faults.rounds 200 -v
func TestFaultsModel(t *testing.T) {
	type backend struct {
		name          string
		rounds, steps int
		open          func(t *testing.T) storage.Storage
	}
	backends := []backend{
		{"memory", 4, 40, func(*testing.T) storage.Storage { return storage.NewMemory() }},
		{"local", 2, 30, func(t *testing.T) storage.Storage {
			l, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return l
		}},
		{"s3", 1, 12, func(t *testing.T) storage.Storage {
			srv := miniotest.Shared(t)
			bucket := miniotest.BucketName(t)
			srv.NewBucket(t, bucket)
			s, err := storage.NewS3(context.Background(), bucket, "wh",
				storage.WithEndpoint(srv.Endpoint), storage.WithRegion(miniotest.Region),
				storage.WithStaticCredentials(srv.AccessKey, srv.SecretKey, ""))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
	var mu sync.Mutex
	total := map[faulty.Kind]int64{}
	var failures, steps int
	for _, b := range backends {
		rounds := b.rounds
		if *faultsRounds > 0 {
			rounds = *faultsRounds
			if b.name == "s3" {
				rounds = max(1, rounds/10)
			}
		}
		if *faultsSeed != 0 {
			rounds = 1
		}
		for range rounds {
			seed := *faultsSeed
			if seed == 0 {
				seed = rand.Uint64()
			}
			t.Run(fmt.Sprintf("%s/seed=%d", b.name, seed), func(t *testing.T) {
				t.Logf("replay: go test ./table -run 'TestFaultsModel/%s/seed=%d' -faults.seed %d -v", b.name, seed, seed)
				m := newFaultModel(t, b.open(t), seed)
				m.run(b.steps)
				mu.Lock()
				defer mu.Unlock()
				for k, n := range m.fs.Counts() {
					total[k] += n
				}
				failures += m.failures
				steps += m.steps
				t.Logf("%d steps, %d failed operations checked, faults: %s", m.steps, m.failures, faulty.FormatCounts(m.fs.Counts()))
			})
		}
	}
	t.Logf("in all: %d steps, %d failed operations checked, faults injected by kind: %s", steps, failures, faulty.FormatCounts(total))
}

// faultModel is one round: a table on faulty storage and the model of what
// its job committed.
type faultModel struct {
	t       *testing.T
	ctx     context.Context
	rng     *rand.Rand
	fs      *faulty.Storage
	healthy storage.Storage
	rules   []faulty.Rule
	agg     bool               // an aggregation table (sums), else deduplicate
	model   map[int64]spec.Row // the committed rows
	next    int64              // the next checkpoint's identifier

	steps, failures int
	history         []string // the last steps and failures, told when the round fails
}

// logf records what the round did; fatalf tells it with the failure, so
// that -v stays short on long runs.
func (m *faultModel) logf(format string, args ...any) {
	const keep = 80
	if len(m.history) == keep {
		m.history = m.history[1:]
	}
	m.history = append(m.history, fmt.Sprintf(format, args...))
}

func (m *faultModel) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("%s\nthe round's last steps:\n  %s", fmt.Sprintf(format, args...), strings.Join(m.history, "\n  "))
}

const faultTable = "db.db/t"

func newFaultModel(t *testing.T, inner storage.Storage, seed uint64) *faultModel {
	m := &faultModel{
		t: t, ctx: context.Background(), rng: rand.New(rand.NewPCG(seed, 13)),
		healthy: inner, model: map[int64]spec.Row{}, next: 1,
	}
	m.agg = m.rng.IntN(3) > 0
	m.rules = faultRules(m.rng)
	m.fs = faulty.New(inner, seed, m.rules...)
	fields := []spec.DataField{
		{ID: 0, Name: "id", Type: spec.BigIntType.NotNull()},
		{ID: 1, Name: "n", Type: spec.BigIntType},
		{ID: 2, Name: "s", Type: spec.StringType},
	}
	opts := []string{"bucket", fmt.Sprint(1 + m.rng.IntN(3)),
		"num-sorted-run.compaction-trigger", fmt.Sprint(2 + m.rng.IntN(3)),
		"snapshot.num-retained.min", "2", "snapshot.num-retained.max", fmt.Sprint(3 + m.rng.IntN(4))}
	if m.agg {
		opts = append(opts, "merge-engine", "aggregation",
			"fields.n.aggregate-function", "sum", "fields.s.aggregate-function", "last_non_null_value")
	} else if m.rng.IntN(2) == 0 {
		opts = append(opts, "deletion-vectors.enabled", "true")
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(opts...), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(m.ctx, inner, faultTable, sc); err != nil {
		t.Fatal(err)
	}
	t.Logf("aggregation=%v options %v", m.agg, opts)
	return m
}

// faultRules draws a round's faults: lost answers of snapshot publication
// often, and rarely anywhere else failures (injected, disk full, permission
// denied), lost answers, torn streamed writes, truncated reads of JSON
// metadata (which cannot parse cut short) and slow calls.
func faultRules(rng *rand.Rand) []faulty.Rule {
	p := 0.002 + 0.015*rng.Float64()
	enospc := &fs.PathError{Op: "write", Path: "warehouse", Err: syscall.ENOSPC}
	eacces := &fs.PathError{Op: "open", Path: "warehouse", Err: syscall.EACCES}
	return []faulty.Rule{
		{Ops: faulty.OpPutIfAbsent, Path: faulty.PatternSnapshot, Kind: faulty.LoseAnswer, Prob: 0.1 + 0.3*rng.Float64()},
		{Ops: faulty.OpGet, Path: "*snapshot/*", Kind: faulty.Truncate, Prob: p},
		{Ops: faulty.OpGet, Path: faulty.PatternSchema, Kind: faulty.Truncate, Prob: p},
		{Kind: faulty.Fail, Prob: p / 3},
		{Ops: faulty.OpWrites, Kind: faulty.Fail, Prob: p / 3, Err: enospc},
		{Kind: faulty.Fail, Prob: p / 3, Err: eacces},
		{Ops: faulty.OpPut | faulty.OpPutIfAbsent | faulty.OpClose | faulty.OpDelete, Kind: faulty.LoseAnswer, Prob: p},
		{Ops: faulty.OpWrite, Kind: faulty.Truncate, Prob: p, Err: enospc},
		{Kind: faulty.Slow, Prob: 0.01, Delay: time.Millisecond},
	}
}

func (m *faultModel) run(steps int) {
	for range steps {
		m.steps++
		switch r := m.rng.IntN(10); {
		case r < 6:
			m.logf("step %d: checkpoint %d", m.steps, m.next)
			m.checkpoint()
		case r < 8:
			m.maintain("compact", func(tb *Table) error {
				_, err := tb.Compact(m.ctx, m.rng.IntN(2) == 0, "compactor", nil)
				return err
			})
		case r < 9:
			m.maintain("expire", func(tb *Table) error {
				_, err := tb.ExpireSnapshots(m.ctx)
				return err
			})
		default:
			m.maintain("clean-orphans", func(tb *Table) error {
				_, err := tb.CleanOrphans(m.ctx, WithOrphanAge(0))
				return err
			})
		}
		m.check(fmt.Sprintf("step %d", m.steps), 0, nil)
	}
	// A deletion-vector table shows level-0 rows only once compacted: after
	// a full compaction the plain scan must show the model too.
	m.fs.Heal()
	tb, err := Open(m.ctx, m.healthy, faultTable)
	if err != nil {
		m.fatalf("%v", err)
	}
	if _, err := tb.Compact(m.ctx, true, "compactor", nil); err != nil {
		m.fatalf("final compaction: %v", err)
	}
	m.check("the final compaction", 0, nil)
	if diff := diffRows(m.scan("the final compaction", tb), m.model); diff != "" {
		m.fatalf("after the final compaction, the table's scan differs from the model:\n%s", diff)
	}
}

func (m *faultModel) scan(what string, tb *Table, opts ...ScanOption) []spec.Row {
	m.t.Helper()
	var got []spec.Row
	for r, err := range tb.NewScan(opts...).Rows(m.ctx) {
		if err != nil {
			m.fatalf("after %s: the latest snapshot does not read: %v", what, err)
		}
		got = append(got, r)
	}
	return got
}

// change is one row written by a checkpoint.
type faultChange struct {
	kind spec.RowKind
	row  spec.Row
}

func (m *faultModel) genCheckpoint() []faultChange {
	n := 10 + m.rng.IntN(60)
	out := make([]faultChange, 0, n)
	seen := map[int64]bool{}
	for range n {
		id := m.rng.Int64N(150)
		if seen[id] {
			continue // one change per key keeps the model's order simple
		}
		seen[id] = true
		var s any = fmt.Sprintf("s-%d-%d", id, m.rng.IntN(1000))
		if m.rng.IntN(8) == 0 {
			s = nil
		}
		row := spec.Row{id, int64(1 + m.rng.IntN(5)), s}
		if !m.agg && m.rng.IntN(5) == 0 {
			out = append(out, faultChange{spec.RowKindDelete, spec.Row{id, nil, nil}})
			continue
		}
		out = append(out, faultChange{spec.RowKindInsert, row})
	}
	return out
}

// apply returns the model after changes.
func (m *faultModel) apply(model map[int64]spec.Row, changes []faultChange) map[int64]spec.Row {
	out := make(map[int64]spec.Row, len(model))
	for k, v := range model {
		out[k] = v
	}
	for _, c := range changes {
		id := c.row[0].(int64)
		switch {
		case c.kind == spec.RowKindDelete:
			delete(out, id)
		case m.agg:
			old, ok := out[id]
			if !ok {
				out[id] = c.row
				continue
			}
			s := old[2]
			if c.row[2] != nil {
				s = c.row[2]
			}
			out[id] = spec.Row{id, old[1].(int64) + c.row[1].(int64), s}
		default:
			out[id] = c.row
		}
	}
	return out
}

// maxFaultyAttempts is how often a step is tried on faulty storage before
// the faults are healed for its last attempt, so that every round makes
// progress.
const maxFaultyAttempts = 6

// checkpoint writes and commits the next checkpoint until it is committed,
// checking the table after every failure.
func (m *faultModel) checkpoint() {
	c := m.next
	m.next++
	changes := m.genCheckpoint()
	defer m.fs.SetRules(m.rules...)
	for attempt := 1; ; attempt++ {
		if attempt == maxFaultyAttempts {
			m.fs.Heal()
		}
		err := m.tryCheckpoint(c, changes)
		if err == nil {
			break
		}
		if attempt == maxFaultyAttempts {
			m.fatalf("checkpoint %d failed on healthy storage: %v", c, err)
		}
		m.failures++
		m.logf("checkpoint %d attempt %d failed: %v", c, attempt, err)
		if m.check(fmt.Sprintf("checkpoint %d attempt %d failed: %v", c, attempt, err), c, changes) {
			break // it landed: a restarted job skips it, as tryCheckpoint's first step would
		}
	}
	m.model = m.apply(m.model, changes)
}

// tryCheckpoint is one attempt of the job at checkpoint c, as a restarted
// job makes it: skip it if its commit user committed it already, else write
// it with a new Write and commit it, retrying the commit of the same
// messages a few times (a committer's retries).
func (m *faultModel) tryCheckpoint(c int64, changes []faultChange) error {
	tb, err := Open(m.ctx, m.fs, faultTable)
	if err != nil {
		return err
	}
	commit := tb.NewCommit("job")
	done, _, err := commit.AlreadyCommitted(m.ctx, c)
	if err != nil || done {
		if done {
			m.logf("checkpoint %d: committed already", c)
		}
		return err
	}
	w, err := tb.NewWrite(m.ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	for _, ch := range changes {
		if err := w.WriteRow(m.ctx, ch.kind, ch.row); err != nil {
			return err
		}
	}
	msgs, err := w.PrepareCommit(m.ctx)
	if err != nil {
		return err
	}
	for retry := 0; ; retry++ {
		_, err = commit.Commit(m.ctx, c, msgs)
		if err == nil || errors.Is(err, spec.ErrConflict) || retry == 2 {
			return err
		}
		if errors.Is(err, ErrCompactionNotCommitted) {
			return nil // the rows landed; the compaction is redone later
		}
	}
}

// maintain runs a maintenance operation until it succeeds; it must never
// change what the table holds.
func (m *faultModel) maintain(what string, op func(tb *Table) error) {
	m.logf("step %d: %s", m.steps, what)
	defer m.fs.SetRules(m.rules...)
	for attempt := 1; ; attempt++ {
		if attempt == maxFaultyAttempts {
			m.fs.Heal()
		}
		tb, err := Open(m.ctx, m.fs, faultTable)
		if err == nil {
			err = op(tb)
		}
		if err == nil {
			return
		}
		if attempt == maxFaultyAttempts {
			m.fatalf("%s failed on healthy storage: %v", what, err)
		}
		m.failures++
		m.logf("%s attempt %d failed: %v", what, attempt, err)
		m.check(fmt.Sprintf("%s attempt %d failed: %v", what, attempt, err), 0, nil)
	}
}

// check opens the table on healthy storage after a failure and compares
// what it committed (all levels) with the model, plus the changes of checkpoint c (c > 0) exactly when
// the job's snapshots say c landed, which it reports.
func (m *faultModel) check(what string, c int64, changes []faultChange) bool {
	m.t.Helper()
	tb, err := Open(m.ctx, m.healthy, faultTable)
	if err != nil {
		m.fatalf("after %s: the table does not open: %v", what, err)
	}
	want := m.model
	landed := false
	if c > 0 {
		done, _, err := tb.NewCommit("job").AlreadyCommitted(m.ctx, c)
		if err != nil {
			m.fatalf("after %s: %v", what, err)
		}
		if done {
			landed = true
			want = m.apply(want, changes)
		}
	}
	// Committed rows of a deletion-vector table may wait in level 0 for a
	// compaction (when a commit's COMPACT step failed), where scans skip
	// them: compare every level.
	got := m.scan(what, tb, WithAllLevels())
	if diff := diffRows(got, want); diff != "" {
		m.fatalf("after %s (checkpoint %d landed: %v): the table differs from the model:\n%s", what, c, landed, diff)
	}
	m.checkOneAppendPerCheckpoint(what, tb)
	return landed
}

// checkOneAppendPerCheckpoint: no two APPEND snapshots of the job carry the
// same identifier (one of the snapshots kept, at least).
func (m *faultModel) checkOneAppendPerCheckpoint(what string, tb *Table) {
	ids, err := tb.Snapshots().IDs(m.ctx)
	if err != nil {
		m.fatalf("%v", err)
	}
	seen := map[int64]int64{}
	for _, id := range ids {
		s, err := tb.Snapshots().Get(m.ctx, id)
		if errors.Is(err, spec.ErrNotFound) {
			continue
		}
		if err != nil {
			m.fatalf("after %s: snapshot %d: %v", what, id, err)
		}
		if s.CommitUser != "job" || s.CommitKind != spec.CommitKindAppend {
			continue
		}
		if prev, ok := seen[s.CommitIdentifier]; ok {
			m.fatalf("after %s: checkpoint %d committed twice, snapshots %d and %d", what, s.CommitIdentifier, prev, id)
		}
		seen[s.CommitIdentifier] = id
	}
}

// diffRows lists the keys whose rows differ between the table and the
// model ("" when none).
func diffRows(got []spec.Row, want map[int64]spec.Row) string {
	var b strings.Builder
	seen := map[int64]bool{}
	for _, r := range got {
		id := r[0].(int64)
		if seen[id] {
			fmt.Fprintf(&b, "key %d: duplicated, %v\n", id, r)
			continue
		}
		seen[id] = true
		w, ok := want[id]
		switch {
		case !ok:
			fmt.Fprintf(&b, "key %d: %v, not in the model\n", id, r)
		case spec.CompareRows(r, w) != 0:
			fmt.Fprintf(&b, "key %d: %v, the model has %v\n", id, r, w)
		}
	}
	for id, w := range want {
		if !seen[id] {
			fmt.Fprintf(&b, "key %d: missing, the model has %v\n", id, w)
		}
	}
	return b.String()
}
