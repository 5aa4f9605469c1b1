package spec

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// A deletion vector records which row positions of one data file are
// deleted. Paimon has two kinds, told apart by the magic number that starts
// their serialized bytes:
//
//   - BitmapDeletionVector (the default): one 32-bit RoaringBitmap, positions
//     up to math.MaxInt32.
//   - Bitmap64DeletionVector (deletion-vectors.bitmap64=true): Paimon's
//     OptimizedRoaringBitmap64 (taken from Iceberg), a dense array of 32-bit
//     RoaringBitmaps indexed by the high 32 bits of the position.
//
// The 64-bit form is kept here as a sorted sparse list of (key, bitmap) plus
// the length of Java's dense array, so that an absurd key cannot make us
// allocate a slot per key, yet encoding still writes the empty bitmaps Java
// writes for the gaps.

// DVKind names the bitmap format of a DeletionVector.
type DVKind uint8

// The two deletion-vector kinds.
const (
	// DVBitmap32 is Paimon's BitmapDeletionVector.
	DVBitmap32 DVKind = 1
	// DVBitmap64 is Paimon's Bitmap64DeletionVector.
	DVBitmap64 DVKind = 2
)

// String returns "bitmap32" or "bitmap64".
func (k DVKind) String() string {
	switch k {
	case DVBitmap32:
		return "bitmap32"
	case DVBitmap64:
		return "bitmap64"
	}
	return fmt.Sprintf("DVKind(%d)", uint8(k))
}

// Magic numbers that start a serialized deletion vector. The 32-bit one is
// written big-endian, the 64-bit one little-endian.
const (
	DVMagic32 int32 = 1581511376
	DVMagic64 int32 = 1681511377
)

// Largest positions each kind accepts, as Java checks them
// (RoaringBitmap32.MAX_VALUE and OptimizedRoaringBitmap64.MAX_VALUE).
const (
	MaxDVPosition32 int64 = math.MaxInt32
	MaxDVPosition64 int64 = (math.MaxInt32-1)<<32 | 0x80000000
)

// errDVPosition is returned by Delete for a position the kind cannot hold.
var errDVPosition = errors.New("deletion vector position out of range")

// DeletionVector is the set of deleted row positions of one data file. The
// zero value is an empty 32-bit vector. A DeletionVector is not safe for
// concurrent use when any goroutine modifies or encodes it.
type DeletionVector struct {
	kind DVKind
	// bm holds the positions of a 32-bit vector; nil means empty.
	bm *roaring.Bitmap
	// buckets holds a 64-bit vector's bitmaps by ascending key (high 32 bits
	// of the position); each bitmap holds the low 32 bits.
	buckets []dvBucket
	// width is the length of Java's bitmap array: one more than the largest
	// key ever touched, or as many as were decoded. Encoding writes this many
	// bitmaps, empty ones included.
	width uint32
}

type dvBucket struct {
	key uint32
	bm  *roaring.Bitmap
}

// NewDeletionVector returns an empty vector of the given kind; any kind
// other than DVBitmap64 gives a 32-bit vector.
func NewDeletionVector(kind DVKind) *DeletionVector {
	if kind != DVBitmap64 {
		kind = DVBitmap32
	}
	return &DeletionVector{kind: kind}
}

// Kind reports the vector's format.
func (dv *DeletionVector) Kind() DVKind {
	if dv.kind == DVBitmap64 {
		return DVBitmap64
	}
	return DVBitmap32
}

// Delete marks pos as deleted. It fails if pos is negative or above the
// kind's maximum (MaxDVPosition32 or MaxDVPosition64).
func (dv *DeletionVector) Delete(pos int64) error {
	_, err := dv.CheckedDelete(pos)
	return err
}

// CheckedDelete marks pos as deleted and reports whether it was not deleted
// before.
func (dv *DeletionVector) CheckedDelete(pos int64) (bool, error) {
	if dv.Kind() == DVBitmap32 {
		if pos < 0 || pos > MaxDVPosition32 {
			return false, fmt.Errorf("%w: %d (32-bit vector allows 0..%d)", errDVPosition, pos, MaxDVPosition32)
		}
		if dv.bm == nil {
			dv.bm = roaring.New()
		}
		return dv.bm.CheckedAdd(uint32(pos)), nil
	}
	if pos < 0 || pos > MaxDVPosition64 {
		return false, fmt.Errorf("%w: %d (64-bit vector allows 0..%d)", errDVPosition, pos, MaxDVPosition64)
	}
	key := uint32(pos >> 32)
	return dv.bucket(key, true).CheckedAdd(uint32(pos)), nil
}

// bucket returns the bitmap for key, creating it (and widening the vector,
// as Java's allocateBitmapsIfNeeded does) when create is set.
func (dv *DeletionVector) bucket(key uint32, create bool) *roaring.Bitmap {
	i := sort.Search(len(dv.buckets), func(i int) bool { return dv.buckets[i].key >= key })
	if i < len(dv.buckets) && dv.buckets[i].key == key {
		return dv.buckets[i].bm
	}
	if !create {
		return nil
	}
	b := roaring.New()
	dv.buckets = append(dv.buckets, dvBucket{})
	copy(dv.buckets[i+1:], dv.buckets[i:])
	dv.buckets[i] = dvBucket{key: key, bm: b}
	if key >= dv.width {
		dv.width = key + 1
	}
	return b
}

