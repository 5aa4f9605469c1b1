package table

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Orphan cleaning (Paimon's LocalOrphanFilesClean): files in the table's
// manifest, index and statistics directories and in its buckets that no
// snapshot and no tag references, left by failed commits, abandoned
// writers and compactions that lost a race, are deleted once older than a
// guard. The guard is what keeps a writer's files safe between writing
// and committing them, so it must exceed the longest a writer holds files
// before its commit. Files are matched by name, as Paimon matches them.
// On local disk the hidden temporary files of writes that never finished
// (a killed process's) are orphans too.

// DefaultOrphanAge is how old an unreferenced file must be before
// CleanOrphans deletes it, unless WithOrphanAge says otherwise (Paimon's
// default: a day).
const DefaultOrphanAge = 24 * time.Hour

// OrphanOption adjusts CleanOrphans.
type OrphanOption func(*orphanConfig)

type orphanConfig struct {
	age    time.Duration
	now    time.Time
	dryRun bool
}

// WithOrphanAge deletes unreferenced files older than age (at least 0).
func WithOrphanAge(age time.Duration) OrphanOption { return func(c *orphanConfig) { c.age = age } }

// WithOrphanTime cleans as if the time were now.
func WithOrphanTime(now time.Time) OrphanOption { return func(c *orphanConfig) { c.now = now } }

// WithDryRun lists the orphans without deleting them.
func WithDryRun() OrphanOption { return func(c *orphanConfig) { c.dryRun = true } }

// OrphanResult is what CleanOrphans found.
type OrphanResult struct {
	// Orphans are the unreferenced files old enough to delete (deleted
	// unless a dry run), with their total size.
	Orphans []string
	Bytes   int64
	// Young counts unreferenced files the age guard kept.
	Young int
}

// CleanOrphans deletes the table's files that no snapshot or tag
// references and that are older than the age guard (DefaultOrphanAge).
// Files are listed before the snapshots are read, so a file committed
// meanwhile is referenced by what is read.
func (t *Table) CleanOrphans(ctx context.Context, opts ...OrphanOption) (OrphanResult, error) {
	cfg := orphanConfig{age: DefaultOrphanAge, now: faultpoint.Now()}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.age < 0 {
		return OrphanResult{}, fmt.Errorf("orphans: negative age %v", cfg.age)
	}
	candidates, err := t.orphanCandidates(ctx)
	if err != nil {
		return OrphanResult{}, err
	}
	used, err := t.usedFileNames(ctx)
	if err != nil {
		return OrphanResult{}, err
	}
	var res OrphanResult
	cutoff := cfg.now.Add(-cfg.age)
	for _, fi := range candidates {
		if used[path.Base(fi.Path)] {
			continue
		}
		if !fi.ModTime.Before(cutoff) {
			res.Young++
			continue
		}
		if !cfg.dryRun {
			if err := t.fs.Delete(ctx, fi.Path); err != nil {
				return res, fmt.Errorf("orphans: %w", err)
			}
			faultpoint.Hit(faultpoint.OrphanDeleted)
		}
		res.Orphans = append(res.Orphans, fi.Path)
		res.Bytes += fi.Size
	}
	return res, t.cleanLeftovers(ctx, cfg, cutoff, &res)
}

// cleanLeftovers deletes the temporary files of writes that never
// finished (a process killed while writing, on a backend that leaves them:
// storage.LeftoverLister) once older than the age guard; no live write
// keeps a temporary file that long without touching it.
func (t *Table) cleanLeftovers(ctx context.Context, cfg orphanConfig, cutoff time.Time, res *OrphanResult) error {
	ll, ok := t.fs.(storage.LeftoverLister)
	if !ok {
		return nil
	}
	left, err := ll.Leftovers(ctx, t.path)
	if err != nil {
		return fmt.Errorf("orphans: %w", err)
	}
	for _, fi := range left {
		if !fi.ModTime.Before(cutoff) {
			res.Young++
			continue
		}
		if !cfg.dryRun {
			if err := ll.DeleteLeftover(ctx, fi.Path); err != nil {
				return fmt.Errorf("orphans: %w", err)
			}
			faultpoint.Hit(faultpoint.OrphanDeleted)
		}
		res.Orphans = append(res.Orphans, fi.Path)
		res.Bytes += fi.Size
	}
	return nil
}

// orphanCandidates lists the files orphan cleaning may delete: those in
// manifest/, index/, statistics/ and bucket directories, and files in
// snapshot/ that are neither snapshots nor hints.
func (t *Table) orphanCandidates(ctx context.Context) ([]storage.FileInfo, error) {
	infos, err := t.fs.List(ctx, t.path, true)
	if err != nil {
		return nil, fmt.Errorf("orphans: list %s: %w", t.path, err)
	}
	var out []storage.FileInfo
	for _, fi := range infos {
		rel := strings.TrimPrefix(fi.Path, t.path+"/")
		dir, name := path.Split(rel)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case fi.IsDir:
		case dir == "manifest" || dir == "index" || dir == "statistics":
			out = append(out, fi)
		case dir == "snapshot":
			if !strings.HasPrefix(name, "snapshot-") && name != "EARLIEST" && name != "LATEST" {
				out = append(out, fi)
			}
		case strings.HasPrefix(path.Base(dir), "bucket-") && t.isDataDir(path.Dir(dir)):
			out = append(out, fi)
		}
	}
	return out, nil
}

