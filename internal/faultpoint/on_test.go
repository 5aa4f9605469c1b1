//go:build strata_faultpoints

package faultpoint

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// The child hits point "p" five times, printing each hit; with
// STRATA_CRASH_AT=p:3 it dies by SIGKILL after printing two.
func TestHitKillsAtNth(t *testing.T) {
	if os.Getenv("FAULTPOINT_CHILD") != "" {
		for i := 1; i <= 5; i++ {
			Hit("other")
			Hit("p")
			fmt.Println(i)
		}
		return
	}
	for _, tc := range []struct {
		at      string
		printed string
		killed  bool
	}{
		{"p:3", "1\n2\n", true},
		{"p", "", true},
		{"q", "1\n2\n3\n4\n5\n", false},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHitKillsAtNth$")
		cmd.Env = append(os.Environ(), "FAULTPOINT_CHILD=1", "STRATA_CRASH_AT="+tc.at)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var ee *exec.ExitError
		killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
		if killed != tc.killed || (!tc.killed && err != nil) {
			t.Fatalf("STRATA_CRASH_AT=%s: %v, killed %v\n%s", tc.at, err, killed, stderr.String())
		}
		if got := strings.TrimSuffix(string(out), "PASS\n"); got != tc.printed {
			t.Fatalf("STRATA_CRASH_AT=%s: printed %q, want %q", tc.at, got, tc.printed)
		}
		if tc.killed && !strings.Contains(stderr.String(), "faultpoint: crash at p") {
			t.Fatalf("STRATA_CRASH_AT=%s: stderr %q", tc.at, stderr.String())
		}
	}
}
