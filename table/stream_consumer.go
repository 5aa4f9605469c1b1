package table

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Consumers (Paimon's ConsumerManager) are streaming readers' progress:
// consumer/consumer-<id> holds the snapshot the reader reads next, in
// Paimon's JSON, so Flink jobs and Strata streams share them.

// checkConsumerID refuses ids that cannot name a file.
func checkConsumerID(id string) error {
	if id == "" || strings.ContainsAny(id, "/\\") || id == "." || id == ".." || strings.TrimSpace(id) != id {
		return fmt.Errorf("%w: consumer id %q: want a non-empty name without slashes or surrounding spaces", spec.ErrInvalidOption, id)
	}
	return nil
}

func (t *Table) consumerPath(id string) string {
	return path.Join(t.path, "consumer", "consumer-"+id)
}

// Consumer reads a consumer's progress; nil when it has none.
func (t *Table) Consumer(ctx context.Context, id string) (*spec.Consumer, error) {
	if err := checkConsumerID(id); err != nil {
		return nil, err
	}
	data, err := t.fs.Get(ctx, t.consumerPath(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %q: %w", id, err)
	}
	c, err := spec.DecodeConsumer(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.consumerPath(id), err)
	}
	return c, nil
}

// ResetConsumer stores that consumer id reads snapshot next next (Paimon's
// resetConsumer), replacing its progress.
func (t *Table) ResetConsumer(ctx context.Context, id string, next int64) error {
	if err := checkConsumerID(id); err != nil {
		return err
	}
	if next < 1 {
		return fmt.Errorf("%w: consumer %q: next snapshot %d, want at least 1", spec.ErrInvalidOption, id, next)
	}
	if err := t.fs.Put(ctx, t.consumerPath(id), spec.EncodeConsumer(&spec.Consumer{NextSnapshot: next})); err != nil {
		return fmt.Errorf("store consumer %q: %w", id, err)
	}
	return nil
}

// DeleteConsumer removes a consumer, so expiration no longer keeps
// snapshots for it; a missing one is not an error.
func (t *Table) DeleteConsumer(ctx context.Context, id string) error {
	if err := checkConsumerID(id); err != nil {
		return err
	}
	if err := t.fs.Delete(ctx, t.consumerPath(id)); err != nil {
		return fmt.Errorf("delete consumer %q: %w", id, err)
	}
	return nil
}

// Consumers lists every consumer's next snapshot, by id.
func (t *Table) Consumers(ctx context.Context) (map[string]int64, error) {
	infos, err := t.fs.List(ctx, path.Join(t.path, "consumer"), false)
	if err != nil {
		return nil, fmt.Errorf("list consumers: %w", err)
	}
	out := map[string]int64{}
	for _, fi := range infos {
		id, ok := strings.CutPrefix(path.Base(fi.Path), "consumer-")
		if !ok || fi.IsDir || checkConsumerID(id) != nil {
			continue
		}
		c, err := t.Consumer(ctx, id)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out[id] = c.NextSnapshot
		}
	}
	return out, nil
}

// expireConsumers deletes the consumers not written for
// consumer.expiration-time (Paimon expires them after a commit, before
// the snapshots), so an abandoned reader stops holding snapshots back.
func (t *Table) expireConsumers(ctx context.Context, now time.Time) error {
	exp := t.opts.ConsumerExpirationTime
	if exp == nil {
		return nil
	}
	infos, err := t.fs.List(ctx, path.Join(t.path, "consumer"), false)
	if err != nil {
		return fmt.Errorf("list consumers: %w", err)
	}
	for _, fi := range infos {
		if fi.IsDir || !strings.HasPrefix(path.Base(fi.Path), "consumer-") || !fi.ModTime.Before(now.Add(-*exp)) {
			continue
		}
		if err := t.fs.Delete(ctx, fi.Path); err != nil {
			return fmt.Errorf("expire consumer %s: %w", path.Base(fi.Path), err)
		}
	}
	return nil
}
