package maintain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/backoff"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// Option configures a Job.
type Option func(*Job)

// WithTables maintains these tables (default: every table of the catalog,
// listed again each round).
func WithTables(ids ...catalog.Identifier) Option { return func(j *Job) { j.tables = ids } }

// WithFullCompactionEvery runs a full compaction of a table when d has
// passed since the job's last one (0, the default: only when the table's
// full-compaction.delta-commits says so).
func WithFullCompactionEvery(d time.Duration) Option { return func(j *Job) { j.fullEvery = d } }

// WithOrphanCleaning deletes orphan files older than age each round.
func WithOrphanCleaning(age time.Duration) Option {
	return func(j *Job) { j.orphans, j.orphanAge = true, age }
}

// WithLogger logs each table's round to log (default: discarded).
func WithLogger(log *slog.Logger) Option { return func(j *Job) { j.log = log } }

// WithRegistry registers the job's metrics with reg.
func WithRegistry(reg prometheus.Registerer) Option { return func(j *Job) { j.reg = reg } }

// WithProgress reports compaction progress (buckets done of total).
func WithProgress(fn func(table string, done, total int)) Option {
	return func(j *Job) { j.progress = fn }
}

// WithCommitUser signs the job's compaction snapshots (default: random).
func WithCommitUser(user string) Option { return func(j *Job) { j.user = user } }

// Job is a maintenance job over a catalog's tables.
type Job struct {
	cat       *catalog.Catalog
	tables    []catalog.Identifier
	fullEvery time.Duration
	orphans   bool
	orphanAge time.Duration
	log       *slog.Logger
	reg       prometheus.Registerer
	progress  func(string, int, int)
	user      string
	m         *metrics

	lastFull     map[string]time.Time // by table, the job's last full compaction
	lastFullSnap map[string]int64     // and the snapshot it left
}

// New returns a job over cat's tables.
func New(cat *catalog.Catalog, opts ...Option) (*Job, error) {
	j := &Job{cat: cat, log: slog.New(slog.DiscardHandler), lastFull: map[string]time.Time{}, lastFullSnap: map[string]int64{}}
	for _, o := range opts {
		o(j)
	}
	if j.fullEvery < 0 || j.orphanAge < 0 {
		return nil, fmt.Errorf("maintain: negative interval (full compaction %v, orphan age %v)", j.fullEvery, j.orphanAge)
	}
	if j.reg != nil {
		j.m = newMetrics()
		if err := j.m.register(j.reg); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// TableReport is what one round did to one table.
type TableReport struct {
	Table string
	// Compaction is the compaction's result; Full says it was a full one.
	Compaction table.CompactResult
	Full       bool
	Expired    table.ExpireResult
	Orphans    table.OrphanResult
	// Err is the first step that failed, if one did (later steps still ran
	// unless the context ended).
	Err error
}

// Round maintains every table once, in turn. A table that fails is logged
// and counted, and the round goes on; the error is ctx's when it ended.
func (j *Job) Round(ctx context.Context) ([]TableReport, error) {
	ids, err := j.targets(ctx)
	if err != nil {
		return nil, err
	}
	var reps []TableReport
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return reps, err
		}
		rep := j.table(ctx, id)
		reps = append(reps, rep)
		j.logReport(rep)
		if ctx.Err() != nil {
			return reps, ctx.Err()
		}
	}
	return reps, nil
}

// targets are the tables of this round.
func (j *Job) targets(ctx context.Context) ([]catalog.Identifier, error) {
	if len(j.tables) > 0 {
		return j.tables, nil
	}
	dbs, err := j.cat.ListDatabases(ctx)
	if err != nil {
		return nil, fmt.Errorf("maintain: %w", err)
	}
	var ids []catalog.Identifier
	for _, db := range dbs {
		names, err := j.cat.ListTables(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("maintain: %w", err)
		}
		for _, n := range names {
			ids = append(ids, catalog.Identifier{Database: db, Table: n})
		}
	}
	return ids, nil
}

