package table

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/stratalake/strata/internal/backoff"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/manifest"
	"github.com/stratalake/strata/spec"
)

// BatchCommitIdentifier is the commit identifier of batch (non-streaming)
// writes, as Java uses it: Long.MAX_VALUE.
const BatchCommitIdentifier = math.MaxInt64

// Commit turns commit messages into snapshots.
type Commit struct {
	t    *Table
	user string
	// What this user committed last, once looked up (see AlreadyCommitted).
	known, has     bool
	lastIdentifier int64
	lastSnapshot   int64
	// What snapshots changed, by id, for the concurrent-writer checks.
	summaries map[int64]*snapshotSummary
	noExpire  bool        // WithoutExpire
	idle      *expireIdle // until when expiring after a commit finds nothing (expireidle.go)
}

// CommitOption configures a Commit.
type CommitOption func(*Commit)

// WithoutExpire turns off the snapshot expiration a Commit runs after each
// commit that wrote a snapshot (for a job that expires on its own
// schedule, such as strata maintain).
func WithoutExpire() CommitOption { return func(c *Commit) { c.noExpire = true } }

// NewCommit returns a committer that signs snapshots with commitUser (a new
// random user when empty).
//
// After each commit that writes a snapshot it expires old snapshots with
// the table's retention options, as Paimon's committer does, unless the
// table is write-only (expiration is then the dedicated compaction job's),
// its changelog is to outlive its snapshots without a changelog producer
// (not supported yet), or WithoutExpire says so.
func (t *Table) NewCommit(commitUser string, opts ...CommitOption) *Commit {
	if commitUser == "" {
		commitUser = uuid.NewString()
	}
	c := &Commit{t: t, user: t.opts.CommitUser(commitUser)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// User is the commit user this committer signs snapshots with.
func (c *Commit) User() string { return c.user }

// Commit writes the snapshots for msgs under identifier: an APPEND snapshot
// for new files, then a COMPACT snapshot for compaction results (checked
// for conflicts with what other committers did meanwhile). It returns the
// id of the last snapshot written, or 0 when there was nothing to commit. A
// lost race for a snapshot id is retried with backoff from the new latest
// snapshot. CommitSteps says which step landed when one fails.
func (c *Commit) Commit(ctx context.Context, identifier int64, msgs []CommitMessage) (int64, error) {
	res, err := c.CommitSteps(ctx, identifier, msgs)
	return res.Last(), err
}

// CommitResult names the snapshots one commit wrote (0 for a step with
// nothing to commit, or one that failed).
type CommitResult struct {
	Append, Compact int64
	// Expired is what the expiration after the commit removed; ExpireErr
	// why it failed (the commit itself stands).
	Expired   ExpireResult
	ExpireErr error
}

// Last is the id of the last snapshot written, or 0.
func (r CommitResult) Last() int64 { return max(r.Append, r.Compact) }

// CommitSteps is Commit, reporting each step's snapshot. When the APPEND
// step lands and the COMPACT step then fails (another writer compacted the
// same bucket, say), the result holds the APPEND snapshot and the error
// wraps ErrCompactionNotCommitted: the rows are committed, and compacting
// again from the latest snapshot is safe. A conflict (spec.ErrConflict)
// means another writer changed what the messages' Write had read: that
// Write must be closed and the work done again with a new one; committing
// its later messages would be refused too.
func (c *Commit) CommitSteps(ctx context.Context, identifier int64, msgs []CommitMessage) (CommitResult, error) {
	var res CommitResult
	app, cmp, err := c.t.splitChanges(msgs)
	if err != nil {
		return res, err
	}
	defer c.forgetSummaries(msgs)
	for _, step := range []struct {
		kind spec.CommitKind
		ch   changes
		id   *int64
	}{{spec.CommitKindAppend, app, &res.Append}, {spec.CommitKindCompact, cmp, &res.Compact}} {
		if step.ch.empty() {
			continue
		}
		// Exactly once per (commit user, identifier, kind): a replayed
		// checkpoint finds its snapshots and skips them, and one whose
		// COMPACT snapshot was lost gets just that one (Java's retry check).
		if identifier != BatchCommitIdentifier {
			done, snap, err := c.stepCommitted(ctx, identifier, step.kind)
			if err != nil {
				return res, c.stepError(step.kind, res, err)
			}
			if done {
				*step.id = snap
				continue
			}
		}
		id, err := c.commitWithRetry(ctx, identifier, step.kind, step.ch)
		if err != nil {
			// What landed is not known: the next attempt must look.
			c.known = false
			return res, c.stepError(step.kind, res, err)
		}
		c.remember(identifier, id)
		*step.id = id
	}
	if _, unsupported := c.t.changelogRetention(); res.Last() > 0 && !c.noExpire && !c.t.opts.WriteOnly && unsupported == nil {
		if now := time.Now(); !c.idle.skips(res.Last(), now) {
			res.Expired, c.idle, res.ExpireErr = c.t.expire(ctx, WithExpireTime(now))
		}
	}
	return res, nil
}

// ErrCompactionNotCommitted marks a commit whose rows landed (its APPEND
// snapshot) while its compaction results did not. The Write that made the
// messages no longer matches the table: close it, and open a new one to
// go on writing.
var ErrCompactionNotCommitted = errors.New("strata: compaction not committed")

func (c *Commit) stepError(kind spec.CommitKind, res CommitResult, err error) error {
	if kind == spec.CommitKindCompact && res.Append > 0 {
		return fmt.Errorf("%w (rows committed in snapshot %d): %w", ErrCompactionNotCommitted, res.Append, err)
	}
	return err
}

// splitChanges sorts messages into the APPEND and COMPACT steps' changes.
func (t *Table) splitChanges(msgs []CommitMessage) (app, cmp changes, err error) {
	for _, m := range msgs {
		entry := func(kind spec.FileKind, f spec.DataFileMeta) spec.ManifestEntry {
			return spec.ManifestEntry{Kind: kind, Partition: m.Partition, Bucket: m.Bucket, TotalBuckets: m.TotalBuckets, File: f}
		}
		for _, f := range m.NewFiles {
			app.files = append(app.files, entry(spec.FileKindAdd, f))
		}
		for _, f := range m.NewChangelog {
			app.changelog = append(app.changelog, entry(spec.FileKindAdd, f))
		}
		for _, f := range m.CompactBefore {
			cmp.files = append(cmp.files, entry(spec.FileKindDelete, f))
		}
		for _, f := range m.CompactAfter {
			cmp.files = append(cmp.files, entry(spec.FileKindAdd, f))
		}
		for _, f := range m.CompactChangelog {
			cmp.changelog = append(cmp.changelog, entry(spec.FileKindAdd, f))
		}
		for _, e := range m.NewIndexFiles {
			// Dynamic-bucket HASH files go with the data they index (APPEND);
			// deletion vectors with the compaction that made them.
			if e.IndexType == spec.IndexTypeHash {
				app.index = append(app.index, e)
			} else {
				cmp.index = append(cmp.index, e)
			}
		}
	}
	if app.claims, err = t.claimsOf(msgs, spec.CommitKindAppend); err != nil {
		return app, cmp, err
	}
	cmp.claims, err = t.claimsOf(msgs, spec.CommitKindCompact)
	return app, cmp, err
}

// changes are what one snapshot adds: data file entries, changelog file
// entries and index files.
type changes struct {
	files     []spec.ManifestEntry
	changelog []spec.ManifestEntry
	index     []spec.IndexManifestEntry
	claims    []bucketClaim // the buckets it changes, for conflict checks
}

func (ch changes) empty() bool {
	return len(ch.files) == 0 && len(ch.changelog) == 0 && len(ch.index) == 0
}

func (c *Commit) commitWithRetry(ctx context.Context, identifier int64, kind spec.CommitKind, delta changes) (id int64, err error) {
	maxRetries := c.t.opts.CommitMaxRetries
	wait := backoff.New(10*time.Millisecond, 10*time.Second)
	seen := int64(-1) // latest snapshot id when the previous attempt started
	for attempt := 0; ; attempt++ {
		if seen >= 0 {
			// After a lost race or an uncertain attempt our snapshot may be
			// there already: look among the snapshots published since that
			// attempt began, as Java does before retrying.
			c.known = false
			snap, err := c.findSince(ctx, seen, identifier, kind)
			if err != nil {
				return 0, err
			}
			if snap > 0 {
				return snap, nil
			}
		}
		if seen, err = c.t.snapshots.LatestID(ctx); err != nil {
			return 0, err
		}
		id, ok, err := c.tryCommitOnce(ctx, identifier, kind, delta)
		if errors.Is(err, ErrUncertainCommit) {
			if attempt < maxRetries {
				ok, err = false, nil // retry: the check above settles it
			} else if snap, ferr := c.findSince(ctx, seen, identifier, kind); ferr == nil && snap > 0 {
				return snap, nil // the last attempt landed after all
			}
		}
		if err != nil {
			return 0, err
		}
		if ok {
			return id, nil
		}
		if attempt >= maxRetries {
			return 0, fmt.Errorf("%w: gave up after %d attempts to publish a snapshot", spec.ErrConflict, attempt+1)
		}
		if err := wait.Wait(ctx); err != nil {
			return 0, err
		}
	}
}

// checkConflicts verifies that delta still applies to the latest snapshot's
// files, as Java's ConflictDetection does for compactions: nothing it
// deletes is gone, nothing it adds exists, and no two files of a level ≥ 1
// overlap afterwards.
func (c *Commit) checkConflicts(ctx context.Context, latest *spec.Snapshot, delta []spec.ManifestEntry) error {
	if _, err := manifest.Merge(delta); err != nil {
		return err
	}
	var base []spec.ManifestEntry
	if latest != nil {
		var err error
		if base, err = c.t.liveFiles(ctx, latest); err != nil {
			return err
		}
	}
	merged, err := manifest.Merge(append(base, delta...))
	if err != nil {
		return fmt.Errorf("%w (another commit changed the files this one replaces)", err)
	}
	type group struct {
		part   string
		bucket int32
		level  int32
	}
	byLevel := map[group][]*lsm.File{}
	for _, e := range merged {
		if e.Kind == spec.FileKindDelete {
			return fmt.Errorf("%w: trying to delete file %s, which is not live (it was compacted or removed by another commit)", spec.ErrConflict, e.File.FileName)
		}
		if e.File.Level == 0 || c.t.layout == nil {
			continue
		}
		f, err := lsm.NewFile(e.File, c.t.layout.KeyTypes())
		if err != nil {
			return err
		}
		g := group{string(e.Partition), e.Bucket, e.File.Level}
		byLevel[g] = append(byLevel[g], f)
	}
	for g, fs := range byLevel {
		slices.SortFunc(fs, func(a, b *lsm.File) int { return lsm.CompareKeys(a.MinKey, b.MinKey) })
		for i := 1; i < len(fs); i++ {
			if lsm.CompareKeys(fs[i-1].MaxKey, fs[i].MinKey) >= 0 {
				return fmt.Errorf("%w: LSM conflict in bucket %d level %d: %s and %s overlap", spec.ErrConflict, g.bucket, g.level, fs[i-1].Meta.FileName, fs[i].Meta.FileName)
			}
		}
	}
	return nil
}

// tryCommitOnce writes manifests and tries to publish snapshot latest+1. It
// reports false when another committer published that id first.
func (c *Commit) tryCommitOnce(ctx context.Context, identifier int64, kind spec.CommitKind, ch changes) (int64, bool, error) {
	delta := ch.files
	t := c.t
	latest, err := t.snapshots.Latest(ctx)
	if err != nil {
		return 0, false, err
	}
	var base []spec.ManifestFileMeta
	var prevTotal, nextRowID int64
	var indexManifest *string
	newID := int64(1)
	if latest != nil {
		newID = latest.ID + 1
		base, err = t.manifests.ReadManifestFiles(ctx, latest.BaseManifestList, latest.DeltaManifestList)
		if err != nil {
			return 0, false, err
		}
		prevTotal = latest.TotalRecordCount
		if latest.NextRowID != nil {
			nextRowID = *latest.NextRowID
		}
		indexManifest = latest.IndexManifest
	}
	if err := c.check(ctx, latest, kind, ch); err != nil {
		return 0, false, err
	}
	partTypes := fieldTypes(t.schema.PartitionFields())
	// The base list of the new snapshot is the previous snapshot's
	// manifests, merged so that they stay few under long streams.
	base, err = t.manifests.Compact(ctx, base, manifest.MergeOptions{
		TargetSize: t.opts.ManifestTargetFileSize, MinCount: t.opts.ManifestMergeMinCount,
		FullThreshold: t.opts.ManifestFullCompactionSize, SchemaID: t.schema.ID, PartTypes: partTypes})
	if err != nil {
		return 0, false, err
	}
	// The snapshot's lists are independent files: written at once, each
	// waits for its own sync, not for the others'.
	var baseName, deltaName string
	var baseSize, deltaSize, deltaCount int64
	var changelogName *string
	var changelogSize, changelogCount *int64
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		baseName, baseSize, err = t.manifests.WriteManifestList(gctx, base)
		return err
	})
	g.Go(func() (err error) {
		deltaName, deltaSize, deltaCount, err = c.writeEntryList(gctx, delta, partTypes)
		return err
	})
	if len(ch.changelog) > 0 {
		g.Go(func() error {
			name, size, n, err := c.writeEntryList(gctx, ch.changelog, partTypes)
			changelogName, changelogSize, changelogCount = &name, &size, &n
			return err
		})
	}
	if len(ch.index) > 0 {
		g.Go(func() error {
			name, err := c.writeIndexManifest(gctx, indexManifest, ch.index)
			indexManifest = &name
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, false, err
	}
	snapUUID := uuid.NewString()
	snap := &spec.Snapshot{
		Version: 3, UUID: &snapUUID, ID: newID, SchemaID: t.schema.ID,
		BaseManifestList: baseName, BaseManifestListSize: &baseSize,
		DeltaManifestList: deltaName, DeltaManifestListSize: &deltaSize,
		ChangelogManifestList: changelogName, ChangelogManifestListSize: changelogSize, ChangelogRecordCount: changelogCount,
		IndexManifest: indexManifest, CommitUser: c.user,
		CommitIdentifier: identifier, CommitKind: kind, TimeMillis: time.Now().UnixMilli(),
		TotalRecordCount: prevTotal + deltaCount, DeltaRecordCount: deltaCount,
		NextRowID: &nextRowID,
	}
	if latest != nil {
		snap.Watermark = latest.Watermark
	}
	ok, err := t.snapshots.publish(ctx, snap)
	if err != nil || !ok {
		// The files just written are orphans now; a retry writes its own.
		return 0, ok, err
	}
	return newID, true, nil
}

// check runs every conflict check a step must pass against latest.
func (c *Commit) check(ctx context.Context, latest *spec.Snapshot, kind spec.CommitKind, ch changes) error {
	if kind == spec.CommitKindCompact {
		if err := c.checkConflicts(ctx, latest, ch.files); err != nil {
			return err
		}
	}
	if err := c.checkConcurrentWriters(ctx, latest, kind, ch.claims); err != nil {
		return err
	}
	if err := c.checkTotalBuckets(ctx, latest, ch.files); err != nil {
		return err
	}
	// Every file of a bucket must agree on the bucket count.
	for _, e := range ch.files {
		if e.TotalBuckets > 0 && int(e.TotalBuckets) != c.t.opts.Bucket {
			return fmt.Errorf("%w: file %s was written for %d buckets, table has %d", spec.ErrConflict, e.File.FileName, e.TotalBuckets, c.t.opts.Bucket)
		}
	}
	return nil
}

// writeEntryList writes entries as one manifest and a manifest list naming
// it (an empty list for no entries), and returns the list's name and size
// and the entries' row count (DELETEs count negative).
func (c *Commit) writeEntryList(ctx context.Context, entries []spec.ManifestEntry, partTypes []spec.DataType) (string, int64, int64, error) {
	var count int64
	for _, e := range entries {
		if e.Kind == spec.FileKindAdd {
			count += e.File.RowCount
		} else {
			count -= e.File.RowCount
		}
	}
	var metas []spec.ManifestFileMeta
	if len(entries) > 0 {
		mf, err := c.t.manifests.WriteManifest(ctx, entries, c.t.schema.ID, partTypes)
		if err != nil {
			return "", 0, 0, err
		}
		metas = append(metas, mf)
	}
	name, size, err := c.t.manifests.WriteManifestList(ctx, metas)
	return name, size, count, err
}

func fieldTypes(fs []spec.DataField) []spec.DataType {
	out := make([]spec.DataType, len(fs))
	for i, f := range fs {
		out[i] = f.Type
	}
	return out
}

// writeIndexManifest writes the snapshot's full list of index files: the
// previous list with each (partition, bucket, type) that added replaces
// swapped for the new entry.
func (c *Commit) writeIndexManifest(ctx context.Context, previous *string, added []spec.IndexManifestEntry) (string, error) {
	key := func(e *spec.IndexManifestEntry) string {
		return splitKey(e.Partition, e.Bucket) + "/" + e.IndexType
	}
	replaced := map[string]bool{}
	for i := range added {
		replaced[key(&added[i])] = true
	}
	var entries []spec.IndexManifestEntry
	if previous != nil {
		old, err := c.t.manifests.ReadIndexManifest(ctx, *previous)
		if err != nil {
			return "", err
		}
		for i := range old {
			if !replaced[key(&old[i])] {
				entries = append(entries, old[i])
			}
		}
	}
	for _, e := range added {
		// An empty deletion-vector file still replaces the old one, but
		// need not be listed.
		if e.IndexType == spec.DVIndexType && len(e.DVRanges) == 0 {
			continue
		}
		entries = append(entries, e)
	}
	return c.t.manifests.WriteIndexManifest(ctx, entries)
}

// checkTotalBuckets rejects new files whose bucket count differs from the
// files already in their partition (a table rescaled by one writer and not
// another would otherwise route keys to two buckets).
func (c *Commit) checkTotalBuckets(ctx context.Context, latest *spec.Snapshot, delta []spec.ManifestEntry) error {
	if latest == nil || c.t.opts.Bucket <= 0 {
		return nil
	}
	t := c.t
	for _, e := range delta {
		if e.Kind != spec.FileKindAdd || e.TotalBuckets <= 0 {
			continue
		}
		t.mu.Lock()
		n, ok := t.totalBuckets[string(e.Partition)]
		t.mu.Unlock()
		if !ok {
			vals, err := c.t.partitionValues(e.Partition)
			if err != nil {
				return err
			}
			filter := map[string]any{}
			for i, name := range c.t.schema.PartitionKeys {
				filter[name] = vals[i]
			}
			p, err := c.t.partitionPredicate(filter)
			if err != nil {
				return err
			}
			pf, err := c.t.newScanFilter(p, nil)
			if err != nil {
				return err
			}
			files, err := c.t.liveFilesWhere(ctx, latest, pf)
			if err != nil {
				return err
			}
			n = e.TotalBuckets
			if len(files) > 0 && files[0].TotalBuckets > 0 {
				n = files[0].TotalBuckets
			}
			t.mu.Lock()
			t.totalBuckets[string(e.Partition)] = n
			t.mu.Unlock()
		}
		if e.TotalBuckets != n {
			return fmt.Errorf("%w: total buckets of partition changed from %d to %d (file %s); rescale the partition first", spec.ErrConflict, n, e.TotalBuckets, e.File.FileName)
		}
	}
	return nil
}
