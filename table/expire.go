package table

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"time"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Snapshot expiration, in Paimon's order (ExpireSnapshotsImpl): choose the
// range from the retention settings, then delete what only the expiring
// snapshots needed, newest first by kind of file: data files a later
// snapshot deleted (unless a tag still holds them), changelog files, then
// manifests, manifest lists and index files no kept snapshot or tag
// references, then the snapshot files oldest first, then the EARLIEST hint.
// A reader of a kept snapshot never misses a file: everything removed was
// deleted by a snapshot at or before the new earliest one. A run cut short
// (a crash, a cancelled context) leaves expired snapshots whose files are
// partly gone; the next run takes the same range again and deleting a
// missing file is not an error.

// ExpireOption adjusts one expiration run; by default the table's options
// decide (snapshot.num-retained.min/max, snapshot.time-retained,
// snapshot.expire.limit).
type ExpireOption func(*expireConfig)

type expireConfig struct {
	retainMin, retainMax int
	timeRetained         time.Duration
	limit                int
	now                  time.Time
}

// WithRetainMin keeps at least the newest n snapshots (n >= 1).
func WithRetainMin(n int) ExpireOption { return func(c *expireConfig) { c.retainMin = n } }

// WithRetainMax keeps at most the newest n snapshots, however young.
func WithRetainMax(n int) ExpireOption { return func(c *expireConfig) { c.retainMax = n } }

// WithTimeRetained keeps every snapshot that was still the latest within d
// of now (snapshot.time-retained).
func WithTimeRetained(d time.Duration) ExpireOption {
	return func(c *expireConfig) { c.timeRetained = d }
}

// WithExpireLimit expires at most n snapshots in this run.
func WithExpireLimit(n int) ExpireOption { return func(c *expireConfig) { c.limit = n } }

// WithExpireTime runs the expiration as if the time were now.
func WithExpireTime(now time.Time) ExpireOption { return func(c *expireConfig) { c.now = now } }

// ExpireResult says what one expiration run removed.
type ExpireResult struct {
	// From and To bound the expired snapshots, From..To-1; To is the
	// earliest snapshot now. From == To when nothing expired.
	From, To int64
	// Deleted counts the files removed, by kind.
	DataFiles, ChangelogFiles, Manifests, IndexFiles int
	// ChangelogsExpired counts the long-lived changelogs expired (see
	// changelog.num-retained.*).
	ChangelogsExpired int64
	// TagsExpired names the tags deleted because their retention passed.
	TagsExpired []string
}

// ExpireSnapshots removes the tags whose retention has passed, then the
// snapshots the retention settings no longer keep and every file only they
// referenced. It never removes the newest
// retainMin snapshots, a snapshot that a consumer (consumer/consumer-*)
// will read next or any later one, nor a file a tag's snapshot holds. It
// is safe to run beside writers and readers of kept snapshots, and beside
// another expiration. With consumer.expiration-time set, consumers not
// written for that long are deleted first.
func (t *Table) ExpireSnapshots(ctx context.Context, opts ...ExpireOption) (ExpireResult, error) {
	res, _, err := t.expire(ctx, opts...)
	return res, err
}

