package table

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Rows route to the bucket Java would pick: the Java-generated hashes of
// ../shared/spec/paimon-format.md §4.5 for the bucket-key BinaryRow, modulo
// the bucket count, for several key types, composite keys and bucket-key.
func TestBucketRoutingMatchesJavaHashes(t *testing.T) {
	ctx := context.Background()
	bigDec, _ := new(big.Int).SetString("1234567890123456789012345", 10)
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	cases := []struct {
		columns, pk, bucketKey string
		row                    spec.Row
		hash                   int32
	}{
		{"k STRING NOT NULL, v INT", "k", "", spec.Row{"hello", nil}, 243722546},
		{"k STRING NOT NULL, v INT", "k", "", spec.Row{"hello-java", nil}, -201703277},
		{"a STRING NOT NULL, b BIGINT NOT NULL, v INT", "a,b", "", spec.Row{"hello-java", int64(42), nil}, -2066620165},
		{"a STRING NOT NULL, b BIGINT NOT NULL, v INT", "a,b", "a", spec.Row{"hello-java", int64(42), nil}, -201703277},
		{"d DECIMAL(10, 2) NOT NULL", "d", "", spec.Row{spec.NewDecimal(1234567, 2)}, 754928256},
		{"d DECIMAL(25, 2) NOT NULL", "d", "", spec.Row{spec.Decimal{Unscaled: bigDec, Scale: 2}}, 1388205002},
		{"t TIMESTAMP(3) NOT NULL", "t", "", spec.Row{spec.Timestamp{Millis: ts.UnixMilli()}}, -1766746798},
		{"t TIMESTAMP(6) NOT NULL", "t", "", spec.Row{spec.TimestampFromTime(ts)}, 1245041971},
		{"b BYTES NOT NULL", "b", "", spec.Row{[]byte{0, 1, 0xff, 0x7f}}, 586821318},
		{"b BYTES NOT NULL", "b", "", spec.Row{[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}, 1822312655},
	}
	for _, n := range []int{1, 3, 7, 16, 1000} {
		for _, c := range cases {
			fields, err := spec.ParseColumns(c.columns)
			if err != nil {
				t.Fatal(err)
			}
			opts := spec.NewStringMap("bucket", itoa(n))
			if c.bucketKey != "" {
				opts.Set("bucket-key", c.bucketKey)
			}
			sc, err := spec.NewSchema(fields, nil, splitComma(c.pk), opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Create(ctx, storage.NewMemory(), "db.db/b", sc)
			if err != nil {
				t.Fatal(err)
			}
			w, err := tb.NewWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := w.BucketOf(c.row)
			if err != nil {
				t.Fatal(err)
			}
			want := int(c.hash) % n
			if want < 0 {
				want = -want
			}
			if int(got) != want {
				t.Errorf("%s key %v, %d buckets: bucket %d, Java's %d", c.columns, c.row, n, got, want)
			}
			w.Close()
		}
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// assignerOf is the assigner of n that key is routed to, as Paimon's
// channel computer routes it: by the key's hash.
func assignerOf(t *testing.T, tb *Table, key int64, n int) int {
	t.Helper()
	h, err := tb.keyHash(spec.Row{key})
	if err != nil {
		t.Fatal(err)
	}
	ch := int(h) % n
	if ch < 0 {
		ch = -ch
	}
	return ch
}

// Two assigners split a partition's buckets: each creates only its own
// (b % 2 == id), and together they never give one key two buckets when keys
// are routed to assigners by key hash, as Paimon's channel computer does.
func TestParallelAssigners(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "-1", "dynamic-bucket.target-row-num", "25"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/pa", sc)
	if err != nil {
		t.Fatal(err)
	}
	var all []CommitMessage
	for id := 0; id < 2; id++ {
		w, err := tb.NewWrite(ctx, WithAssigner(id, 2))
		if err != nil {
			t.Fatal(err)
		}
		for k := int64(0); k < 200; k++ {
			if assignerOf(t, tb, k, 2) != id {
				continue
			}
			if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{k, "v"}); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if int(m.Bucket)%2 != id {
				t.Fatalf("assigner %d created bucket %d", id, m.Bucket)
			}
		}
		all = append(all, msgs...)
		w.Close()
	}
	if _, err := tb.NewCommit("pa").Commit(ctx, 1, all); err != nil {
		t.Fatal(err)
	}
	if rows := scanAll(t, tb); len(rows) != 200 {
		t.Fatalf("%d rows", len(rows))
	}
}