// table runs one table's steps: compaction, expiration, orphan cleaning.
func (j *Job) table(ctx context.Context, id catalog.Identifier) TableReport {
	name := id.String()
	rep := TableReport{Table: name}
	fail := func(step string, err error) {
		if rep.Err == nil {
			rep.Err = fmt.Errorf("%s: %w", step, err)
		}
		j.m.failed(name, step)
	}
	t, err := j.cat.GetTable(ctx, id)
	if err != nil {
		fail("open", err)
		return rep
	}
	if len(t.Schema().PrimaryKeys) > 0 {
		rep.Full = j.fullDue(ctx, name, t)
		start := time.Now()
		if rep.Compaction, err = j.compact(ctx, name, t, rep.Full); err != nil {
			fail("compact", err)
		} else {
			j.m.done(name, "compact", time.Since(start))
			j.m.expiredRun(name, rep.Compaction.Expired) // its commit expires too
			if rep.Full {
				j.lastFull[name], j.lastFullSnap[name] = time.Now(), max(rep.Compaction.Snapshot, j.lastFullSnap[name])
			}
		}
	}
	if ctx.Err() != nil {
		return rep
	}
	start := time.Now()
	if rep.Expired, err = t.ExpireSnapshots(ctx); err != nil {
		fail("expire", err)
	} else {
		j.m.done(name, "expire", time.Since(start))
		j.m.expiredRun(name, rep.Expired)
	}
	if !j.orphans || ctx.Err() != nil {
		return rep
	}
	start = time.Now()
	if rep.Orphans, err = t.CleanOrphans(ctx, table.WithOrphanAge(j.orphanAge)); err != nil {
		fail("orphans", err)
	} else {
		j.m.done(name, "orphans", time.Since(start))
		j.m.orphanRun(name, rep.Orphans)
	}
	return rep
}

// fullDue says whether the table's compaction this round is a full one:
// --full-every has passed since the job's last, or the table's
// full-compaction.delta-commits snapshots have landed since.
func (j *Job) fullDue(ctx context.Context, name string, t *table.Table) bool {
	if j.fullEvery > 0 && time.Since(j.lastFull[name]) >= j.fullEvery {
		return true
	}
	if n := t.Options().FullCompactionDeltaCommits; n != nil && *n > 0 {
		latest, err := t.Snapshots().LatestID(ctx)
		return err == nil && latest-j.lastFullSnap[name] >= int64(*n)
	}
	return false
}

// compact compacts t, retrying a few times when a concurrent writer's
// compaction wins: each try plans again from the latest snapshot.
func (j *Job) compact(ctx context.Context, name string, t *table.Table, full bool) (table.CompactResult, error) {
	progress := func(done, total int) {
		if j.progress != nil {
			j.progress(name, done, total)
		}
	}
	wait := backoff.New(50*time.Millisecond, 2*time.Second)
	for attempt := 0; ; attempt++ {
		res, err := t.Compact(ctx, full, j.user, progress)
		if !errors.Is(err, spec.ErrConflict) || attempt >= 3 {
			return res, err
		}
		j.log.Info("compaction lost to a concurrent writer; planning again", "table", name, "attempt", attempt+2, "err", err)
		if err := wait.Wait(ctx); err != nil {
			return res, err
		}
	}
}

// logReport logs one table's round.
func (j *Job) logReport(r TableReport) {
	attrs := []any{"table", r.Table,
		"compacted_snapshot", r.Compaction.Snapshot, "full", r.Full,
		"files_before", r.Compaction.FilesBefore, "files_after", r.Compaction.FilesAfter,
		"expired_from", r.Expired.From, "expired_to", r.Expired.To,
		"deleted_data_files", r.Expired.DataFiles, "deleted_manifests", r.Expired.Manifests,
		"tags_expired", len(r.Expired.TagsExpired), "changelogs_expired", r.Expired.ChangelogsExpired,
		"orphans", len(r.Orphans.Orphans)}
	if r.Err != nil {
		j.log.Error("maintenance failed", append(attrs, "err", r.Err)...)
		return
	}
	j.log.Info("maintained", attrs...)
}
