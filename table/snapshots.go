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

// ErrUncertainCommit marks a commit whose snapshot write may or may not have
// landed. Committing the same (user, identifier) again is safe: the
// committer finds its snapshot if it landed.
var ErrUncertainCommit = errors.New("commit outcome unknown")

// Snapshots reads and publishes a table's snapshot files.
type Snapshots struct {
	fs  storage.Storage
	dir string // <table>/snapshot
}

func newSnapshots(fs storage.Storage, tablePath string) *Snapshots {
	return &Snapshots{fs: fs, dir: path.Join(tablePath, "snapshot")}
}

func (s *Snapshots) path(id int64) string {
	return path.Join(s.dir, "snapshot-"+strconv.FormatInt(id, 10))
}

// Get reads snapshot id; a missing one is an error wrapping spec.ErrNotFound.
func (s *Snapshots) Get(ctx context.Context, id int64) (*spec.Snapshot, error) {
	data, err := s.fs.Get(ctx, s.path(id))
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("snapshot %d: %w", id, spec.ErrNotFound)
		}
		return nil, fmt.Errorf("snapshot %d: %w", id, err)
	}
	snap, err := spec.DecodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path(id), err)
	}
	return snap, nil
}

// missing returns the error for a snapshot id that does not exist, naming
// the range that does (spec.ErrNotFound).
func (s *Snapshots) missing(ctx context.Context, id int64) error {
	earliest, err := s.EarliestID(ctx)
	if err != nil {
		return fmt.Errorf("snapshot %d %w (listing the snapshots failed: %v)", id, spec.ErrNotFound, err)
	}
	latest, err := s.LatestID(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("snapshot %d %w (listing the snapshots failed: %v)", id, spec.ErrNotFound, err)
	case latest == 0:
		return fmt.Errorf("snapshot %d %w: the table has no snapshots yet", id, spec.ErrNotFound)
	case earliest == latest:
		return fmt.Errorf("snapshot %d %w: the table has snapshot %d only", id, spec.ErrNotFound, latest)
	}
	return fmt.Errorf("snapshot %d %w: the table has snapshots %d..%d", id, spec.ErrNotFound, earliest, latest)
}

func (s *Snapshots) exists(ctx context.Context, id int64) (bool, error) {
	_, err := s.fs.Stat(ctx, s.path(id))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *Snapshots) readHint(ctx context.Context, name string) int64 {
	data, err := s.fs.Get(ctx, path.Join(s.dir, name))
	if err != nil {
		return 0
	}
	id, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// IDs lists the ids of all snapshot files, ascending.
func (s *Snapshots) IDs(ctx context.Context) ([]int64, error) {
	infos, err := s.fs.List(ctx, s.dir, false)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var ids []int64
	for _, fi := range infos {
		name := path.Base(fi.Path)
		if !strings.HasPrefix(name, "snapshot-") {
			continue
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(name, "snapshot-"), 10, 64)
		if err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// LatestID returns the newest snapshot id, or 0 when the table has none. The
// LATEST hint is trusted only when the snapshot after it does not exist, as
// Java's HintFileUtils does.
func (s *Snapshots) LatestID(ctx context.Context) (int64, error) {
	if hint := s.readHint(ctx, "LATEST"); hint > 0 {
		next, err := s.exists(ctx, hint+1)
		if err != nil {
			return 0, err
		}
		if !next {
			if ok, err := s.exists(ctx, hint); err == nil && ok {
				return hint, nil
			}
		}
	}
	ids, err := s.IDs(ctx)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[len(ids)-1], nil
}

// EarliestID returns the oldest snapshot id, or 0 when there is none.
func (s *Snapshots) EarliestID(ctx context.Context) (int64, error) {
	if hint := s.readHint(ctx, "EARLIEST"); hint > 0 {
		if ok, err := s.exists(ctx, hint); err == nil && ok {
			return hint, nil
		}
	}
	ids, err := s.IDs(ctx)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// Latest returns the newest snapshot, or nil when the table has none.
func (s *Snapshots) Latest(ctx context.Context) (*spec.Snapshot, error) {
	id, err := s.LatestID(ctx)
	if err != nil || id == 0 {
		return nil, err
	}
	return s.Get(ctx, id)
}

// publish writes snapshot-N only if it does not exist yet; it reports false
// when another committer got there first. An uncertain failure (the write's
// answer was lost) is resolved by reading the file back and comparing.
func (s *Snapshots) publish(ctx context.Context, snap *spec.Snapshot) (bool, error) {
	data := spec.EncodeSnapshot(snap)
	faultpoint.Hit(faultpoint.SnapshotBeforePublish)
	if err := s.fs.PutIfAbsent(ctx, s.path(snap.ID), data); err != nil {
		// ErrExist may also mean our own write landed and its answer was
		// lost (an S3 retry then sees 412); any other error leaves the
		// outcome unknown. Reading back settles both: the snapshot carries a
		// random UUID, so equal bytes can only be ours.
		got, rerr := s.fs.Get(ctx, s.path(snap.ID))
		switch {
		case rerr == nil && string(got) == string(data):
		case rerr == nil && errors.Is(err, storage.ErrExist):
			return false, nil // another committer's snapshot: a lost race
		case rerr != nil:
			// Neither the write nor the read-back answered: the outcome
			// is unknown, and guessing either way could lose or
			// duplicate the commit.
			// The write's cause stays visible to errors.Is (a full
			// disk, a refused permission); the read-back's is only
			// told (its not-found says nothing about the table).
			return false, fmt.Errorf("%w: publish snapshot %d: outcome unknown (%w; read-back: %v)", ErrUncertainCommit, snap.ID, err, rerr)
		default:
			return false, fmt.Errorf("publish snapshot %d: %w", snap.ID, err)
		}
	}
	faultpoint.Hit(faultpoint.SnapshotAfterPublish)
	// Hints are best effort: readers verify them.
	_ = s.fs.Put(ctx, path.Join(s.dir, "LATEST"), []byte(strconv.FormatInt(snap.ID, 10)))
	if snap.ID == 1 {
		_ = s.fs.Put(ctx, path.Join(s.dir, "EARLIEST"), []byte("1"))
	}
	return true, nil
}
