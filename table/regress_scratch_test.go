package table

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratalake/strata/storage"
)

// A process killed with a Lookup open (strata serve) used to leave its
// local lookup directory in the temporary directory for good: the crash
// harness (integration/crash_test.go) counted one per killed server. The
// directory now holds a lock while its owner runs, and the next Lookup
// removes one whose owner is gone; a live one stays.
func TestLookupRemovesAbandonedCacheDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1)
	live, err := tb.NewLookup(ctx, WithRefreshInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	// A killed process's directory: its lock file, and no lock held.
	dead := filepath.Join(tmp, "strata-lookup-12345")
	if err := os.MkdirAll(filepath.Join(dead, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead, ".owner"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{dead, live.cacheDir} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	l, err := tb.NewLookup(ctx, WithRefreshInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("the abandoned lookup directory is still there: %v", err)
	}
	if _, err := os.Stat(live.cacheDir); err != nil {
		t.Fatalf("a live lookup's directory: %v", err)
	}
	dir := l.cacheDir
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a closed lookup's directory is still there: %v", err)
	}
}
