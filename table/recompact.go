package table

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratalake/strata/internal/backoff"
	"github.com/stratalake/strata/spec"
)

// Recompact redoes, from the latest snapshot, the compactions of msgs whose
// results could not be committed (CommitSteps returned
// ErrCompactionNotCommitted: another writer compacted the same buckets
// first), and commits them under identifier as a COMPACT snapshot. A
// conflict with yet another writer is retried up to attempts times. It
// returns the COMPACT snapshot's id, or 0 when nothing needed compacting.
func (c *Commit) Recompact(ctx context.Context, identifier int64, msgs []CommitMessage, attempts int) (int64, error) {
	var buckets []restoredBucket
	seen := map[string]bool{}
	for _, m := range msgs {
		k := splitKey(m.Partition, m.Bucket)
		if seen[k] || !m.compacts() {
			continue
		}
		seen[k] = true
		buckets = append(buckets, restoredBucket{m.Partition, m.Bucket})
	}
	wait := backoff.New(20*time.Millisecond, 2*time.Second)
	for attempt := 1; ; attempt++ {
		id, err := c.recompactOnce(ctx, identifier, buckets)
		if err == nil || !errors.Is(err, spec.ErrConflict) || attempt >= attempts {
			return id, err
		}
		if err := wait.Wait(ctx); err != nil {
			return 0, err
		}
	}
}

func (c *Commit) recompactOnce(ctx context.Context, identifier int64, buckets []restoredBucket) (int64, error) {
	w, err := c.t.NewWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	for _, b := range buckets {
		bw, err := w.bucketWriter(ctx, b.partition, b.bucket)
		if err != nil {
			return 0, err
		}
		if err := bw.compact(ctx, false); err != nil {
			return 0, fmt.Errorf("bucket %d: %w", b.bucket, err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		return 0, err
	}
	res, err := c.CommitSteps(ctx, identifier, msgs)
	return res.Compact, err
}
