package table

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/stratalake/strata/spec"
)

// A committer expires snapshots after each commit, and most runs find
// nothing: with the defaults (at least 10 kept, the rest for an hour) a
// snapshot ages out once an hour after its successor landed. Each run
// lists the tags and the consumers and resolves the earliest and latest
// snapshots, seven round trips to object storage on every commit. So a run
// that expired nothing says what must change before anything can, and the
// committer skips the runs until then; skipping only delays an
// expiration, and another process's (the maintenance job's) is unaffected.

// expireIdle is what must change before an expiration can remove anything:
// the latest snapshot passing maxLatest (snapshot.num-retained.max), or,
// once it reaches minLatest (snapshot.num-retained.min), the time passing
// until (the earliest snapshot's successor aged past
// snapshot.time-retained).
type expireIdle struct {
	maxLatest int64
	minLatest int64
	until     time.Time // zero: not known (the successor did not exist)
}

// skips reports whether an expiration after the commit of snapshot latest,
// at now, can be skipped.
func (e *expireIdle) skips(latest int64, now time.Time) bool {
	if e == nil || latest > e.maxLatest {
		return false
	}
	if latest < e.minLatest {
		return true
	}
	return !e.until.IsZero() && !now.After(e.until)
}

// idleAfter is the expireIdle of an expiration under cfg that kept every
// snapshot from earliest to latest.
func (t *Table) idleAfter(ctx context.Context, cfg expireConfig, earliest, latest int64) (*expireIdle, error) {
	e := &expireIdle{maxLatest: math.MaxInt64, minLatest: earliest + int64(cfg.retainMin)}
	if int64(cfg.retainMax) < math.MaxInt64-earliest {
		e.maxLatest = earliest + int64(cfg.retainMax) - 1
	}
	if latest < e.minLatest {
		return e, nil
	}
	// The earliest expires once its successor is older than the time
	// retained (expireEnd).
	next, err := t.snapshots.Get(ctx, earliest+1)
	if errors.Is(err, spec.ErrNotFound) {
		return nil, nil // expired meanwhile by another process
	}
	if err != nil {
		return nil, err
	}
	e.until = time.UnixMilli(next.TimeMillis).Add(cfg.timeRetained)
	return e, nil
}

// anyRetained reports whether a tag has a retention (tags expire by time).
func anyRetained(tags []TagInfo) bool {
	for _, tag := range tags {
		if tag.TimeRetained != nil {
			return true
		}
	}
	return false
}
