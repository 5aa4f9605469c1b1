//go:build !strata_faultpoints

package faultpoint

import (
	"testing"
	"time"
)

// Without the build tag a named point does nothing, whatever the
// environment says.
func TestHitIsNoOp(t *testing.T) {
	t.Setenv("STRATA_CRASH_AT", FlushWritten)
	t.Setenv("STRATA_CRASH_CLOCK", "2h")
	for range 3 {
		Hit(FlushWritten)
	}
	if d := time.Since(Now()); d < -time.Minute || Enabled {
		t.Fatalf("Now is %v ahead, Enabled %v", -d, Enabled)
	}
}
