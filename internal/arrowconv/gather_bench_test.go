package arrowconv

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkGather gathers a flush's output: 4,096-row batches picked in key
// order, so at random, from a write buffer of 128 chunks of 4,096 rows
// (about 50 MB of 99-byte strings, far beyond the caches); per op, every
// buffered row once.
func BenchmarkGather(b *testing.B) {
	const chunks, rows = 128, 4096
	rng := rand.New(rand.NewPCG(1, 2))
	mem := memory.NewGoAllocator()
	strs, ints := make([]arrow.Array, chunks), make([]arrow.Array, chunks)
	note := make([]byte, 99)
	for c := range chunks {
		sb, ib := array.NewStringBuilder(mem), array.NewInt64Builder(mem)
		for range rows {
			for i := range note {
				note[i] = 'a' + byte(rng.IntN(26))
			}
			sb.Append(string(note))
			ib.Append(rng.Int64())
		}
		strs[c], ints[c] = sb.NewArray(), ib.NewArray()
	}
	picks := make([]Pick, chunks*rows)
	for i := range picks {
		picks[i] = Pick{Src: uint32(i / rows), Row: uint32(i % rows)}
	}
	rng.Shuffle(len(picks), func(i, j int) { picks[i], picks[j] = picks[j], picks[i] })
	for _, col := range []struct {
		name string
		srcs []arrow.Array
	}{{"string99", strs}, {"int64", ints}} {
		b.Run(col.name, func(b *testing.B) {
			for b.Loop() {
				for at := 0; at < len(picks); at += rows {
					a, err := Gather(mem, col.srcs, picks[at:at+rows])
					if err != nil {
						b.Fatal(err)
					}
					a.Release()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(picks)), "ns/row")
		})
	}
}
