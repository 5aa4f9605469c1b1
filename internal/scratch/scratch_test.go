package scratch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Entries whose owner is gone (the lock released, as the kernel does for a
// killed process) and older than the set-up guard are removed by the next
// MkdirTemp or CreateTemp of the pattern; live ones, young ones and other
// names are kept.
func TestSweepAbandoned(t *testing.T) {
	if !canLock {
		t.Skip("no flock here")
	}
	parent := t.TempDir()
	old := time.Now().Add(-2 * setupGuard)
	backdate := func(p string) {
		t.Helper()
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	live, err := MkdirTemp(parent, "x-lookup-")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()
	backdate(live.Path())
	dead, err := MkdirTemp(parent, "x-lookup-")
	if err != nil {
		t.Fatal(err)
	}
	dead.lock.Close() // its process died
	backdate(dead.Path())
	young, err := MkdirTemp(parent, "x-lookup-")
	if err != nil {
		t.Fatal(err)
	}
	young.lock.Close()
	deadFile, err := CreateTemp(parent, "x-write-*")
	if err != nil {
		t.Fatal(err)
	}
	deadFile.Close()
	backdate(deadFile.Name())
	liveFile, err := CreateTemp(parent, "x-write-*")
	if err != nil {
		t.Fatal(err)
	}
	defer liveFile.Close()
	backdate(liveFile.Name())
	other := filepath.Join(parent, "x-lookup-foreign") // no lock file: not ours
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	backdate(other)

	d, err := MkdirTemp(parent, "x-lookup-")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Remove()
	f, err := CreateTemp(parent, "x-write-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for p, want := range map[string]bool{live.Path(): true, dead.Path(): false, young.Path(): true,
		deadFile.Name(): false, liveFile.Name(): true, other: true, d.Path(): true, f.Name(): true} {
		_, err := os.Stat(p)
		if got := err == nil; got != want {
			t.Errorf("%s exists %v, want %v", filepath.Base(p), got, want)
		}
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Path()); !os.IsNotExist(err) {
		t.Fatalf("removed dir still there: %v", err)
	}
}
