package minioserver

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindIn(t *testing.T) {
	dir := t.TempDir()
	if _, err := findIn([]string{dir}); err == nil {
		t.Fatal("found minio in an empty directory")
	}
	p := filepath.Join(dir, "minio")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := findIn([]string{dir}); err == nil {
		t.Fatal("found a non-executable minio")
	}
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findIn([]string{t.TempDir(), dir}); err != nil || got != p {
		t.Fatalf("findIn = %q, %v; want %q", got, err, p)
	}
}