// IsDeleted reports whether pos is marked deleted. Positions outside the
// kind's range are never deleted.
func (dv *DeletionVector) IsDeleted(pos int64) bool {
	if pos < 0 {
		return false
	}
	if dv.Kind() == DVBitmap32 {
		return pos <= math.MaxUint32 && dv.bm != nil && dv.bm.Contains(uint32(pos))
	}
	if pos > MaxDVPosition64 {
		return false
	}
	b := dv.bucket(uint32(pos>>32), false)
	return b != nil && b.Contains(uint32(pos))
}

// Cardinality returns the number of deleted positions.
func (dv *DeletionVector) Cardinality() int64 {
	if dv.Kind() == DVBitmap32 {
		if dv.bm == nil {
			return 0
		}
		return int64(dv.bm.GetCardinality())
	}
	var n int64
	for _, b := range dv.buckets {
		n += int64(b.bm.GetCardinality())
	}
	return n
}

// IsEmpty reports whether no position is deleted.
func (dv *DeletionVector) IsEmpty() bool {
	if dv.Kind() == DVBitmap32 {
		return dv.bm == nil || dv.bm.IsEmpty()
	}
	for _, b := range dv.buckets {
		if !b.bm.IsEmpty() {
			return false
		}
	}
	return true
}

// Merge adds every position of o to dv. Like Java, it refuses to merge
// vectors of different kinds; convert with To64 first. A nil o is a no-op.
func (dv *DeletionVector) Merge(o *DeletionVector) error {
	if o == nil {
		return nil
	}
	if dv.Kind() != o.Kind() {
		return fmt.Errorf("cannot merge a %s deletion vector into a %s one", o.Kind(), dv.Kind())
	}
	if dv.Kind() == DVBitmap32 {
		if o.bm == nil {
			return nil
		}
		if dv.bm == nil {
			dv.bm = roaring.New()
		}
		dv.bm.Or(o.bm)
		return nil
	}
	for _, ob := range o.buckets {
		dv.bucket(ob.key, true).Or(ob.bm)
	}
	dv.width = max(dv.width, o.width)
	return nil
}

// Positions yields the deleted positions in ascending order. The vector must
// not be modified during the iteration.
func (dv *DeletionVector) Positions() iter.Seq[int64] {
	return func(yield func(int64) bool) {
		if dv.Kind() == DVBitmap32 {
			if dv.bm == nil {
				return
			}
			for v := range roaring.Values(dv.bm) {
				if !yield(int64(v)) {
					return
				}
			}
			return
		}
		for _, b := range dv.buckets {
			hi := int64(b.key) << 32
			for v := range roaring.Values(b.bm) {
				if !yield(hi | int64(v)) {
					return
				}
			}
		}
	}
}

// Clone returns a deep copy of dv.
func (dv *DeletionVector) Clone() *DeletionVector {
	c := &DeletionVector{kind: dv.Kind(), width: dv.width}
	if dv.bm != nil {
		c.bm = dv.bm.Clone()
	}
	if len(dv.buckets) > 0 {
		c.buckets = make([]dvBucket, len(dv.buckets))
		for i, b := range dv.buckets {
			c.buckets[i] = dvBucket{key: b.key, bm: b.bm.Clone()}
		}
	}
	return c
}

// To64 returns a 64-bit copy of dv, as Java's
// Bitmap64DeletionVector.fromBitmapDeletionVector builds it (a single bitmap
// at key 0, present even when empty). A 64-bit dv is simply cloned.
func (dv *DeletionVector) To64() *DeletionVector {
	if dv.Kind() == DVBitmap64 {
		return dv.Clone()
	}
	bm := roaring.New()
	if dv.bm != nil {
		bm = dv.bm.Clone()
	}
	return &DeletionVector{kind: DVBitmap64, buckets: []dvBucket{{key: 0, bm: bm}}, width: 1}
}

// Equal reports whether dv and o are of the same kind and delete the same
// positions. Unlike Java's equals it ignores how many empty bitmaps a 64-bit
// vector carries.
func (dv *DeletionVector) Equal(o *DeletionVector) bool {
	if dv.Kind() != o.Kind() || dv.Cardinality() != o.Cardinality() {
		return false
	}
	if dv.Kind() == DVBitmap32 {
		if dv.bm == nil || o.bm == nil {
			return dv.IsEmpty() && o.IsEmpty()
		}
		return dv.bm.Equals(o.bm)
	}
	for _, b := range dv.buckets {
		if b.bm.IsEmpty() {
			continue
		}
		ob := o.bucket(b.key, false)
		if ob == nil || !b.bm.Equals(ob) {
			return false
		}
	}
	return true
}
