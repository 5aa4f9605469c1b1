package spec

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// RowArena decodes BinaryRows into rows that share a few allocations
// instead of one per value: a Row is a slice of interfaces, and putting an
// int64, a float64 or a string into an interface normally allocates a copy
// of it on the heap (8 or 16 bytes, one allocation each). The arena keeps
// its rows' values in one slab of interfaces, their fixed-width values in
// one slab of words and their string headers in one slab of strings, and
// points each interface at its slot; string bytes are substrings of a
// string the caller shares among the rows. So n rows cost about four
// allocations, not n times the number of columns, and every row keeps the
// others' memory alive.
//
// Pointing an interface at a slot uses Go's representation of interfaces
// (a type word and a pointer to the value), through package unsafe. The
// slots are written once, before the interface is made, and never again,
// which is what the runtime assumes of boxed values. A check at start-up
// turns the arena off (plain boxing) if the representation ever differs.
//
// The zero RowArena is ready to use; Reset sizes it for a batch.
type RowArena struct {
	types []DataType
	rows  []any
	words []uint64
	strs  []string
}

// Reset prepares the arena to decode up to n rows of the given types,
// allocating its slabs (rows beyond n still decode, with plain boxing).
func (a *RowArena) Reset(types []DataType, n int) {
	words, strs := 0, 0
	for _, t := range types {
		switch t.Root {
		case TypeSmallInt, TypeInt, TypeBigInt, TypeFloat, TypeDouble, TypeDate, TypeTime:
			words++
		case TypeTimestamp, TypeTimestampLTZ:
			words += 2
		case TypeChar, TypeVarChar:
			strs++
		}
	}
	a.types = types
	a.rows = make([]any, n*len(types))
	a.words, a.strs = nil, nil
	if boxingWorks && words > 0 {
		a.words = make([]uint64, n*words)
	}
	if boxingWorks && strs > 0 {
		a.strs = make([]string, n*strs)
	}
}

// Decode reads the next row from the BinaryRow b, as DecodeBinaryRow
// does. When shared holds the same bytes as b (string(b), or the slice of
// a string made from a larger buffer that b is the same slice of), CHAR and
// VARCHAR values are substrings of it; otherwise they are copied.
func (a *RowArena) Decode(b []byte, shared string) (Row, RowKind, error) {
	types := a.types
	n := len(types)
	h := BinaryRowHeaderSize(n)
	if len(b) < h+8*n {
		return nil, 0, corruptf("row of %d fields needs %d bytes, has %d", n, h+8*n, len(b))
	}
	var row Row
	if len(a.rows) >= n {
		row, a.rows = a.rows[:n:n], a.rows[n:]
	} else {
		row = make(Row, n)
	}
	useShared := len(shared) == len(b)
	r := binReader{buf: b, slotBase: h, nullBias: 8}
	for i, t := range types {
		if r.isNull(i) {
			row[i] = nil
			continue
		}
		var err error
		if row[i], err = a.value(&r, i, t, shared, useShared); err != nil {
			return nil, 0, err
		}
	}
	return row, RowKind(b[0]), nil
}

// value reads field i into the arena's slots where it can.
func (a *RowArena) value(r *binReader, i int, t DataType, shared string, useShared bool) (any, error) {
	s := r.slot(i)
	le := binary.LittleEndian
	switch t.Root {
	case TypeChar, TypeVarChar:
		from, to, err := r.bytesRange(i)
		if err != nil {
			return nil, err
		}
		var str string
		if useShared {
			str = shared[from:to]
		} else {
			str = string(r.buf[from:to])
		}
		if len(a.strs) == 0 {
			return str, nil
		}
		p := &a.strs[0]
		*p, a.strs = str, a.strs[1:]
		return boxAt(typeString, unsafe.Pointer(p)), nil
	case TypeSmallInt:
		return boxWord(a, typeInt16, int16(le.Uint16(r.buf[s:]))), nil
	case TypeInt:
		return boxWord(a, typeInt32, int32(le.Uint32(r.buf[s:]))), nil
	case TypeBigInt:
		return boxWord(a, typeInt64, int64(le.Uint64(r.buf[s:]))), nil
	case TypeFloat:
		return boxWord(a, typeFloat32, math.Float32frombits(le.Uint32(r.buf[s:]))), nil
	case TypeDouble:
		return boxWord(a, typeFloat64, math.Float64frombits(le.Uint64(r.buf[s:]))), nil
	case TypeDate:
		return boxWord(a, typeDate, Date(int32(le.Uint32(r.buf[s:])))), nil
	case TypeTime:
		return boxWord(a, typeTime, Time(int32(le.Uint32(r.buf[s:])))), nil
	case TypeTimestamp, TypeTimestampLTZ:
		ts, err := r.timestamp(i, t)
		if err != nil {
			return nil, err
		}
		if len(a.words) < 2 {
			return ts, nil
		}
		p := unsafe.Pointer(&a.words[0])
		*(*Timestamp)(p), a.words = ts, a.words[2:]
		return boxAt(typeTimestamp, p), nil
	}
	return r.read(i, t)
}

// boxWord puts v in the arena's next word slot and returns an interface
// holding it (a plain one when the slots are used up).
func boxWord[T int16 | int32 | int64 | float32 | float64 | Date | Time](a *RowArena, typ unsafe.Pointer, v T) any {
	if len(a.words) == 0 {
		return v
	}
	p := unsafe.Pointer(&a.words[0])
	*(*T)(p), a.words = v, a.words[1:]
	return boxAt(typ, p)
}

// eface is the representation of an interface with no methods.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// boxAt returns an interface of type typ whose value is at p.
func boxAt(typ, p unsafe.Pointer) any {
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

var (
	typeString    = typeWord("")
	typeInt16     = typeWord(int16(0))
	typeInt32     = typeWord(int32(0))
	typeInt64     = typeWord(int64(0))
	typeFloat32   = typeWord(float32(0))
	typeFloat64   = typeWord(float64(0))
	typeDate      = typeWord(Date(0))
	typeTime      = typeWord(Time(0))
	typeTimestamp = typeWord(Timestamp{})
	// boxingWorks is whether interfaces made by boxAt read back as made.
	boxingWorks = checkBoxing()
)

func checkBoxing() bool {
	x, s, ts := int64(-7), "strata", Timestamp{Millis: 5, NanoOfMilli: 6}
	a, b, c := boxAt(typeInt64, unsafe.Pointer(&x)), boxAt(typeString, unsafe.Pointer(&s)), boxAt(typeTimestamp, unsafe.Pointer(&ts))
	xa, ok1 := a.(int64)
	sb, ok2 := b.(string)
	tc, ok3 := c.(Timestamp)
	return ok1 && ok2 && ok3 && xa == x && sb == s && tc == ts && a == any(x) && b == any(s)
}