// expire is ExpireSnapshots; when nothing expired, and nothing but the
// snapshots' age and number can make anything expire (no tag with a
// retention, no consumer expiration, no changelog kept longer), it also
// says what must change before anything can (nil: unknown).
func (t *Table) expire(ctx context.Context, opts ...ExpireOption) (ExpireResult, *expireIdle, error) {
	cfg := expireConfig{
		retainMin:    t.opts.SnapshotNumRetainedMin,
		retainMax:    t.opts.SnapshotNumRetainedMax,
		timeRetained: t.opts.SnapshotTimeRetained,
		limit:        t.opts.SnapshotExpireLimit,
		now:          time.Now(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.retainMin < 1:
		return ExpireResult{}, nil, fmt.Errorf("%w: retain at least 1 snapshot, not %d", spec.ErrInvalidOption, cfg.retainMin)
	case cfg.retainMax < cfg.retainMin:
		return ExpireResult{}, nil, fmt.Errorf("%w: retain at most %d snapshots is below the least, %d", spec.ErrInvalidOption, cfg.retainMax, cfg.retainMin)
	case cfg.limit < 1:
		return ExpireResult{}, nil, fmt.Errorf("%w: expire limit %d: want at least 1", spec.ErrInvalidOption, cfg.limit)
	case cfg.timeRetained < 0:
		return ExpireResult{}, nil, fmt.Errorf("%w: negative time retained %v", spec.ErrInvalidOption, cfg.timeRetained)
	}
	decoupled, err := t.changelogRetention()
	if err != nil {
		return ExpireResult{}, nil, err
	}
	tags, err := t.Tags(ctx)
	if err != nil {
		return ExpireResult{}, nil, err
	}
	tags, expiredTags, err := t.expireTags(ctx, tags, cfg.now)
	if err != nil {
		return ExpireResult{TagsExpired: expiredTags}, nil, err
	}
	if err := t.expireConsumers(ctx, cfg.now); err != nil {
		return ExpireResult{TagsExpired: expiredTags}, nil, err
	}
	earliest, err := t.snapshots.EarliestID(ctx)
	if err != nil || earliest == 0 {
		return ExpireResult{TagsExpired: expiredTags}, nil, err
	}
	latest, err := t.snapshots.LatestID(ctx)
	if err != nil {
		return ExpireResult{}, nil, err
	}
	end, err := t.expireEnd(ctx, cfg, earliest, latest)
	if err != nil {
		return ExpireResult{}, nil, err
	}
	res, err := t.expireUntil(ctx, earliest, end, tags, decoupled)
	res.TagsExpired = expiredTags
	if err == nil && decoupled {
		err = t.expireChangelogs(ctx, cfg, &res)
	}
	if err != nil || end > earliest || len(expiredTags) > 0 || decoupled || t.opts.ConsumerExpirationTime != nil || anyRetained(tags) {
		return res, nil, err
	}
	idle, err := t.idleAfter(ctx, cfg, earliest, latest)
	return res, idle, err
}

// expireTags deletes the tags whose retention has passed by now (Paimon's
// tag TTL expiry, which runs before snapshot expiration); tags without a
// retention stay until deleted. Data files only such a tag held are left
// to orphan cleaning. It returns the tags kept and the names deleted.
func (t *Table) expireTags(ctx context.Context, tags []TagInfo, now time.Time) (kept []TagInfo, expired []string, err error) {
	for _, tag := range tags {
		if tag.CreateTime == nil || tag.TimeRetained == nil || !now.After(tag.CreateTime.Add(*tag.TimeRetained)) {
			kept = append(kept, tag)
			continue
		}
		if err := t.fs.Delete(ctx, t.tagPath(tag.Name)); err != nil {
			return nil, expired, fmt.Errorf("expire tag %q: %w", tag.Name, err)
		}
		expired = append(expired, tag.Name)
	}
	return kept, expired, nil
}

// expireEnd is the first snapshot to keep (ExpireSnapshotsImpl's range).
func (t *Table) expireEnd(ctx context.Context, cfg expireConfig, earliest, latest int64) (int64, error) {
	from := max(latest-int64(cfg.retainMax)+1, earliest)
	end := latest - int64(cfg.retainMin) + 1
	next, ok, err := t.consumersNext(ctx)
	if err != nil {
		return 0, err
	}
	if ok {
		end = min(end, next)
	}
	end = min(end, earliest+int64(cfg.limit))
	youngest := cfg.now.Add(-cfg.timeRetained).UnixMilli()
	for id := from; id < end; id++ {
		// Snapshot id was the latest until id+1 landed: keep it if that
		// was within the retained time.
		s, err := t.snapshots.Get(ctx, id+1)
		if errors.Is(err, spec.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if s.TimeMillis >= youngest {
			return id, nil
		}
	}
	return end, nil
}

// expireUntil expires snapshots begin..end-1 (end is kept). With a
// decoupled changelog each keeps its changelog, as a long-lived changelog.
func (t *Table) expireUntil(ctx context.Context, begin, end int64, tags []TagInfo, decoupled bool) (ExpireResult, error) {
	res := ExpireResult{From: begin, To: begin}
	if end <= begin {
		return res, nil
	}
	// Each snapshot of the range is read once; missing ones (another run
	// removed them) are left out.
	snaps := make(map[int64]*spec.Snapshot, end-begin+1)
	for id := begin; id <= end; id++ {
		s, err := t.snapshots.Get(ctx, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return res, err
		}
		snaps[id] = s
	}
	tagged := map[string]map[string]bool{} // a tag's live files, read once
	for id := begin + 1; id <= end; id++ {
		n, err := t.expireDataFiles(ctx, snaps[id], tags, tagged)
		res.DataFiles += n
		if err != nil {
			return res, err
		}
	}
	for id := begin; id < end && !decoupled; id++ {
		n, err := t.deleteChangelogFiles(ctx, snaps[id])
		res.ChangelogFiles += n
		if err != nil {
			return res, err
		}
	}
	if snaps[end] == nil {
		return res, nil // another run got there first
	}
	if err := t.expireMetadata(ctx, begin, end, snaps, tags, !decoupled, &res); err != nil {
		return res, err
	}
	faultpoint.Hit(faultpoint.ExpireFilesDeleted)
	for id := begin; id < end; id++ {
		if snaps[id] == nil {
			continue
		}
		if decoupled {
			if err := t.keepChangelog(ctx, snaps[id]); err != nil {
				return res, err
			}
		}
		if err := t.fs.Delete(ctx, t.snapshots.path(id)); err != nil {
			return res, fmt.Errorf("expire snapshot %d: %w", id, err)
		}
	}
	res.To = end
	faultpoint.Hit(faultpoint.ExpireBeforeHint)
	// A hint, as in publish: readers verify it.
	_ = t.fs.Put(ctx, path.Join(t.snapshots.dir, "EARLIEST"), []byte(strconv.FormatInt(end, 10)))
	return res, nil
}

// expireDataFiles deletes the data files snap deleted (its delta's DELETE
// entries not added back), unless the newest tag before it still holds
// them. A nil snap (already expired) deletes nothing.
func (t *Table) expireDataFiles(ctx context.Context, snap *spec.Snapshot, tags []TagInfo, tagged map[string]map[string]bool) (int, error) {
	if snap == nil {
		return 0, nil
	}
	id := snap.ID
	entries, err := t.manifests.ReadEntries(ctx, snap.DeltaManifestList)
	if isNotFound(err) {
		return 0, nil // another expiration got past this snapshot: its data files went first
	}
	if err != nil {
		return 0, fmt.Errorf("expire: snapshot %d's delta: %w", id, err)
	}
	gone := map[string]spec.ManifestEntry{}
	for _, e := range entries {
		k := filePathKey(e)
		if e.Kind == spec.FileKindDelete {
			gone[k] = e
		} else {
			delete(gone, k) // deleted and added back (at another level): an upgrade, still live
		}
	}
	if tag := tagBefore(tags, id); tag != nil && len(gone) > 0 {
		held := tagged[tag.Name]
		if held == nil {
			live, err := t.liveFiles(ctx, tag.Snapshot)
			if err != nil {
				return 0, fmt.Errorf("expire: tag %s: %w", tag.Name, err)
			}
			held = make(map[string]bool, len(live))
			for _, e := range live {
				held[filePathKey(e)] = true
			}
			tagged[tag.Name] = held
		}
		for k := range gone {
			if held[k] {
				delete(gone, k)
			}
		}
	}
	n := 0
	for _, e := range gone {
		if err := t.deleteDataFile(ctx, e); err != nil {
			return n, err
		}
		n++
		faultpoint.Hit(faultpoint.ExpireDataFileDeleted)
	}
	return n, nil
}

// filePathKey names an entry's file by where it lives, whatever its level.
func filePathKey(e spec.ManifestEntry) string {
	return string(e.Partition) + "\x00" + strconv.Itoa(int(e.Bucket)) + "\x00" + e.File.FileName
}

// isNotFound reports a missing snapshot or file.
func isNotFound(err error) bool {
	return errors.Is(err, spec.ErrNotFound) || errors.Is(err, storage.ErrNotFound)
}

// tagBefore returns the newest tag of a snapshot before id, or nil.
func tagBefore(tags []TagInfo, id int64) *TagInfo {
	var found *TagInfo
	for i := range tags {
		if tags[i].Snapshot.ID < id {
			found = &tags[i]
		}
	}
	return found
}

// deleteDataFile deletes a data file and its extra files.
func (t *Table) deleteDataFile(ctx context.Context, e spec.ManifestEntry) error {
	p, err := t.dataFilePath(e)
	if err != nil {
		return err
	}
	if err := t.fs.Delete(ctx, p); err != nil {
		return fmt.Errorf("expire: %w", err)
	}
	for _, x := range e.File.ExtraFiles {
		if err := t.fs.Delete(ctx, path.Join(path.Dir(p), x)); err != nil {
			return fmt.Errorf("expire: %w", err)
		}
	}
	return nil
}

// dataFilePath is where a manifest entry's data file lives.
func (t *Table) dataFilePath(e spec.ManifestEntry) (string, error) {
	if e.File.ExternalPath != nil {
		return "", fmt.Errorf("%w: data file %s has an external path (%s)", ErrUnsupported, e.File.FileName, *e.File.ExternalPath)
	}
	part, err := t.partitionPath(e.Partition)
	if err != nil {
		return "", err
	}
	return path.Join(t.bucketDir(part, e.Bucket), e.File.FileName), nil
}

// deleteChangelogFiles deletes the changelog files of snap (a snapshot or
// a long-lived changelog; nil: already expired).
func (t *Table) deleteChangelogFiles(ctx context.Context, snap *spec.Snapshot) (int, error) {
	if snap == nil || snap.ChangelogManifestList == nil {
		return 0, nil
	}
	id := snap.ID
	entries, err := t.manifests.ReadEntries(ctx, *snap.ChangelogManifestList)
	if isNotFound(err) {
		return 0, nil // another expiration got past this snapshot
	}
	if err != nil {
		return 0, fmt.Errorf("expire: snapshot %d's changelog: %w", id, err)
	}
	n := 0
	for _, e := range entries {
		if e.Kind != spec.FileKindAdd {
			continue
		}
		if err := t.deleteDataFile(ctx, e); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// expireMetadata deletes the manifests, manifest lists, index files and
// statistics of snapshots begin..end-1 that neither snapshot end nor a tag
// in the range references (their changelog manifests too unless changelog
// is false: a decoupled changelog keeps them); snaps holds the range's
// snapshots, end's included.
func (t *Table) expireMetadata(ctx context.Context, begin, end int64, snaps map[int64]*spec.Snapshot, tags []TagInfo, changelog bool, res *ExpireResult) error {
	keep := map[string]bool{}
	endSnap := snaps[end]
	kept := []*spec.Snapshot{endSnap}
	// Tags from the last one at or before begin up to end may share
	// manifests with the expiring snapshots (older tags share none that
	// the last one does not: manifests only flow to later snapshots).
	if tag := tagBefore(tags, begin+1); tag != nil {
		kept = append(kept, tag.Snapshot)
	}
	for i := range tags {
		if id := tags[i].Snapshot.ID; id > begin && id < end {
			kept = append(kept, tags[i].Snapshot)
		}
	}
	for _, s := range kept {
		// A kept snapshot's changelog is its own, never an expiring one's;
		// a tag keeps its data, not its snapshot's changelog.
		err := t.metadataFiles(ctx, s, false, func(p string, _ bool) { keep[p] = true })
		if isNotFound(err) && s == endSnap {
			return nil // another expiration went further, past end
		}
		if err != nil {
			return fmt.Errorf("expire: files of snapshot %d: %w", s.ID, err)
		}
	}
	// Read every expiring snapshot's lists before deleting anything: they
	// share manifests and index manifests.
	var doomed []string
	var index []bool
	for id := begin; id < end; id++ {
		snap := snaps[id]
		if snap == nil {
			continue
		}
		err := t.metadataFiles(ctx, snap, changelog, func(p string, isIndex bool) {
			if !keep[p] {
				keep[p] = true // once
				doomed, index = append(doomed, p), append(index, isIndex)
			}
		})
		if isNotFound(err) {
			continue // another run removed part of it; what is left is the orphan cleaner's
		}
		if err != nil {
			return fmt.Errorf("expire: files of snapshot %d: %w", id, err)
		}
	}
	for i, p := range doomed {
		if err := t.fs.Delete(ctx, p); err != nil {
			return fmt.Errorf("expire: %w", err)
		}
		if index[i] {
			res.IndexFiles++
		} else {
			res.Manifests++
		}
	}
	return nil
}

// metadataFiles calls fn with the path of every metadata file snapshot s
// references: manifest lists and their manifests (the changelog's too
// when changelog is set), the index manifest and its index files, the
// statistics file. Lists come after what they list.
func (t *Table) metadataFiles(ctx context.Context, s *spec.Snapshot, changelog bool, fn func(p string, index bool)) error {
	lists := []string{s.BaseManifestList, s.DeltaManifestList}
	if changelog && s.ChangelogManifestList != nil {
		lists = append(lists, *s.ChangelogManifestList)
	}
	for _, l := range lists {
		if l == "" {
			continue
		}
		metas, err := t.manifests.ReadManifestList(ctx, l)
		if err != nil {
			return err
		}
		for _, m := range metas {
			fn(t.manifests.Path(m.FileName), false)
		}
		fn(t.manifests.Path(l), false)
	}
	if s.IndexManifest != nil {
		entries, err := t.manifests.ReadIndexManifest(ctx, *s.IndexManifest)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Kind == spec.FileKindAdd {
				fn(path.Join(t.path, "index", e.FileName), true)
			}
		}
		fn(t.manifests.Path(*s.IndexManifest), false)
	}
	if s.Statistics != nil {
		fn(path.Join(t.path, "statistics", *s.Statistics), false)
	}
	return nil
}

// changelogDecoupled reports whether the changelog is to outlive the
// snapshots (Paimon's ExpireChangelogImpl), which expiration does not do.
func (t *Table) changelogDecoupled() bool {
	o := t.opts
	return o.ChangelogNumRetainedMax > o.SnapshotNumRetainedMax ||
		o.ChangelogNumRetainedMin > o.SnapshotNumRetainedMin ||
		o.ChangelogTimeRetained > o.SnapshotTimeRetained
}

// consumersNext is the smallest next snapshot of the table's consumers
// (consumer/consumer-<id>), if it has any.
func (t *Table) consumersNext(ctx context.Context) (int64, bool, error) {
	cs, err := t.Consumers(ctx)
	if err != nil || len(cs) == 0 {
		return 0, false, err
	}
	next := int64(math.MaxInt64)
	for _, n := range cs {
		next = min(next, n)
	}
	return next, true, nil
}
