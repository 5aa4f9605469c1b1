package lsm

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

func testLayout(t *testing.T) *FileLayout {
	t.Helper()
	fields, err := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := spec.ParseOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewFileLayout(sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// records yields n sorted records, then fails if fail is set.
func records(n int, fail error) iter.Seq2[*KeyValue, error] {
	return func(yield func(*KeyValue, error) bool) {
		for i := range n {
			v := fmt.Sprintf("value-%09d-%s", i*7919%1000003, strings.Repeat("x", i%50))
			kv := &KeyValue{Key: spec.Row{int64(i)}, Seq: int64(i), Kind: spec.RowKindInsert, Value: spec.Row{int64(i), v}}
			if !yield(kv, nil) {
				return
			}
		}
		if fail != nil {
			yield(nil, fail)
		}
	}
}

// Rolled files are streamed whole: each DataFileMeta's size is the stored
// object's, and the files hold every record.
func TestFileWriterStreamsRolledFiles(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewCounting(storage.NewMemory())
	w := NewFileWriter(fs, "bucket-0", "data-", testLayout(t), 64<<10)
	metas, err := w.WriteSeq(ctx, records(50_000, nil), 1, spec.FileSourceCompact)
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) < 3 {
		t.Fatalf("%d files, want several at a 64 KiB target", len(metas))
	}
	var rows, size int64
	for _, m := range metas {
		fi, err := fs.Stat(ctx, path.Join("bucket-0", m.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size != m.FileSize {
			t.Fatalf("%s: meta size %d, stored %d", m.FileName, m.FileSize, fi.Size)
		}
		head, err := fs.GetRange(ctx, fi.Path, 0, 4)
		if err != nil || string(head) != "PAR1" {
			t.Fatalf("%s starts %q, %v", m.FileName, head, err)
		}
		rows += m.RowCount
		size += m.FileSize
	}
	if rows != 50_000 {
		t.Fatalf("files hold %d rows, want 50000", rows)
	}
	if got := fs.BytesWritten.Load(); got != size || fs.ObjectsWritten.Load() != int64(len(metas)) {
		t.Fatalf("storage saw %d bytes in %d objects, metas %d bytes in %d files", got, fs.ObjectsWritten.Load(), size, len(metas))
	}
}

// failCloseFS fails the publishing of every streamed object.
type failCloseFS struct{ storage.Storage }

func (f failCloseFS) Create(ctx context.Context, p string) (storage.ObjectWriter, error) {
	w, err := f.Storage.Create(ctx, p)
	return failClose{w}, err
}

type failClose struct{ storage.ObjectWriter }

func (w failClose) Close() error {
	w.ObjectWriter.Abort()
	return errors.New("injected: upload failed")
}

// A write that fails, in the input or in storage, leaves no partial file
// behind and reports the error.
func TestFileWriterFailureLeavesNoFile(t *testing.T) {
	ctx := context.Background()
	injected := errors.New("injected: input failed")
	// On local disk an unaborted file would linger as a temp file, which
	// listings hide: look at the directory itself.
	root := t.TempDir()
	local, err := storage.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fs   storage.Storage
		in   iter.Seq2[*KeyValue, error]
		want string
	}{
		{"input", local, records(100, injected), "input failed"},
		{"close", failCloseFS{storage.NewMemory()}, records(100, nil), "upload failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewFileWriter(tc.fs, "bucket-0", "data-", testLayout(t), 1<<30)
			metas, err := w.WriteSeq(ctx, tc.in, 0, spec.FileSourceAppend)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("WriteSeq = %d files, %v; want an error saying %q", len(metas), err, tc.want)
			}
			if infos, err := tc.fs.List(ctx, "", true); err != nil || len(infos) != 0 {
				t.Fatalf("left behind %v (%v)", infos, err)
			}
			if entries, err := os.ReadDir(root); err != nil || len(entries) != 0 {
				t.Fatalf("left behind on disk: %v (%v)", entries, err)
			}
		})
	}
}
