package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/table"
)

// ingestJSONL makes n JSON lines of `strata bench write`'s rows (about 200
// bytes of JSON each), over a key space of keys ids.
func ingestJSONL(n, keys int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b bytes.Buffer
	var note [99]byte
	for range n {
		id := rng.IntN(keys)
		for j := range note {
			note[j] = letters[rng.IntN(len(letters))]
		}
		fmt.Fprintf(&b, `{"id":%d,"account":"acct-%07d","amount":%d.%02d,"currency":"EUR","merchant":"merchant-%03d","risk_score":0.%03d,"note":"%s"}`+"\n",
			id, id, rng.IntN(10000), rng.IntN(100), rng.IntN(1000), rng.IntN(1000), note[:])
	}
	return b.Bytes()
}

// BenchmarkIngest compares `strata write` on JSON Lines with the API's
// Write on the same rows as ready-made Arrow batches (issue 12 wants the
// CLI at 0.8x the API or better): 200k upserts into 4 buckets, a commit
// per 100k rows. Each round writes a new table.
func BenchmarkIngest(b *testing.B) {
	const rows, every = 200_000, 100_000
	in := ingestJSONL(rows, 1_000_000)
	schema := "id BIGINT NOT NULL, account STRING, amount DOUBLE, currency STRING, merchant STRING, risk_score DOUBLE, note STRING"
	ctx := context.Background()
	setup := func(b *testing.B) (cli, func() string) {
		c := cli{b, b.TempDir()}
		n := 0
		return c, func() string {
			n++
			name := "t" + strconv.Itoa(n)
			c.ok("", "create", name, "--schema", schema, "--primary-key", "id", "-o", "bucket=4")
			return name
		}
	}
	b.Run("cli-jsonl", func(b *testing.B) {
		c, next := setup(b)
		var cpu time.Duration
		for b.Loop() {
			name := next()
			start := cpuTime()
			var errb bytes.Buffer
			if code := run(ctx, []string{"--warehouse", c.wh, "write", name, "--commit-every", strconv.Itoa(every)},
				bytes.NewReader(in), io.Discard, &errb); code != 0 {
				b.Fatal(errb.String())
			}
			cpu += cpuTime() - start
		}
		reportIngest(b, rows, cpu)
	})
	b.Run("api-arrow", func(b *testing.B) {
		c, next := setup(b)
		e := &env{warehouse: c.wh}
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			name := next()
			t, err := e.table(ctx, name)
			if err != nil {
				b.Fatal(err)
			}
			dec, err := textrow.NewJSONBatchDecoder(bytes.NewReader(in), t.Schema().Fields)
			if err != nil {
				b.Fatal(err)
			}
			var batches []*textrow.Batch
			for {
				bt, err := dec.Next(0)
				if bt != nil {
					batches = append(batches, bt)
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			start := cpuTime()
			// As strata write --commit-every does: compaction in the
			// background, the last commit waiting for it.
			w, err := t.NewWrite(ctx, table.WithWaitCompaction(false))
			if err != nil {
				b.Fatal(err)
			}
			commit := t.NewCommit("bench")
			done := 0
			for _, bt := range batches {
				if err := w.Write(ctx, bt.Rec); err != nil {
					b.Fatal(err)
				}
				if done += bt.Len(); done%every == 0 {
					msgs, err := w.PrepareCommit(ctx, table.WaitForCompaction(done == rows))
					if err == nil {
						_, err = commit.Commit(ctx, table.BatchCommitIdentifier, msgs)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				bt.Release()
			}
			w.Close()
			cpu += cpuTime() - start
		}
		reportIngest(b, rows, cpu)
	})
}

// reportIngest reports rows per second of wall time and per CPU second
// (all threads): on a busy machine the CPU figures compare better.
func reportIngest(b *testing.B, rows int, cpu time.Duration) {
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu > 0 {
		b.ReportMetric(float64(rows*b.N)/cpu.Seconds(), "rows/cpu-s")
	}
	b.ReportMetric(0, "ns/op")
}
