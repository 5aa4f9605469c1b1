package table

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// downFS refuses snapshot writes while down: a committer that "dies".
type downFS struct {
	storage.Storage
	down   bool
	target string
}

func (f *downFS) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if f.down && strings.HasSuffix(p, f.target) {
		return errors.New("committer process killed")
	}
	return f.Storage.PutIfAbsent(ctx, p, data)
}

// The committer dies after checkpoint 1's APPEND snapshot and before its
// COMPACT one, while the writer goes on to checkpoint 2 (whose compaction
// builds on checkpoint 1's). Restarted, the committer re-commits the last
// identifier it finds (only the missing COMPACT is written), then goes on:
// nothing is lost or committed twice (found by review: resuming at
// LastCommitted()+1 dropped checkpoint 1's COMPACT for good).
func TestResumeAfterHalfCommittedCheckpoint(t *testing.T) {
	ctx := context.Background()
	fs := &downFS{Storage: storage.NewMemory(), target: "/snapshot/snapshot-2"}
	tb := newTestTable(t, fs, 1, "commit.max-retries", "1")
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	spool := map[int64][]byte{}
	for c := int64(1); c <= 2; c++ {
		for i := int64(0); i < 10; i++ {
			if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{i, "v", float64(c)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Compact(ctx, true, nil); err != nil {
			t.Fatal(err)
		}
		b, err := w.PrepareCommitBytes(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		spool[c] = b
	}
	fs.down = true
	if _, err := tb.NewCommit("committer").CommitBytes(ctx, spool[1]); err == nil {
		t.Fatal("expected the committer to die")
	}
	fs.down = false
	committer := tb.NewCommit("committer") // the restarted process
	last, _, ok, err := committer.LastCommitted(ctx)
	if err != nil || !ok || last != 1 {
		t.Fatalf("last committed %d %v %v", last, ok, err)
	}
	for c := last; c <= 2; c++ {
		if _, err := committer.CommitBytes(ctx, spool[c]); err != nil {
			t.Fatalf("checkpoint %d: %v", c, err)
		}
	}
	ids, _ := tb.Snapshots().IDs(ctx)
	if len(ids) != 4 {
		t.Fatalf("snapshots %v, want APPEND+COMPACT per checkpoint", ids)
	}
	rows := scanAll(t, tb)
	if len(rows) != 10 || rows[0][2] != 2.0 {
		t.Fatalf("rows %v", rows)
	}
}
