package table

import (
	"context"
	"errors"

	"github.com/stratalake/strata/spec"
)

// committedIdentifier returns the commit identifier of the newest snapshot
// the user committed, and whether there is one. It walks back from the latest
// snapshot until an expired (missing) one, as Java's filterCommitted does.
func (c *Commit) committedIdentifier(ctx context.Context) (int64, int64, bool, error) {
	latest, err := c.t.snapshots.LatestID(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	for id := latest; id >= 1; id-- {
		s, err := c.t.snapshots.Get(ctx, id)
		if errors.Is(err, spec.ErrNotFound) {
			break
		}
		if err != nil {
			return 0, 0, false, err
		}
		if s.CommitUser == c.user {
			return s.CommitIdentifier, s.ID, true, nil
		}
	}
	return 0, 0, false, nil
}

// AlreadyCommitted reports whether identifier was committed by this commit
// user already (its newest snapshot has an identifier at least as large),
// and that newest snapshot's id, which need not be the one that committed
// identifier (see CommittedSnapshot). Replaying a checkpoint after a crash
// uses it to commit nothing twice.
func (c *Commit) AlreadyCommitted(ctx context.Context, identifier int64) (bool, int64, error) {
	if !c.known {
		last, snap, ok, err := c.committedIdentifier(ctx)
		if err != nil {
			return false, 0, err
		}
		c.known, c.has, c.lastIdentifier, c.lastSnapshot = true, ok, last, snap
	}
	if !c.has {
		return false, 0, nil
	}
	return identifier <= c.lastIdentifier, c.lastSnapshot, nil
}

// remember records a successful snapshot, so the next commits need not walk
// the snapshots again.
func (c *Commit) remember(identifier, snapshot int64) {
	if !c.known {
		return
	}
	if !c.has || identifier >= c.lastIdentifier {
		c.has, c.lastIdentifier, c.lastSnapshot = true, identifier, snapshot
	}
}

// LastCommitted returns the identifier and snapshot of this commit user's
// newest snapshot, if any. A restarted committer resumes there: it commits
// that identifier's messages again (the snapshots that landed are found and
// skipped, a missing COMPACT is written), then the later ones.
func (c *Commit) LastCommitted(ctx context.Context) (identifier, snapshot int64, ok bool, err error) {
	return c.committedIdentifier(ctx)
}

// CommittedSnapshot returns the snapshot that committed identifier for this
// commit user: its APPEND snapshot, else its COMPACT one (an identifier
// whose commit only compacted). It returns 0 when the user has no snapshot
// of identifier: the identifier committed nothing (a later one covers it),
// or its snapshots have expired.
func (c *Commit) CommittedSnapshot(ctx context.Context, identifier int64) (int64, error) {
	for _, kind := range []spec.CommitKind{spec.CommitKindAppend, spec.CommitKindCompact} {
		ok, id, err := c.stepCommitted(ctx, identifier, kind)
		if err != nil || ok {
			return id, err
		}
	}
	return 0, nil
}

// stepCommitted reports whether this user already has a snapshot of kind
// for identifier. It walks back from the latest snapshot, past other users'
// snapshots, until one of this user's with a smaller identifier.
func (c *Commit) stepCommitted(ctx context.Context, identifier int64, kind spec.CommitKind) (bool, int64, error) {
	if _, _, err := c.AlreadyCommitted(ctx, identifier); err != nil { // fills the cache
		return false, 0, err
	}
	if !c.has || identifier > c.lastIdentifier {
		return false, 0, nil
	}
	latest, err := c.t.snapshots.LatestID(ctx)
	if err != nil {
		return false, 0, err
	}
	for id := latest; id >= 1; id-- {
		s, err := c.t.snapshots.Get(ctx, id)
		if errors.Is(err, spec.ErrNotFound) {
			break
		}
		if err != nil {
			return false, 0, err
		}
		if s.CommitUser != c.user {
			continue
		}
		if s.CommitIdentifier == identifier && s.CommitKind == kind {
			return true, s.ID, nil
		}
		if s.CommitIdentifier < identifier {
			break
		}
	}
	return false, 0, nil
}

// findSince looks for this user's (identifier, kind) snapshot among those
// newer than after; it returns its id, or 0.
func (c *Commit) findSince(ctx context.Context, after, identifier int64, kind spec.CommitKind) (int64, error) {
	latest, err := c.t.snapshots.LatestID(ctx)
	if err != nil {
		return 0, err
	}
	for id := latest; id > after; id-- {
		s, err := c.t.snapshots.Get(ctx, id)
		if errors.Is(err, spec.ErrNotFound) {
			break
		}
		if err != nil {
			return 0, err
		}
		if s.CommitUser == c.user && s.CommitIdentifier == identifier && s.CommitKind == kind {
			return s.ID, nil
		}
	}
	return 0, nil
}
