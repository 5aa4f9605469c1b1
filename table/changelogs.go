package table

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Long-lived changelogs (Paimon's ChangelogManager and ExpireChangelogImpl):
// when changelog.num-retained.* or changelog.time-retained keep changelog
// longer than the snapshots, snapshot expiration copies each expiring
// snapshot to changelog/changelog-<id> and keeps its changelog files and
// changelog manifests; Changelog reads the copy once the snapshot is gone,
// and the changelog expires on its own retention afterwards. Only tables
// with a changelog producer get this: with changelog-producer=none the
// changelog is the data files themselves, which expiration would have to
// keep (refused as not supported yet).

// changelogDir is where long-lived changelogs live.
func (t *Table) changelogDir() string { return path.Join(t.path, "changelog") }

func (t *Table) changelogPath(id int64) string {
	return path.Join(t.changelogDir(), "changelog-"+strconv.FormatInt(id, 10))
}

// changelogIDs lists the long-lived changelogs' ids, ascending.
func (t *Table) changelogIDs(ctx context.Context) ([]int64, error) {
	infos, err := t.fs.List(ctx, t.changelogDir(), false)
	if err != nil {
		return nil, fmt.Errorf("list changelogs: %w", err)
	}
	var ids []int64
	for _, fi := range infos {
		name, ok := strings.CutPrefix(path.Base(fi.Path), "changelog-")
		if id, err := strconv.ParseInt(name, 10, 64); ok && !fi.IsDir && err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// longLivedChangelog reads changelog/changelog-<id>; a missing one wraps
// spec.ErrNotFound.
func (t *Table) longLivedChangelog(ctx context.Context, id int64) (*spec.Snapshot, error) {
	data, err := t.fs.Get(ctx, t.changelogPath(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("changelog %d: %w", id, spec.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("changelog %d: %w", id, err)
	}
	snap, err := spec.DecodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.changelogPath(id), err)
	}
	return snap, nil
}

// keepChangelog copies an expiring snapshot to its long-lived changelog.
func (t *Table) keepChangelog(ctx context.Context, snap *spec.Snapshot) error {
	if err := t.fs.Put(ctx, t.changelogPath(snap.ID), spec.EncodeSnapshot(snap)); err != nil {
		return fmt.Errorf("keep changelog %d: %w", snap.ID, err)
	}
	// A hint, as the snapshots' are.
	_ = t.fs.Put(ctx, path.Join(t.changelogDir(), "LATEST"), []byte(strconv.FormatInt(snap.ID, 10)))
	return nil
}

// expireChangelogs expires long-lived changelogs by the changelog
// retention options, as ExpireChangelogImpl does: it never expires the
// newest long-lived changelog, one within changelog.num-retained.min of
// the latest snapshot, one a consumer reads next or later, nor one
// committed within changelog.time-retained of now.
func (t *Table) expireChangelogs(ctx context.Context, cfg expireConfig, res *ExpireResult) error {
	ids, err := t.changelogIDs(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	latest, err := t.snapshots.LatestID(ctx)
	if err != nil || latest == 0 {
		return err
	}
	earliestC, latestC := ids[0], ids[len(ids)-1]
	from := max(latest-int64(t.opts.ChangelogNumRetainedMax)+1, earliestC)
	end := latest - int64(t.opts.ChangelogNumRetainedMin) + 1
	if next, ok, err := t.consumersNext(ctx); err != nil {
		return err
	} else if ok {
		end = min(end, next)
	}
	end = min(end, earliestC+int64(cfg.limit), latestC)
	if end <= earliestC {
		return nil
	}
	youngest := cfg.now.Add(-t.opts.ChangelogTimeRetained).UnixMilli()
	for id := from; id < end; id++ {
		c, err := t.longLivedChangelog(ctx, id)
		if errors.Is(err, spec.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if c.TimeMillis >= youngest {
			end = id
			break
		}
	}
	for _, id := range ids {
		if id >= end {
			break
		}
		if err := t.expireChangelog(ctx, id, res); err != nil {
			return err
		}
		res.ChangelogsExpired++
	}
	_ = t.fs.Put(ctx, path.Join(t.changelogDir(), "EARLIEST"), []byte(strconv.FormatInt(end, 10)))
	return nil
}

// expireChangelog deletes long-lived changelog id: its changelog files,
// its changelog manifests and list, then the changelog file.
func (t *Table) expireChangelog(ctx context.Context, id int64, res *ExpireResult) error {
	c, err := t.longLivedChangelog(ctx, id)
	if errors.Is(err, spec.ErrNotFound) {
		return nil // another run expired it
	}
	if err != nil {
		return err
	}
	if c.ChangelogManifestList != nil {
		n, err := t.deleteChangelogFiles(ctx, c)
		res.ChangelogFiles += n
		if err != nil {
			return err
		}
		metas, err := t.manifests.ReadManifestList(ctx, *c.ChangelogManifestList)
		if err != nil && !isNotFound(err) {
			return err
		}
		for _, m := range metas {
			if err := t.fs.Delete(ctx, t.manifests.Path(m.FileName)); err != nil {
				return fmt.Errorf("expire changelog %d: %w", id, err)
			}
			res.Manifests++
		}
		if err := t.fs.Delete(ctx, t.manifests.Path(*c.ChangelogManifestList)); err != nil {
			return fmt.Errorf("expire changelog %d: %w", id, err)
		}
		res.Manifests++
	}
	if err := t.fs.Delete(ctx, t.changelogPath(id)); err != nil {
		return fmt.Errorf("expire changelog %d: %w", id, err)
	}
	return nil
}

// changelogRetention says whether long-lived changelogs are kept, and
// refuses the one case expiration cannot honour.
func (t *Table) changelogRetention() (decoupled bool, err error) {
	if !t.changelogDecoupled() {
		return false, nil
	}
	if t.opts.ChangelogProducer == spec.ChangelogProducerNone {
		return true, fmt.Errorf("%w: changelog.num-retained/time-retained beyond the snapshots' with changelog-producer none (the changelog is then the data files, which expiration would have to keep)", ErrUnsupported)
	}
	return true, nil
}
