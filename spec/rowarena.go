package spec

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// RowArena decodes BinaryRows into rows that share a few allocations
// instead of one per value: a Row is a slice of interfaces, and putting an
// int64, a float64 or a string into an interface normally allocates a copy
// of it on the heap (8 or 16 bytes, one allocation each). The arena copies
// the rows' bytes once, keeps its rows' values in one slab of interfaces,
// their fixed-width values in word slots ahead of that copy and their string
// headers in one slab of strings, and points each interface at its slot;
// string bytes stay in the copy. So n rows cost three allocations (two
// without strings), not n times the number of columns, and every row keeps
// the others' memory alive.
//
// Pointing an interface at a slot, and a string at bytes of the copy, uses
// Go's representation of interfaces (a type word and a pointer to the
// value) through package unsafe. Slots and copy are written once, before
// anything points at them, and never again, which is what the runtime
// assumes of boxed values and strings. A check at start-up turns the arena
// off (plain boxing and string copies) if the representation ever differs.
//
// The zero RowArena is ready to use; Reset sizes it for a batch.
type RowArena struct {
	types []DataType
	data  []byte // the copy of the rows' bytes
	rows  []any
	words []byte // word slots, 8 bytes each
	strs  []string
}

// Reset prepares the arena to decode up to n rows of the given types held
// in data (BinaryRows, wherever they lie in it), which it copies: data may
// change afterwards. Rows beyond n still decode, with plain boxing.
func (a *RowArena) Reset(types []DataType, n int, data []byte) {
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
	if !boxingWorks {
		a.data = append([]byte(nil), data...) // strings are copied out of it by Decode
		return
	}
	wordBytes := 8 * words * n
	buf := make([]byte, wordBytes+len(data)) // 8-aligned when it holds words
	copy(buf[wordBytes:], data)
	a.words, a.data = buf[:wordBytes:wordBytes], buf[wordBytes:]
	if strs > 0 {
		a.strs = make([]string, n*strs)
	}
}

// Decode reads the next row from the BinaryRow at data[from:to] of the data
// given to Reset, as DecodeBinaryRow does.
func (a *RowArena) Decode(from, to int) (Row, RowKind, error) {
	types := a.types
	n := len(types)
	h := BinaryRowHeaderSize(n)
	if from < 0 || to > len(a.data) || to-from < h+8*n {
		return nil, 0, corruptf("row of %d fields needs %d bytes, has %d", n, h+8*n, to-from)
	}
	b := a.data[from:to:to]
	var row Row
	if len(a.rows) >= n {
		row, a.rows = a.rows[:n:n], a.rows[n:]
	} else {
		row = make(Row, n)
	}
	r := binReader{buf: b, slotBase: h, nullBias: 8}
	for i, t := range types {
		if r.isNull(i) {
			row[i] = nil
			continue
		}
		var err error
		if row[i], err = a.value(&r, i, t); err != nil {
			return nil, 0, err
		}
	}
	return row, RowKind(b[0]), nil
}

// value reads field i into the arena's slots where it can.
func (a *RowArena) value(r *binReader, i int, t DataType) (any, error) {
	s := r.slot(i)
	le := binary.LittleEndian
	switch t.Root {
	case TypeChar, TypeVarChar:
		from, to, err := r.bytesRange(i)
		if err != nil {
			return nil, err
		}
		if len(a.strs) == 0 {
			return string(r.buf[from:to]), nil
		}
		str := ""
		if to > from {
			str = unsafe.String(&r.buf[from], to-from) // the arena's copy, never written again
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
		if len(a.words) < 16 {
			return ts, nil
		}
		p := unsafe.Pointer(&a.words[0])
		*(*Timestamp)(p), a.words = ts, a.words[16:]
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
	*(*T)(p), a.words = v, a.words[8:]
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
