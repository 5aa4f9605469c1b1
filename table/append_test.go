package table

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// An append-only table (no primary key) as Java writes one: bucket-unaware
// files of table columns only, in bucket-0, level 0. Strata scans it (rows
// in write order, deletion vectors applied) but does not write it yet.
func TestScanAppendTable(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, _ := spec.ParseColumns("ts BIGINT, msg STRING")
	sc, _ := spec.NewSchema(fields, nil, nil, spec.NewStringMap("bucket", "-1"), nil)
	tb, err := Create(ctx, fs, "db.db/log", sc)
	if err != nil {
		t.Fatal(err)
	}
	var entries []spec.ManifestEntry
	seq := int64(0)
	for f := 0; f < 3; f++ {
		var buf bytes.Buffer
		pw, err := parquetio.NewWriter(&buf, fields)
		if err != nil {
			t.Fatal(err)
		}
		var rows []spec.Row
		for i := 0; i < 4; i++ {
			rows = append(rows, spec.Row{int64(f*10 + i), fmt.Sprint("line ", f, i)})
		}
		if err := pw.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("data-append-%d.parquet", f)
		if err := fs.Put(ctx, "db.db/log/bucket-0/"+name, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		zero := int64(0)
		entries = append(entries, spec.ManifestEntry{Kind: spec.FileKindAdd, Partition: spec.SerializedEmptyRow(), TotalBuckets: -1,
			File: spec.DataFileMeta{FileName: name, FileSize: int64(buf.Len()), RowCount: 4,
				MinKey: spec.SerializedEmptyRow(), MaxKey: spec.SerializedEmptyRow(), KeyStats: spec.EmptyStats(), ValueStats: spec.EmptyStats(),
				MinSequenceNumber: seq, MaxSequenceNumber: seq + 3, ExtraFiles: []string{}, DeleteRowCount: &zero}})
		seq += 4
	}
	// Files listed out of order: the scan orders them by sequence number.
	entries[0], entries[2] = entries[2], entries[0]
	mf, err := tb.manifests.WriteManifest(ctx, entries, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	base, baseSize, _ := tb.manifests.WriteManifestList(ctx, nil)
	delta, deltaSize, _ := tb.manifests.WriteManifestList(ctx, []spec.ManifestFileMeta{mf})
	next := int64(0)
	snap := &spec.Snapshot{Version: 3, ID: 1, BaseManifestList: base, BaseManifestListSize: &baseSize,
		DeltaManifestList: delta, DeltaManifestListSize: &deltaSize, CommitUser: "java",
		CommitIdentifier: BatchCommitIdentifier, CommitKind: spec.CommitKindAppend, TimeMillis: time.Now().UnixMilli(),
		TotalRecordCount: 12, DeltaRecordCount: 12, NextRowID: &next}
	if ok, err := tb.snapshots.publish(ctx, snap); err != nil || !ok {
		t.Fatal(ok, err)
	}
	rows := scanAll(t, tb)
	if len(rows) != 12 || rows[0][0] != int64(0) || rows[11][0] != int64(23) || rows[5][1] != "line 1 1" {
		t.Fatalf("rows %v", rows)
	}

	// A deletion vector (as Java writes for append tables) hides rows 1 and
	// 2 of the middle file in the next snapshot.
	dv := spec.NewDeletionVector(spec.DVBitmap32)
	_ = dv.Delete(1)
	_ = dv.Delete(2)
	idx, err := tb.writeDVIndex(ctx, spec.SerializedEmptyRow(), 0, []spec.DVIndexEntry{{DataFile: "data-append-1.parquet", DV: dv}})
	if err != nil {
		t.Fatal(err)
	}
	im, err := tb.manifests.WriteIndexManifest(ctx, []spec.IndexManifestEntry{idx})
	if err != nil {
		t.Fatal(err)
	}
	snap2 := *snap
	snap2.ID, snap2.IndexManifest = 2, &im
	tb.opts.DeletionVectorsEnabled = true
	if ok, err := tb.snapshots.publish(ctx, &snap2); err != nil || !ok {
		t.Fatal(ok, err)
	}
	rows = scanAll(t, tb)
	if len(rows) != 10 || rows[4][0] != int64(10) || rows[5][0] != int64(13) {
		t.Fatalf("rows with deletion vector %v", rows)
	}
}

// Append tables written by Strata: rows kept as written (no merging), in
// bucket-0 for bucket=-1 or by bucket-key for fixed buckets, partitioned or
// not; only inserts are accepted.
func TestWriteAppendTable(t *testing.T) {
	for _, opts := range [][]string{{"bucket", "-1"}, {"bucket", "3", "bucket-key", "user"}} {
		t.Run(fmt.Sprint(opts), func(t *testing.T) {
			ctx := context.Background()
			fields, _ := spec.ParseColumns("day STRING NOT NULL, user BIGINT, event STRING")
			sc, err := spec.NewSchema(fields, []string{"day"}, nil, spec.NewStringMap(opts...), nil)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Create(ctx, storage.NewMemory(), "db.db/events", sc)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			for c := 0; c < 4; c++ {
				w, err := tb.NewWrite(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 50; i++ {
					row := spec.Row{fmt.Sprint("d", i%2), int64(i % 7), fmt.Sprint("e", c, "-", i)}
					if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
						t.Fatal(err)
					}
					// Duplicates are kept: the same row twice is two rows.
					if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
						t.Fatal(err)
					}
					want[fmt.Sprint(row)] += 2
				}
				if err := w.WriteRow(ctx, spec.RowKindDelete, spec.Row{"d0", int64(1), "x"}); !errors.Is(err, spec.ErrSchemaMismatch) {
					t.Fatalf("delete in an append table: %v", err)
				}
				msgs, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tb.NewCommit("a").Commit(ctx, int64(c), msgs); err != nil {
					t.Fatal(err)
				}
				w.Close()
			}
			got := map[string]int{}
			n := 0
			for _, r := range scanAll(t, tb) {
				got[fmt.Sprint(r)]++
				n++
			}
			if n != 400 || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%d rows; multiset differs", n)
			}
			snap, _ := tb.Snapshots().Latest(ctx)
			files, _ := tb.liveFiles(ctx, snap)
			for _, e := range files {
				if e.File.Level != 0 || !bytes.Equal(e.File.MinKey, spec.SerializedEmptyRow()) || int(e.TotalBuckets) != tb.opts.Bucket {
					t.Fatalf("entry %+v", e)
				}
				if tb.opts.Bucket < 0 && e.Bucket != 0 {
					t.Fatalf("bucket-unaware file in bucket %d", e.Bucket)
				}
			}
		})
	}
}
