package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bench lookup runs end to end on a tiny table; flags given explicitly win
// over --quick; Redis can be turned off and the output says so, as it says
// when minio is missing.
func TestCLIBenchLookupTiny(t *testing.T) {
	c := cli{t, t.TempDir()}
	js := filepath.Join(t.TempDir(), "lookup.json")
	out := c.ok("", "bench", "lookup", "--quick", "--rows", "500", "--sample", "50", "--buckets", "2", "--shapes", "runs",
		"--duration", "10ms", "--rates", "200", "--rate-duration", "30ms", "--fresh-duration", "0", "--redis-server", "",
		"--conns", "2", "--http-process=false", "--minio", filepath.Join(t.TempDir(), "no-minio"), "--dir", t.TempDir(), "--json", js)
	for _, want := range []string{"500 rows", "Redis turned off", "### runs: 5 sorted run(s) per bucket", "| Get miss p99, 1 client |",
		"| 200 req/s open loop", "### Strata HTTP lookup service vs Redis (runs table)", "| peak single-key requests/s, hits, 2 connections |",
		"Skipped: minio not found"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(js); err != nil || !strings.Contains(string(b), `"rows": 500`) {
		t.Errorf("json: %v %.300s", err, b)
	}
}

func TestCLIBenchLookupUsage(t *testing.T) {
	c := cli{t, t.TempDir()}
	for _, args := range [][]string{{"--rates", "fast"}, {"--shapes", "square"}, {"--rows", "0"}, {"--duration", "0s"}, {"--cold-lookups", "0"}} {
		c.fails(2, "", append([]string{"bench", "lookup"}, args...)...)
	}
}