// isDataDir reports whether dir ("." for the table's root) holds buckets:
// the root of an unpartitioned table, or k=v directories one level per
// partition column.
func (t *Table) isDataDir(dir string) bool {
	levels := len(t.schema.PartitionKeys)
	if dir == "." {
		return levels == 0
	}
	parts := strings.Split(dir, "/")
	if len(parts) != levels {
		return false
	}
	for i, p := range parts {
		if !strings.HasPrefix(p, t.schema.PartitionKeys[i]+"=") {
			return false
		}
	}
	return true
}

// usedFileNames names every file a snapshot, tag or long-lived changelog
// references: manifest
// lists, manifests, index manifests and index files, statistics, data and
// changelog files with their extra files (ADD and DELETE entries alike).
// Metadata that vanished meanwhile (an expiration) counts as empty.
func (t *Table) usedFileNames(ctx context.Context) (map[string]bool, error) {
	ids, err := t.snapshots.IDs(ctx)
	if err != nil {
		return nil, err
	}
	var snaps []*spec.Snapshot
	for _, id := range ids {
		s, err := t.snapshots.Get(ctx, id)
		if errors.Is(err, spec.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, s)
	}
	tags, err := t.Tags(ctx)
	if err != nil {
		return nil, err
	}
	for _, tag := range tags {
		snaps = append(snaps, tag.Snapshot)
	}
	cids, err := t.changelogIDs(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range cids {
		c, err := t.longLivedChangelog(ctx, id)
		if errors.Is(err, spec.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, c)
	}
	used := map[string]bool{}
	readManifests := map[string]bool{}
	for _, s := range snaps {
		if err := t.markUsed(ctx, s, used, readManifests); err != nil {
			return nil, fmt.Errorf("orphans: files of snapshot %d: %w", s.ID, err)
		}
	}
	return used, nil
}

// markUsed adds the names of the files snapshot s references to used,
// reading each manifest once (readManifests). Metadata already gone (an
// expired snapshot's lists, behind a long-lived changelog) counts as empty.
func (t *Table) markUsed(ctx context.Context, s *spec.Snapshot, used, readManifests map[string]bool) error {
	lists := []string{s.BaseManifestList, s.DeltaManifestList}
	if s.ChangelogManifestList != nil {
		lists = append(lists, *s.ChangelogManifestList)
	}
	for _, l := range lists {
		if l == "" {
			continue
		}
		used[l] = true
		metas, err := t.manifests.ReadManifestList(ctx, l)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		for _, m := range metas {
			used[m.FileName] = true
			if readManifests[m.FileName] {
				continue
			}
			readManifests[m.FileName] = true
			entries, err := t.manifests.ReadManifest(ctx, m)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			for _, e := range entries {
				used[e.File.FileName] = true
				for _, x := range e.File.ExtraFiles {
					used[x] = true
				}
			}
		}
	}
	if s.Statistics != nil {
		used[*s.Statistics] = true
	}
	if s.IndexManifest == nil {
		return nil
	}
	used[*s.IndexManifest] = true
	entries, err := t.manifests.ReadIndexManifest(ctx, *s.IndexManifest)
	if isNotFound(err) {
		return nil
	}
	for _, e := range entries {
		used[e.FileName] = true
	}
	return err
}
