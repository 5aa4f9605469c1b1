package table

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratalake/strata/spec"
)

// travel says which snapshot a scan or lookup reads: at most one field is
// set (the option given last wins); none means the latest.
type travel struct {
	snapshotID int64
	tag        string
	asOf       *time.Time
}

// WithTag reads the snapshot tag name holds, even after that snapshot's own
// file has expired (the tag keeps a copy, and expiration keeps its files).
func WithTag(name string) ScanOption { return func(s *Scan) { s.travel = travel{tag: name} } }

// WithTimestamp reads the snapshot that was the latest at t: the newest one
// committed at or before t (Paimon's scan.timestamp-millis). A t before the
// earliest snapshot is an error wrapping spec.ErrNotFound.
func WithTimestamp(t time.Time) ScanOption {
	return func(s *Scan) { s.travel = travel{asOf: &t} }
}

// WithLookupTag pins a lookup to the snapshot of tag name, as WithTag does
// for a scan; there is no background refresh.
func WithLookupTag(name string) LookupOption {
	return func(l *Lookup) { l.travel, l.interval = travel{tag: name}, 0 }
}

// WithLookupTimestamp pins a lookup to the snapshot that was the latest at
// t, as WithTimestamp does for a scan; there is no background refresh.
func WithLookupTimestamp(t time.Time) LookupOption {
	return func(l *Lookup) { l.travel, l.interval = travel{asOf: &t}, 0 }
}

// resolve returns the snapshot tr names; nil with no error for the latest
// of a table without snapshots.
func (t *Table) resolve(ctx context.Context, tr travel) (*spec.Snapshot, error) {
	switch {
	case tr.tag != "":
		tg, err := t.Tag(ctx, tr.tag)
		if err != nil {
			return nil, err
		}
		return tg.Snapshot, nil
	case tr.asOf != nil:
		return t.snapshots.AsOf(ctx, *tr.asOf)
	case tr.snapshotID > 0:
		snap, err := t.snapshots.Get(ctx, tr.snapshotID)
		if errors.Is(err, spec.ErrNotFound) {
			err = t.snapshots.missing(ctx, tr.snapshotID)
		}
		return snap, err
	}
	return t.snapshots.Latest(ctx)
}

// maxExpiredRetries bounds how far AsOf walks past snapshots expiring
// under it, as Java's SnapshotManager retries up to 300 ids.
const maxExpiredRetries = 300

// AsOf returns the newest snapshot committed at or before at (timeMillis
// <= at in milliseconds), by binary search over [earliest, latest] as
// Paimon's SnapshotManager.earlierOrEqualTimeMills does, so it assumes
// commit times grow with ids. Where several snapshots share one time it
// returns the newest of them (Java returns whichever its search meets). A
// table without snapshots, or an at before the earliest snapshot, is an
// error wrapping spec.ErrNotFound that names the earliest snapshot's time.
func (s *Snapshots) AsOf(ctx context.Context, at time.Time) (*spec.Snapshot, error) {
	ms := at.UnixMilli()
	latest, err := s.LatestID(ctx)
	if err != nil {
		return nil, err
	}
	if latest == 0 {
		return nil, fmt.Errorf("snapshot as of %s %w: the table has no snapshots yet", formatMillis(ms), spec.ErrNotFound)
	}
	earliest, err := s.EarliestID(ctx)
	if err != nil {
		return nil, err
	}
	first, err := s.firstExisting(ctx, earliest, latest)
	if err != nil {
		return nil, err
	}
	if first.TimeMillis > ms {
		return nil, fmt.Errorf("snapshot as of %s %w: the earliest, snapshot %d, was committed at %s",
			formatMillis(ms), spec.ErrNotFound, first.ID, formatMillis(first.TimeMillis))
	}
	found := first
	lo, hi := first.ID+1, latest
	for lo <= hi {
		mid := lo + (hi-lo)/2
		snap, err := s.Get(ctx, mid)
		switch {
		case errors.Is(err, spec.ErrNotFound):
			// Expired under us: so is everything below it.
			lo = mid + 1
			continue
		case err != nil:
			return nil, err
		}
		if snap.TimeMillis <= ms {
			found, lo = snap, mid+1
		} else {
			hi = mid - 1
		}
	}
	return found, nil
}

// firstExisting reads the earliest snapshot, stepping past ids that
// expire while it looks.
func (s *Snapshots) firstExisting(ctx context.Context, from, latest int64) (*spec.Snapshot, error) {
	for id := from; id <= latest && id < from+maxExpiredRetries; id++ {
		snap, err := s.Get(ctx, id)
		if !errors.Is(err, spec.ErrNotFound) {
			return snap, err
		}
	}
	return nil, fmt.Errorf("snapshots %d..%d vanished while reading them: %w", from, latest, spec.ErrNotFound)
}

// formatMillis prints epoch milliseconds as RFC 3339 in UTC, with the
// milliseconds when there are any.
func formatMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.999Z07:00")
}
