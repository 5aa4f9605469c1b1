package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// The rows of the benchmarks: upserts of about rowBytes logical bytes in
// benchColumns' shape, generated without per-value allocation so that
// every engine pays the same small cost for them and the rows API alone
// pays for Go values.

const rowBytes = 150

var benchColumns = "id BIGINT NOT NULL, account STRING, amount DOUBLE, currency STRING, merchant STRING, risk_score DOUBLE, note STRING"

// upsert is one generated row; its strings are fixed-width bytes (8+12+8+3+
// 12+8+99 logical bytes in all).
type upsert struct {
	id       int64
	account  [12]byte // acct-NNNNNNN: the id modulo 10M
	amount   float64
	merchant [12]byte // merchant-NNN
	risk     float64
	note     [99]byte
}

const currency = "EUR"

// fill makes the row of key id from rng. The note is 99 random letters and
// digits, random enough that no engine gets it for free from compression
// or dictionaries; rng is drawn in the same order on every call (note,
// amount, merchant, risk), so a seed gives the same stream everywhere.
func (u *upsert) fill(rng *rand.Rand, id int64) {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := 0; i < len(u.note); i += 8 {
		x := rng.Uint64()
		for j := i; j < i+8 && j < len(u.note); j++ {
			u.note[j] = letters[x&63]
			x >>= 6
		}
	}
	u.id = id
	putDigits(u.account[:], "acct-", id%10_000_000)
	u.amount = float64(rng.IntN(1_000_000)) / 100
	putDigits(u.merchant[:], "merchant-", int64(rng.IntN(1000)))
	u.risk = rng.Float64()
}

// putDigits writes prefix then n, zero-padded to fill dst.
func putDigits(dst []byte, prefix string, n int64) {
	copy(dst, prefix)
	for i := len(dst) - 1; i >= len(prefix); i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}

// genRow is the row of key id from rng as Go values (see upsert.fill).
func genRow(rng *rand.Rand, id int64) spec.Row {
	var u upsert
	u.fill(rng, id)
	return u.row()
}

// row is u as Go values in benchColumns' order.
func (u *upsert) row() spec.Row {
	return spec.Row{u.id, string(u.account[:]), u.amount, currency, string(u.merchant[:]), u.risk, string(u.note[:])}
}

// appendValue appends u in encodeRow's form.
func (u *upsert) appendValue(b []byte) []byte {
	b = binary.AppendVarint(b, u.id)
	for _, s := range [][]byte{u.account[:], []byte(currency), u.merchant[:], u.note[:]} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, f := range []float64{u.amount, u.risk} {
		b = binary.LittleEndian.AppendUint64(b, uint64(int64(math.Round(f*1e6))))
	}
	return b
}

// encodeRow is a compact binary form of a bench row for the key-value
// baselines (what an application would store as the value).
func encodeRow(r spec.Row) []byte {
	b := make([]byte, 0, rowBytes+32)
	b = binary.AppendVarint(b, r[0].(int64))
	for _, i := range []int{1, 3, 4, 6} {
		s := r[i].(string)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, i := range []int{2, 5} {
		b = binary.LittleEndian.AppendUint64(b, uint64(int64(math.Round(r[i].(float64)*1e6))))
	}
	return b
}

// decodeRow reverses encodeRow: a row of the benchmark's columns from its
// value bytes (pebble's and Redis's).
func decodeRow(b []byte) (spec.Row, error) {
	bad := fmt.Errorf("bench: a stored value of %d bytes does not decode", len(b))
	row := make(spec.Row, 7)
	id, n := binary.Varint(b)
	if n <= 0 {
		return nil, bad
	}
	row[0], b = id, b[n:]
	for _, i := range []int{1, 3, 4, 6} {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return nil, bad
		}
		row[i], b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	for _, i := range []int{2, 5} {
		if len(b) < 8 {
			return nil, bad
		}
		row[i], b = float64(int64(binary.LittleEndian.Uint64(b)))/1e6, b[8:]
	}
	return row, nil
}

// upsertBatches builds Arrow record batches of upserts in the schema
// arrowconv gives the bench table's columns (what table.Write takes).
type upsertBatches struct {
	rb                             *array.RecordBuilder
	id                             *array.Int64Builder
	account, currency, merch, note *array.StringBuilder
	amount, risk                   *array.Float64Builder
	size                           int // rows per batch
}

// newUpsertBatches returns a builder of batches of size rows with fields'
// Arrow schema (the bench table's).
func newUpsertBatches(fields []spec.DataField, size int) (*upsertBatches, error) {
	sc, err := arrowconv.Schema(fields)
	if err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	f := rb.Fields()
	b := &upsertBatches{rb: rb, size: size}
	var ok [7]bool
	b.id, ok[0] = f[0].(*array.Int64Builder)
	b.account, ok[1] = f[1].(*array.StringBuilder)
	b.amount, ok[2] = f[2].(*array.Float64Builder)
	b.currency, ok[3] = f[3].(*array.StringBuilder)
	b.merch, ok[4] = f[4].(*array.StringBuilder)
	b.risk, ok[5] = f[5].(*array.Float64Builder)
	b.note, ok[6] = f[6].(*array.StringBuilder)
	if ok != [7]bool{true, true, true, true, true, true, true} {
		rb.Release()
		return nil, fmt.Errorf("bench: the Arrow schema %s is not the generator's", sc)
	}
	b.reserve()
	return b, nil
}

// reserve sizes the builders for a full batch.
func (b *upsertBatches) reserve() {
	b.rb.Reserve(b.size)
	for _, s := range []struct {
		b *array.StringBuilder
		n int
	}{{b.account, 12}, {b.currency, len(currency)}, {b.merch, 12}, {b.note, 99}} {
		s.b.ReserveData(s.n * b.size)
	}
}

// add appends u.
func (b *upsertBatches) add(u *upsert) {
	b.id.Append(u.id)
	b.account.BinaryBuilder.Append(u.account[:])
	b.amount.Append(u.amount)
	b.currency.BinaryBuilder.AppendString(currency)
	b.merch.BinaryBuilder.Append(u.merchant[:])
	b.risk.Append(u.risk)
	b.note.BinaryBuilder.Append(u.note[:])
}

// len is the number of rows added since the last batch.
func (b *upsertBatches) len() int { return b.id.Len() }

// full says whether the pending batch has its size.
func (b *upsertBatches) full() bool { return b.id.Len() >= b.size }

// batch returns the rows added since the last batch; the caller releases it.
func (b *upsertBatches) batch() arrow.RecordBatch {
	rec := b.rb.NewRecordBatch()
	b.reserve()
	return rec
}

// release frees the builders.
func (b *upsertBatches) release() { b.rb.Release() }
