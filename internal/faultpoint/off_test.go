//go:build !strata_faultpoints

package faultpoint

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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

// An untagged build compiles the points away: the binary of a program
// that hits one holds neither Hit nor the point's name.
func TestUntaggedBuildHasNoPoints(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "probe")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/probe").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"probe.point-name-7f3a", "faultpoint.Hit", "STRATA_CRASH_AT"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the untagged binary holds %q", s)
		}
	}
	// The same program built with the tag does hold them: the check can fail.
	if out, err := exec.Command("go", "build", "-tags", "strata_faultpoints", "-o", bin, "./testdata/probe").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags strata_faultpoints: %v\n%s", err, out)
	}
	if data, err = os.ReadFile(bin); err != nil || !bytes.Contains(data, []byte("probe.point-name-7f3a")) {
		t.Fatalf("the tagged binary lacks the point's name (%v)", err)
	}
}
