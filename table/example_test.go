package table_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// check stops an example at its first error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// newUsers creates a primary-key table of per-user risk features with the
// given options (key=value pairs), in a warehouse held in memory.
func newUsers(ctx context.Context, options ...string) *table.Table {
	// storage.Open(ctx, "s3://bucket/warehouse") or a local directory work
	// the same way.
	fs := storage.NewMemory()
	fields, err := spec.ParseColumns("user_id BIGINT NOT NULL, country STRING, score INT")
	check(err)
	schema, err := spec.NewSchema(fields, nil, []string{"user_id"}, spec.NewStringMap(options...), nil)
	check(err)
	t, err := table.Create(ctx, fs, "risk.db/users", schema)
	check(err)
	return t
}

// write writes rows of one kind and commits them as a batch commit,
// returning the last snapshot written.
func write(ctx context.Context, t *table.Table, kind spec.RowKind, rows ...spec.Row) int64 {
	w, err := t.NewWrite(ctx)
	check(err)
	defer w.Close()
	for _, r := range rows {
		check(w.WriteRow(ctx, kind, r))
	}
	msgs, err := w.PrepareCommit(ctx)
	check(err)
	snap, err := t.NewCommit("example").Commit(ctx, table.BatchCommitIdentifier, msgs)
	check(err)
	return snap
}

// Create a table, write rows, commit them as a snapshot and scan it back.
func Example() {
	ctx := context.Background()
	t := newUsers(ctx, "bucket", "1")

	w, err := t.NewWrite(ctx)
	check(err)
	defer w.Close()
	check(w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "DE", int32(710)}))
	check(w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(2), "FR", int32(540)}))
	check(w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "DE", int32(690)})) // an upsert: the later row wins
	msgs, err := w.PrepareCommit(ctx)
	check(err)
	snap, err := t.NewCommit("example").Commit(ctx, table.BatchCommitIdentifier, msgs)
	check(err)
	fmt.Println("committed snapshot", snap)

	for row, err := range t.NewScan().Rows(ctx) {
		check(err)
		fmt.Println(row)
	}
	// Output:
	// committed snapshot 1
	// [1 DE 690]
	// [2 FR 540]
}

// Scan an older snapshot (time travel) and a tagged one.
func ExampleWithSnapshot() {
	ctx := context.Background()
	t := newUsers(ctx, "bucket", "1")
	write(ctx, t, spec.RowKindInsert, spec.Row{int64(1), "DE", int32(710)}, spec.Row{int64(2), "FR", int32(540)})
	_, err := t.CreateTag(ctx, "before-cleanup")
	check(err)
	// WithTimestamp reads the newest snapshot committed at or before a time.
	first, err := t.Snapshots().Get(ctx, 1)
	check(err)
	firstCommit := time.UnixMilli(first.TimeMillis)
	time.Sleep(2 * time.Millisecond) // a later commit time for the next snapshot
	write(ctx, t, spec.RowKindDelete, spec.Row{int64(2), nil, nil})

	show := func(name string, opts ...table.ScanOption) {
		fmt.Print(name, ":")
		for row, err := range t.NewScan(opts...).Rows(ctx) {
			check(err)
			fmt.Print(" ", row)
		}
		fmt.Println()
	}
	show("latest")
	show("snapshot 1", table.WithSnapshot(1))
	show("tag", table.WithTag("before-cleanup"))
	show("as of the first commit", table.WithTimestamp(firstCommit))
	// Output:
	// latest: [1 DE 710]
	// snapshot 1: [1 DE 710] [2 FR 540]
	// tag: [1 DE 710] [2 FR 540]
	// as of the first commit: [1 DE 710] [2 FR 540]
}

// Read columns and rows a filter selects as Arrow record batches.
func ExampleScan_ToArrowRecords() {
	ctx := context.Background()
	t := newUsers(ctx, "bucket", "2")
	write(ctx, t, spec.RowKindInsert,
		spec.Row{int64(1), "DE", int32(710)}, spec.Row{int64(2), "FR", int32(540)},
		spec.Row{int64(3), "DE", int32(420)}, spec.Row{int64(4), "US", int32(380)})

	risky, err := predicate.Parse("score < 600 AND country <> 'US'", t.Schema().Fields)
	check(err)
	scan := t.NewScan(table.WithFilter(risky), table.WithProjection("user_id", "score"))
	schema, batches, err := scan.ToArrowRecords(ctx)
	check(err)
	fmt.Println(schema.Field(0).Name, schema.Field(1).Name)
	rows := 0
	for rec, err := range batches {
		check(err)
		rows += int(rec.NumRows())
		rec.Release()
	}
	fmt.Println(rows, "risky users")
	// Output:
	// user_id score
	// 2 risky users
}

