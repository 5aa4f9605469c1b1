package backoff

import (
	"context"
	"testing"
	"time"
)

// Waits double from the initial one up to the cap, each with at most as
// much again in jitter.
func TestNextDoublesToTheCap(t *testing.T) {
	b := New(10*time.Millisecond, 40*time.Millisecond)
	for i, base := range []time.Duration{10, 20, 40, 40, 40} {
		base *= time.Millisecond
		if d := b.Next(); d < base || d > 2*base {
			t.Fatalf("wait %d: %s, want within [%s, %s]", i, d, base, 2*base)
		}
	}
}

func TestWaitStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := New(time.Hour, time.Hour).Wait(ctx); err != context.Canceled {
		t.Fatalf("Wait on a cancelled context: %v", err)
	}
}
