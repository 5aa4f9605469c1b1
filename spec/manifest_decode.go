package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/avro"
)

// Manifest entries are decoded by a plan compiled from each file's writer
// schema: the writer's fields in wire order, each either read straight into
// ManifestEntry or skipped. Nested records add no bytes in Avro, so the plan
// is flat. Java has added fields to DataFileMeta over its versions (a file
// may lack the newer ones, which then read as null, or carry fields this
// version does not know, which are skipped); any other difference (a type
// changed, a required field missing, a named-type reference) leaves the file
// to the generic, reflection-based decoder, so both always agree.

type entryOpCode uint8

const (
	opSkip entryOpCode = iota
	opVersion
	opKind
	opPartition
	opBucket
	opTotalBuckets
	opFileName
	opFileSize
	opRowCount
	opMinKey
	opMaxKey
	opKeyMin
	opKeyMax
	opKeyNulls
	opValueMin
	opValueMax
	opValueNulls
	opMinSeq
	opMaxSeq
	opSchemaID
	opLevel
	opExtraFiles
	opCreationTime
	opDeleteRowCount
	opEmbeddedIndex
	opFileSource
	opValueStatsCols
	opExternalPath
	opFirstRowID
	opWriteCols
)

// entryFieldOps maps each field path of ManifestEntrySchema to its op.
var entryFieldOps = map[string]entryOpCode{
	"_VERSION": opVersion, "_KIND": opKind, "_PARTITION": opPartition, "_BUCKET": opBucket,
	"_TOTAL_BUCKETS": opTotalBuckets, "_FILE._FILE_NAME": opFileName, "_FILE._FILE_SIZE": opFileSize,
	"_FILE._ROW_COUNT": opRowCount, "_FILE._MIN_KEY": opMinKey, "_FILE._MAX_KEY": opMaxKey,
	"_FILE._KEY_STATS._MIN_VALUES": opKeyMin, "_FILE._KEY_STATS._MAX_VALUES": opKeyMax,
	"_FILE._KEY_STATS._NULL_COUNTS": opKeyNulls, "_FILE._VALUE_STATS._MIN_VALUES": opValueMin,
	"_FILE._VALUE_STATS._MAX_VALUES": opValueMax, "_FILE._VALUE_STATS._NULL_COUNTS": opValueNulls,
	"_FILE._MIN_SEQUENCE_NUMBER": opMinSeq, "_FILE._MAX_SEQUENCE_NUMBER": opMaxSeq,
	"_FILE._SCHEMA_ID": opSchemaID, "_FILE._LEVEL": opLevel, "_FILE._EXTRA_FILES": opExtraFiles,
	"_FILE._CREATION_TIME": opCreationTime, "_FILE._DELETE_ROW_COUNT": opDeleteRowCount,
	"_FILE._EMBEDDED_FILE_INDEX": opEmbeddedIndex, "_FILE._FILE_SOURCE": opFileSource,
	"_FILE._VALUE_STATS_COLS": opValueStatsCols, "_FILE._EXTERNAL_PATH": opExternalPath,
	"_FILE._FIRST_ROW_ID": opFirstRowID, "_FILE._WRITE_COLS": opWriteCols,
}

type entryOp struct {
	code entryOpCode
	skip *avro.SchemaNode // opSkip: the writer's type of a field we do not read
}

// readerField is what ManifestEntrySchema says about one field path.
type readerField struct {
	shape      string // typeShape of a leaf; "record <name>" for a record
	hasDefault bool
}

// entryReaderFields describes ManifestEntrySchema by field path.
var entryReaderFields = sync.OnceValues(func() (map[string]readerField, error) {
	ss, err := schemas()
	if err != nil {
		return nil, err
	}
	out := map[string]readerField{}
	var walk func(prefix string, fields []avro.SchemaField) error
	walk = func(prefix string, fields []avro.SchemaField) error {
		for _, f := range fields {
			p := prefix + f.Name
			if f.Type.Type == "record" {
				out[p] = readerField{shape: "record " + f.Type.Name, hasDefault: f.HasDefault}
				if err := walk(p+".", f.Type.Fields); err != nil {
					return err
				}
				continue
			}
			if _, ok := entryFieldOps[p]; !ok {
				return fmt.Errorf("no decoder op for manifest field %s", p)
			}
			out[p] = readerField{shape: typeShape(&f.Type), hasDefault: f.HasDefault}
		}
		return nil
	}
	return out, walk("", ss[0].Root().Fields)
})

