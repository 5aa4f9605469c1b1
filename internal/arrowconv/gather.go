package arrowconv

import (
	"context"
	"fmt"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Pick names one row of one of Gather's source arrays.
type Pick struct {
	Src uint32 // index into the sources
	Row uint32 // row within that source
}

// Gather builds a new array of the picked rows, in pick order, from source
// arrays of one type: how a merge turns the winners of several sorted runs
// into one output column. Fixed-width, boolean, string and binary columns
// are copied directly; other types go through concatenation and
// compute.Take.
func Gather(mem memory.Allocator, srcs []arrow.Array, picks []Pick) (arrow.Array, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("arrowconv: gather from no sources")
	}
	dt := srcs[0].DataType()
	nulls := 0
	for _, s := range srcs {
		nulls += s.NullN()
	}
	var validity []byte
	outNulls := 0
	if nulls > 0 {
		validity = make([]byte, bitutil.BytesForBits(int64(len(picks))))
		for i, p := range picks {
			if srcs[p.Src].IsValid(int(p.Row)) {
				bitutil.SetBit(validity, i)
			} else {
				outNulls++
			}
		}
	}
	var bufs []*memory.Buffer
	switch {
	case dt.ID() == arrow.BOOL:
		bufs = gatherBits(srcs, picks)
	case isFlatFixed(dt):
		bufs = gatherFixed(srcs, picks, dt.(arrow.FixedWidthDataType).BitWidth()/8)
	case dt.ID() == arrow.STRING || dt.ID() == arrow.BINARY:
		var err error
		if bufs, err = gatherBinary(srcs, picks); err != nil {
			return nil, err
		}
	default:
		return gatherTake(mem, srcs, picks)
	}
	var vb *memory.Buffer
	if outNulls > 0 {
		vb = memory.NewBufferBytes(validity)
	}
	data := array.NewData(dt, len(picks), append([]*memory.Buffer{vb}, bufs...), nil, outNulls, 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}

// isFlatFixed reports whether values of dt are whole bytes in one buffer.
func isFlatFixed(dt arrow.DataType) bool {
	fw, ok := dt.(arrow.FixedWidthDataType)
	if !ok || fw.BitWidth()%8 != 0 || fw.BitWidth() == 0 {
		return false
	}
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DATE32, arrow.DATE64, arrow.TIME32, arrow.TIME64, arrow.TIMESTAMP,
		arrow.DURATION, arrow.DECIMAL128, arrow.DECIMAL256, arrow.FIXED_SIZE_BINARY:
		return true
	}
	return false
}

func gatherFixed(srcs []arrow.Array, picks []Pick, width int) []*memory.Buffer {
	data := make([][]byte, len(srcs))
	for i, s := range srcs {
		d := s.Data()
		data[i] = d.Buffers()[1].Bytes()[d.Offset()*width:]
	}
	out := make([]byte, len(picks)*width)
	switch width {
	case 8: // a fixed-size copy, inlined (copy of a slice calls memmove)
		for i, p := range picks {
			*(*[8]byte)(out[i*8:]) = *(*[8]byte)(data[p.Src][int(p.Row)*8:])
		}
	default:
		for i, p := range picks {
			o := int(p.Row) * width
			copy(out[i*width:(i+1)*width], data[p.Src][o:o+width])
		}
	}
	return []*memory.Buffer{memory.NewBufferBytes(out)}
}

func gatherBits(srcs []arrow.Array, picks []Pick) []*memory.Buffer {
	out := make([]byte, bitutil.BytesForBits(int64(len(picks))))
	for i, p := range picks {
		if srcs[p.Src].(*array.Boolean).Value(int(p.Row)) {
			bitutil.SetBit(out, i)
		}
	}
	return []*memory.Buffer{memory.NewBufferBytes(out)}
}

// valueOffsets is a string or binary array's offsets, which index its data
// buffer from its start.
type valueOffsets interface{ ValueOffsets() []int32 }

func gatherBinary(srcs []arrow.Array, picks []Pick) ([]*memory.Buffer, error) {
	offs := make([][]int32, len(srcs))
	vals := make([][]byte, len(srcs))
	for i, s := range srcs {
		vo, ok := s.(valueOffsets)
		if !ok {
			return nil, fmt.Errorf("arrowconv: gather: %T has no value offsets", s)
		}
		offs[i] = vo.ValueOffsets()
		if b := s.Data().Buffers()[2]; b != nil {
			vals[i] = b.Bytes()
		}
	}
	// Two passes: the first reads every pick's offsets (independent loads
	// the processor overlaps), the second copies the values, touching a
	// value a few picks ahead so that its cache miss overlaps the copies
	// before it: picks in key order hit the sources at random, far beyond
	// the caches, and one value at a time each copy waited for two misses.
	outOffs := make([]int32, len(picks)+1)
	starts := make([]int32, len(picks))
	total := 0
	for i, p := range picks {
		o := offs[p.Src]
		starts[i] = o[p.Row]
		total += int(o[p.Row+1] - o[p.Row])
		outOffs[i+1] = int32(total)
	}
	if total > 1<<31-1 {
		return nil, fmt.Errorf("arrowconv: gather: %d bytes do not fit a string array", total)
	}
	out := make([]byte, total)
	const ahead = 8
	var touched byte
	for i, p := range picks {
		if j := i + ahead; j < len(picks) && outOffs[j+1] > outOffs[j] {
			touched ^= vals[picks[j].Src][starts[j]]
		}
		n := outOffs[i+1] - outOffs[i]
		copy(out[outOffs[i]:outOffs[i+1]], vals[p.Src][starts[i]:starts[i]+n])
	}
	runtime.KeepAlive(touched) // the touches are loads nothing else uses
	return []*memory.Buffer{memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(outOffs)), memory.NewBufferBytes(out)}, nil
}

// gatherTake is Gather for the remaining types: the sources concatenated,
// then taken from.
func gatherTake(mem memory.Allocator, srcs []arrow.Array, picks []Pick) (arrow.Array, error) {
	values := srcs[0]
	starts := make([]int32, len(srcs))
	if len(srcs) > 1 {
		n := int32(0)
		for i, s := range srcs {
			starts[i] = n
			n += int32(s.Len())
		}
		c, err := array.Concatenate(srcs, mem)
		if err != nil {
			return nil, fmt.Errorf("arrowconv: gather: %w", err)
		}
		defer c.Release()
		values = c
	}
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	ib.Reserve(len(picks))
	for _, p := range picks {
		ib.UnsafeAppend(starts[p.Src] + int32(p.Row))
	}
	idx := ib.NewArray()
	defer idx.Release()
	out, err := compute.TakeArray(compute.WithAllocator(context.Background(), mem), values, idx)
	if err != nil {
		return nil, fmt.Errorf("arrowconv: gather: %w", err)
	}
	return out, nil
}
