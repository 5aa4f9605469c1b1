package table

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// ErrRollbackRefused marks a rollback that was refused before it changed
// anything: its target is newer than the latest snapshot, or a commit
// landed while it was about to start (then it also wraps spec.ErrConflict).
var ErrRollbackRefused = errors.New("rollback refused")

// RollbackTarget names the snapshot Rollback returns a table to: ToSnapshot
// or ToTag.
type RollbackTarget struct {
	snapshotID int64
	tag        string
}

// ToSnapshot rolls back to snapshot id. When its file has expired but a tag
// holds it, the tag's copy is used, as in Paimon.
func ToSnapshot(id int64) RollbackTarget { return RollbackTarget{snapshotID: id} }

// ToTag rolls back to the snapshot tag name holds.
func ToTag(name string) RollbackTarget { return RollbackTarget{tag: name} }

// RollbackResult says what Rollback did.
type RollbackResult struct {
	// Snapshot is the target, the table's latest snapshot afterwards.
	Snapshot *spec.Snapshot
	// DeletedSnapshots are the snapshot ids whose files were deleted,
	// ascending; DeletedChangelogs likewise for long-lived changelog
	// files (changelog/changelog-N, which Java writes when changelogs
	// outlive snapshots).
	DeletedSnapshots, DeletedChangelogs []int64
	// DeletedTags are the tags of newer snapshots that were deleted.
	DeletedTags []string
	// Restored is set when the target's snapshot file had expired and was
	// written back from its tag (the target is then also the earliest).
	Restored bool
}