// typeShape renders the types the plan reads directly; anything else is
// "?", which never matches.
func typeShape(n *avro.SchemaNode) string {
	switch n.Type {
	case "int", "long", "bytes", "string", "null":
		if n.LogicalType != "" {
			return n.Type + ":" + n.LogicalType
		}
		return n.Type
	case "array":
		return "array<" + typeShape(n.Items) + ">"
	case "union":
		parts := make([]string, len(n.Branches))
		for i := range n.Branches {
			parts[i] = typeShape(&n.Branches[i])
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return "?"
}

// ownEntryPlan is the plan for the schema Strata and current Java write.
var ownEntryPlan = sync.OnceValues(func() ([]entryOp, error) {
	s, err := avro.Parse(ManifestEntrySchema)
	if err != nil {
		return nil, err
	}
	plan, ok := compileEntryPlan(s.Root())
	if !ok {
		return nil, errors.New("manifest entry schema does not compile")
	}
	return plan, nil
})

// entryPlanFor returns the plan for a writer schema, or false when the
// generic decoder must read the file.
func entryPlanFor(writerSchema string) ([]entryOp, bool) {
	if writerSchema == ManifestEntrySchema {
		plan, err := ownEntryPlan()
		return plan, err == nil
	}
	s, err := avro.Parse(writerSchema)
	if err != nil {
		return nil, false
	}
	return compileEntryPlan(s.Root())
}

func compileEntryPlan(root *avro.SchemaNode) ([]entryOp, bool) {
	want, err := entryReaderFields()
	if err != nil || root.Type != "record" {
		return nil, false
	}
	var plan []entryOp
	seen := map[string]bool{}
	var walk func(prefix string, fields []avro.SchemaField) bool
	walk = func(prefix string, fields []avro.SchemaField) bool {
		for i := range fields {
			f := &fields[i]
			p := prefix + f.Name
			r, known := want[p]
			switch {
			case !known:
				if !skippable(&f.Type) {
					return false
				}
				plan = append(plan, entryOp{code: opSkip, skip: &f.Type})
			case f.Type.Type == "record":
				if r.shape != "record "+f.Type.Name || !walk(p+".", f.Type.Fields) {
					return false
				}
			case typeShape(&f.Type) == r.shape:
				plan = append(plan, entryOp{code: entryFieldOps[p]})
			default:
				return false
			}
			seen[p] = true
		}
		return true
	}
	if !walk("", root.Fields) {
		return nil, false
	}
	// A field the writer lacks reads as its default; every default in
	// ManifestEntrySchema is null, the zero value.
	for p, r := range want {
		if !seen[p] && !r.hasDefault {
			return nil, false
		}
	}
	return plan, true
}

// skippable reports whether skipValue can step over values of type n:
// anything but named-type references (which Java does not write here).
func skippable(n *avro.SchemaNode) bool {
	switch n.Type {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string", "enum":
		return true
	case "fixed":
		return n.Size >= 0
	case "array":
		return skippable(n.Items)
	case "map":
		return skippable(n.Values)
	case "union":
		for i := range n.Branches {
			if !skippable(&n.Branches[i]) {
				return false
			}
		}
		return len(n.Branches) > 0
	case "record", "error":
		for i := range n.Fields {
			if !skippable(&n.Fields[i].Type) {
				return false
			}
		}
		return true
	}
	return false
}

// skipValue steps over one value of a type skippable accepts.
func (c *avroCursor) skipValue(n *avro.SchemaNode) {
	switch n.Type {
	case "null":
	case "boolean":
		c.skipBytes(1)
	case "int", "enum":
		c.int()
	case "long":
		c.long()
	case "float":
		c.skipBytes(4)
	case "double":
		c.skipBytes(8)
	case "bytes", "string":
		c.bytes()
	case "fixed":
		c.skipBytes(n.Size)
	case "array", "map":
		c.skipBlocks(n)
	case "union":
		b := c.long()
		if b < 0 || b >= int64(len(n.Branches)) {
			c.fail(fmt.Errorf("avro: union branch %d of %d", b, len(n.Branches)))
			return
		}
		c.skipValue(&n.Branches[b])
	case "record", "error":
		for i := range n.Fields {
			c.skipValue(&n.Fields[i].Type)
		}
	}
}

func (c *avroCursor) skipBytes(n int) {
	if n > len(c.buf)-c.off {
		c.fail(errAvroShort)
		return
	}
	c.off += n
}

// skipBlocks steps over an array or map. Items may take no bytes at all
// (nulls), so the item count is bounded separately.
func (c *avroCursor) skipBlocks(n *avro.SchemaNode) {
	const maxItems = 1 << 20
	items := 0
	for c.err == nil {
		count := c.long()
		if count == 0 {
			return
		}
		if count < 0 {
			size := c.long()
			if size < 0 {
				c.fail(errors.New("avro: negative block size"))
				return
			}
			c.skipBytes(int(min(size, int64(len(c.buf)+1))))
			continue
		}
		if items += int(min(count, maxItems+1)); items > maxItems {
			c.fail(fmt.Errorf("avro: more than %d items", maxItems))
			return
		}
		for ; count > 0 && c.err == nil; count-- {
			if n.Type == "map" {
				c.bytes()
				c.skipValue(n.Values)
			} else {
				c.skipValue(n.Items)
			}
		}
	}
}

// entryArena hands out the pointer and slice fields of decoded entries from
// shared chunks: a manifest decodes into a handful of allocations.
type entryArena struct {
	longs   []int64
	ptrs    []*int64
	strs    []string
	lists   [][]string
	sources []FileSource
}

const arenaChunk = 1024

func (a *entryArena) long(v int64) *int64 {
	if len(a.longs) == cap(a.longs) {
		a.longs = make([]int64, 0, arenaChunk)
	}
	a.longs = append(a.longs, v)
	return &a.longs[len(a.longs)-1]
}

func (a *entryArena) source(v FileSource) *FileSource {
	if len(a.sources) == cap(a.sources) {
		a.sources = make([]FileSource, 0, arenaChunk)
	}
	a.sources = append(a.sources, v)
	return &a.sources[len(a.sources)-1]
}

// list returns a pointer to a slot for a string list.
func (a *entryArena) list() *[]string {
	if len(a.lists) == cap(a.lists) {
		a.lists = make([][]string, 0, arenaChunk)
	}
	a.lists = append(a.lists, nil)
	return &a.lists[len(a.lists)-1]
}

// take returns an empty slice with room for n items, from chunk. Its
// capacity is exactly n, so appending to it never reaches a neighbour.
func take[T any](chunk *[]T, n int) []T {
	if n > arenaChunk/4 {
		return make([]T, 0, n)
	}
	if cap(*chunk)-len(*chunk) < n {
		*chunk = make([]T, 0, arenaChunk)
	}
	l := len(*chunk)
	*chunk = (*chunk)[:l+n]
	return (*chunk)[l : l : l+n]
}

// stringList reads an array of strings.
func (c *avroCursor) stringList(a *entryArena) []string {
	out := []string{}
	for c.err == nil {
		n := c.arrayBlock(1)
		if n == 0 {
			break
		}
		if len(out) == 0 {
			out = take(&a.strs, n)
		}
		for ; n > 0; n-- {
			out = append(out, c.string())
		}
	}
	return out
}

// nullCounts reads _NULL_COUNTS: null, or an array of nullable longs.
func (c *avroCursor) nullCounts(a *entryArena) []*int64 {
	if !c.present() {
		return nil
	}
	out := []*int64{}
	for c.err == nil {
		n := c.arrayBlock(1)
		if n == 0 {
			break
		}
		if len(out) == 0 {
			out = take(&a.ptrs, n)
		}
		for ; n > 0; n-- {
			var v *int64
			if c.present() {
				v = a.long(c.long())
			}
			out = append(out, v)
		}
	}
	return out
}

func (c *avroCursor) optLong(a *entryArena) *int64 {
	if !c.present() {
		return nil
	}
	return a.long(c.long())
}

func (c *avroCursor) optList(a *entryArena) *[]string {
	if !c.present() {
		return nil
	}
	p := a.list()
	*p = c.stringList(a)
	return p
}

// decodeEntry runs plan over one row into e, which may hold anything:
// fields the writer lacks read as zero.
func (c *avroCursor) decodeEntry(plan []entryOp, a *entryArena, e *ManifestEntry) error {
	*e = ManifestEntry{}
	f := &e.File
	for i := range plan {
		switch plan[i].code {
		case opSkip:
			c.skipValue(plan[i].skip)
		case opVersion:
			if v := c.int(); v != manifestVersion && c.err == nil {
				return fmt.Errorf("manifest entry version %d (want %d)", v, manifestVersion)
			}
		case opKind:
			k := c.int()
			if k != 0 && k != 1 && c.err == nil {
				return fmt.Errorf("manifest entry kind %d", k)
			}
			e.Kind = FileKind(k)
		case opPartition:
			e.Partition = c.bytes()
		case opBucket:
			e.Bucket = c.int()
		case opTotalBuckets:
			e.TotalBuckets = c.int()
		case opFileName:
			f.FileName = c.string()
		case opFileSize:
			f.FileSize = c.long()
		case opRowCount:
			f.RowCount = c.long()
		case opMinKey:
			f.MinKey = c.bytes()
		case opMaxKey:
			f.MaxKey = c.bytes()
		case opKeyMin:
			f.KeyStats.MinValues = c.bytes()
		case opKeyMax:
			f.KeyStats.MaxValues = c.bytes()
		case opKeyNulls:
			f.KeyStats.NullCounts = c.nullCounts(a)
		case opValueMin:
			f.ValueStats.MinValues = c.bytes()
		case opValueMax:
			f.ValueStats.MaxValues = c.bytes()
		case opValueNulls:
			f.ValueStats.NullCounts = c.nullCounts(a)
		case opMinSeq:
			f.MinSequenceNumber = c.long()
		case opMaxSeq:
			f.MaxSequenceNumber = c.long()
		case opSchemaID:
			f.SchemaID = c.long()
		case opLevel:
			f.Level = c.int()
		case opExtraFiles:
			f.ExtraFiles = c.stringList(a)
		case opCreationTime:
			f.CreationTime = c.optLong(a)
		case opDeleteRowCount:
			f.DeleteRowCount = c.optLong(a)
		case opEmbeddedIndex:
			if c.present() {
				f.EmbeddedIndex = c.bytes()
			}
		case opFileSource:
			if c.present() {
				f.FileSource = a.source(FileSource(c.int()))
			}
		case opValueStatsCols:
			f.ValueStatsCols = c.optList(a)
		case opExternalPath:
			if c.present() {
				slot := append(take(&a.strs, 1), c.string())
				f.ExternalPath = &slot[0]
			}
		case opFirstRowID:
			f.FirstRowID = c.optLong(a)
		case opWriteCols:
			f.WriteCols = c.optList(a)
		}
	}
	if f.ExtraFiles == nil {
		f.ExtraFiles = []string{}
	}
	return c.err
}

// decodeEntriesPlanned decodes a manifest file by a compiled plan,
// appending to dst. ok is false when the file's writer schema needs the
// generic decoder.
func decodeEntriesPlanned(dst []ManifestEntry, data []byte) (out []ManifestEntry, ok bool, err error) {
	f, err := parseOCF(data)
	if err != nil {
		return nil, true, err
	}
	plan, ok := entryPlanFor(f.schema)
	if !ok {
		return nil, false, nil
	}
	blocks, total, err := f.blocks()
	if err != nil {
		return nil, true, err
	}
	if total == 0 {
		return dst, true, nil
	}
	row := len(dst)
	out = slices.Grow(dst, total)[:row+total]
	var a entryArena
	for _, b := range blocks {
		c := avroCursor{buf: b.data}
		for range b.count {
			if err := c.decodeEntry(plan, &a, &out[row]); err != nil {
				return nil, true, fmt.Errorf("avro row %d: %w", row-len(dst), err)
			}
			row++
		}
		if c.off != len(b.data) {
			return nil, true, fmt.Errorf("avro: %d trailing bytes in block", len(b.data)-c.off)
		}
	}
	return out, true, nil
}