// Look rows up by primary key, from one snapshot per batch of keys.
func ExampleTable_NewLookup() {
	ctx := context.Background()
	t := newUsers(ctx, "bucket", "4")
	write(ctx, t, spec.RowKindInsert, spec.Row{int64(1), "DE", int32(710)}, spec.Row{int64(2), "FR", int32(540)})

	// Without WithRefreshInterval(0) the lookup moves to each new snapshot
	// in the background, every second by default.
	l, err := t.NewLookup(ctx, table.WithRefreshInterval(0))
	check(err)
	defer l.Close()

	row, err := l.Get(ctx, spec.Row{int64(2)})
	check(err)
	fmt.Println("user 2:", row)

	res, err := l.GetBatch(ctx, []spec.Row{{int64(1)}, {int64(3)}})
	check(err)
	fmt.Println("snapshot", res.Snapshot, "rows", res.Rows[0], res.Rows[1] == nil)

	write(ctx, t, spec.RowKindInsert, spec.Row{int64(3), "US", int32(380)})
	moved, err := l.Refresh(ctx)
	check(err)
	row, err = l.Get(ctx, spec.Row{int64(3)})
	check(err)
	fmt.Println("refreshed:", moved, "snapshot", l.Snapshot(), "user 3:", row)
	// Output:
	// user 2: [2 FR 540]
	// snapshot 1 rows [1 DE 710] true
	// refreshed: true snapshot 2 user 3: [3 US 380]
}

// Read a table's changes snapshot by snapshot: with changelog-producer
// lookup, an update comes as -U (the row before) and +U, a delete as -D with
// the deleted row.
func ExampleTable_NewStream() {
	ctx := context.Background()
	t := newUsers(ctx, "bucket", "1", "changelog-producer", "lookup")
	write(ctx, t, spec.RowKindInsert, spec.Row{int64(1), "DE", int32(710)}, spec.Row{int64(2), "FR", int32(540)})
	write(ctx, t, spec.RowKindInsert, spec.Row{int64(1), "DE", int32(690)})
	write(ctx, t, spec.RowKindDelete, spec.Row{int64(2), nil, nil})

	// WithFollow would keep reading new snapshots as they are committed;
	// WithConsumer would store the position so that a restart resumes it.
	s, err := t.NewStream(table.WithStart(table.FromEarliest()))
	check(err)
	for c, err := range s.Changes(ctx) {
		check(err)
		fmt.Println(c.Kind, c.Row)
	}
	// Output:
	// +I [1 DE 710]
	// +I [2 FR 540]
	// -U [1 DE 710]
	// +U [1 DE 690]
	// -D [2 FR 540]
}

// Many writers, one committer: each writer owns some buckets, prepares its
// files and hands the serialized commit messages to a single committer
// (in another process, say), which commits them in one snapshot, exactly
// once per commit user and checkpoint.
func ExampleWrite_PrepareCommitBytes() {
	ctx := context.Background()
	t := newUsers(ctx, "bucket", "2")
	const writers, checkpoint = 2, 1

	var messages [][]byte
	rows := []spec.Row{{int64(1), "DE", int32(710)}, {int64(2), "FR", int32(540)}, {int64(3), "DE", int32(420)}}
	for i := range writers {
		w, err := t.NewWrite(ctx)
		check(err)
		for _, r := range rows {
			// Every row of a bucket goes to the same writer: two writers of
			// one bucket would conflict at commit.
			b, err := w.BucketOf(r)
			check(err)
			if int(b)%writers == i {
				check(w.WriteRow(ctx, spec.RowKindInsert, r))
			}
		}
		data, err := w.PrepareCommitBytes(ctx, checkpoint)
		check(err)
		messages = append(messages, data)
		w.Close()
	}

	committer := t.NewCommit("ingest-job")
	snap, err := committer.CommitBytes(ctx, messages...)
	check(err)
	// A replay, say after the committer crashed, finds the checkpoint
	// committed and writes nothing.
	again, err := committer.CommitBytes(ctx, messages...)
	check(err)
	ids, err := t.Snapshots().IDs(ctx)
	check(err)
	fmt.Println("snapshot", snap, "replayed:", again, "snapshots:", ids)

	n := 0
	for _, err := range t.NewScan().Rows(ctx) {
		check(err)
		n++
	}
	fmt.Println(n, "rows")
	// Output:
	// snapshot 1 replayed: 1 snapshots: [1]
	// 3 rows
}