// Rollback makes the target snapshot the table's latest, as Paimon's
// file-system rollback does (RollbackHelper): the LATEST hint is set to the
// target, the snapshot files after it are deleted newest first, then
// long-lived changelog files after it, then the tags of snapshots after it.
// When the target comes from a tag whose snapshot file has expired, that
// file is written back from the tag first and EARLIEST points at it. No data
// or manifest file is deleted: the rolled-back snapshots' files become
// orphans, for an orphan-file cleaner. The next commit gets the id after the
// target's.
//
// What it guarantees against concurrent writers, with no lock in the file
// protocol: it is refused with nothing changed (ErrRollbackRefused and
// spec.ErrConflict) when a snapshot is committed between its first look and
// its first write; it deletes only snapshot and tag files it listed at the
// start, each once, so a snapshot committed while it runs is never deleted;
// and such a snapshot (or a tag of a snapshot after the target) is reported
// afterwards as an error wrapping spec.ErrConflict, alongside the result,
// because it may build on rolled-back snapshots. Stop the table's writers
// before rolling back; after such an error, or an I/O error part way,
// running Rollback again finishes the job.
func (t *Table) Rollback(ctx context.Context, to RollbackTarget) (*RollbackResult, error) {
	ids, err := t.snapshots.IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	target, restore, err := t.rollbackTarget(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	if n := len(ids); n > 0 && target.ID > ids[n-1] {
		return nil, fmt.Errorf("rollback: %w: snapshot %d is newer than the latest, %d", ErrRollbackRefused, target.ID, ids[n-1])
	}
	// The last look before writing: a commit since the listing is refused.
	if err := t.checkNoNewSnapshot(ctx, ids); err != nil {
		return nil, err
	}
	res := &RollbackResult{Snapshot: target, Restored: restore}
	if restore {
		if err := t.restoreSnapshot(ctx, target); err != nil {
			return nil, fmt.Errorf("rollback: %w", err)
		}
	}
	if err := t.snapshots.writeHint(ctx, "LATEST", target.ID); err != nil {
		return res, fmt.Errorf("rollback: write the LATEST hint: %w", err)
	}
	faultpoint.Hit(faultpoint.RollbackHintWritten)
	for i := len(ids) - 1; i >= 0 && ids[i] > target.ID; i-- {
		if err := t.fs.Delete(ctx, t.snapshots.path(ids[i])); err != nil {
			return res, fmt.Errorf("rollback: delete snapshot %d: %w", ids[i], err)
		}
		res.DeletedSnapshots = append([]int64{ids[i]}, res.DeletedSnapshots...)
		faultpoint.Hit(faultpoint.RollbackSnapshotDeleted)
	}
	if res.DeletedChangelogs, err = t.rollbackChangelogs(ctx, target.ID); err != nil {
		return res, fmt.Errorf("rollback: %w", err)
	}
	if res.DeletedTags, err = t.deleteTagsAfter(ctx, target.ID); err != nil {
		return res, fmt.Errorf("rollback: %w", err)
	}
	return res, t.checkRolledBack(ctx, target.ID)
}

// rollbackTarget resolves the target snapshot, and whether its file must be
// written back from a tag.
func (t *Table) rollbackTarget(ctx context.Context, to RollbackTarget) (*spec.Snapshot, bool, error) {
	if to.tag != "" {
		tg, err := t.Tag(ctx, to.tag)
		if err != nil {
			return nil, false, err
		}
		ok, err := t.snapshots.exists(ctx, tg.Snapshot.ID)
		return tg.Snapshot, !ok, err
	}
	if to.snapshotID <= 0 {
		return nil, false, fmt.Errorf("snapshot %d %w: snapshot ids start at 1", to.snapshotID, spec.ErrNotFound)
	}
	snap, err := t.snapshots.Get(ctx, to.snapshotID)
	if !errors.Is(err, spec.ErrNotFound) {
		return snap, false, err
	}
	tags, err := t.Tags(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, tg := range tags {
		if tg.Snapshot.ID == to.snapshotID {
			return tg.Snapshot, true, nil
		}
	}
	return nil, false, t.snapshots.missing(ctx, to.snapshotID)
}

// checkNoNewSnapshot refuses when a snapshot after listed appeared.
func (t *Table) checkNoNewSnapshot(ctx context.Context, listed []int64) error {
	now, err := t.snapshots.IDs(ctx)
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	var last int64
	if len(listed) > 0 {
		last = listed[len(listed)-1]
	}
	if len(now) > 0 && now[len(now)-1] > last {
		return fmt.Errorf("rollback: %w: %w: snapshot %d was committed meanwhile; stop the table's writers and try again",
			ErrRollbackRefused, spec.ErrConflict, now[len(now)-1])
	}
	return nil
}

// restoreSnapshot writes an expired target's snapshot file back from its tag
// and points EARLIEST at it.
func (t *Table) restoreSnapshot(ctx context.Context, snap *spec.Snapshot) error {
	data := spec.EncodeSnapshot(snap)
	if err := t.fs.PutIfAbsent(ctx, t.snapshots.path(snap.ID), data); err != nil {
		got, rerr := t.fs.Get(ctx, t.snapshots.path(snap.ID))
		if rerr != nil || string(got) != string(data) {
			return fmt.Errorf("restore snapshot %d from its tag: %w", snap.ID, err)
		}
	}
	if err := t.snapshots.writeHint(ctx, "EARLIEST", snap.ID); err != nil {
		return fmt.Errorf("write the EARLIEST hint: %w", err)
	}
	return nil
}

// writeHint writes the LATEST or EARLIEST hint file.
func (s *Snapshots) writeHint(ctx context.Context, name string, id int64) error {
	return s.fs.Put(ctx, path.Join(s.dir, name), []byte(strconv.FormatInt(id, 10)))
}

// rollbackChangelogs deletes long-lived changelog files after target and
// moves their LATEST hint as Java's RollbackHelper does: to the target, or
// -1 when none is left.
func (t *Table) rollbackChangelogs(ctx context.Context, target int64) ([]int64, error) {
	dir := t.changelogDir()
	ids, err := t.changelogIDs(ctx)
	if err != nil {
		return nil, err
	}
	first := sort.Search(len(ids), func(i int) bool { return ids[i] > target })
	if first == len(ids) {
		return nil, nil
	}
	hint := target
	if first == 0 {
		hint = -1
	}
	if err := t.fs.Put(ctx, path.Join(dir, "LATEST"), []byte(strconv.FormatInt(hint, 10))); err != nil {
		return nil, fmt.Errorf("write the changelog LATEST hint: %w", err)
	}
	for i := len(ids) - 1; i >= first; i-- {
		if err := t.fs.Delete(ctx, t.changelogPath(ids[i])); err != nil {
			return nil, fmt.Errorf("delete changelog %d: %w", ids[i], err)
		}
	}
	return ids[first:], nil
}

// deleteTagsAfter deletes the tags of snapshots after target.
func (t *Table) deleteTagsAfter(ctx context.Context, target int64) ([]string, error) {
	tags, err := t.Tags(ctx)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, tg := range tags {
		if tg.Snapshot.ID <= target {
			continue
		}
		if err := t.fs.Delete(ctx, t.tagPath(tg.Name)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return deleted, fmt.Errorf("delete tag %q: %w", tg.Name, err)
		}
		deleted = append(deleted, tg.Name)
	}
	return deleted, nil
}

// checkRolledBack reports snapshots or tags after target that exist once
// the rollback is done: commits (or tags) that landed while it ran.
func (t *Table) checkRolledBack(ctx context.Context, target int64) error {
	ids, err := t.snapshots.IDs(ctx)
	if err != nil {
		return fmt.Errorf("rollback: check: %w", err)
	}
	var late []string
	for _, id := range ids {
		if id > target {
			late = append(late, "snapshot "+strconv.FormatInt(id, 10))
		}
	}
	tags, err := t.Tags(ctx)
	if err != nil {
		return fmt.Errorf("rollback: check: %w", err)
	}
	for _, tg := range tags {
		if tg.Snapshot.ID > target {
			late = append(late, fmt.Sprintf("tag %q", tg.Name))
		}
	}
	if len(late) == 0 {
		return nil
	}
	return fmt.Errorf("rollback to snapshot %d: %w: %s appeared while it ran and may build on rolled-back snapshots; stop the table's writers and roll back again",
		target, spec.ErrConflict, strings.Join(late, ", "))
}
