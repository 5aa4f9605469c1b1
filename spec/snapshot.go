package spec

import (
	"fmt"
	"math"
)

// CommitKind says what a snapshot did. It is kept as the string found in the
// file, so a kind added by a newer Paimon survives a round trip.
type CommitKind string

// The commit kinds of Java's Snapshot.CommitKind.
const (
	// CommitKindAppend adds data files and deletes none.
	CommitKindAppend CommitKind = "APPEND"
	// CommitKindCompact replaces data files with compacted ones.
	CommitKindCompact CommitKind = "COMPACT"
	// CommitKindOverwrite deletes and adds files, e.g. INSERT OVERWRITE.
	CommitKindOverwrite CommitKind = "OVERWRITE"
	// CommitKindAnalyze only collects statistics.
	CommitKindAnalyze CommitKind = "ANALYZE"
)

// Valid reports whether k is one of the kinds Paimon defines.
func (k CommitKind) Valid() bool {
	switch k {
	case CommitKindAppend, CommitKindCompact, CommitKindOverwrite, CommitKindAnalyze:
		return true
	}
	return false
}

// Operation is the logical operation that produced a snapshot (Java's
// Snapshot.Operation), kept as the string found in the file.
type Operation string

// The operations of Java's Snapshot.Operation.
const (
	OperationWrite                        Operation = "WRITE"
	OperationOverwrite                    Operation = "OVERWRITE"
	OperationDelete                       Operation = "DELETE"
	OperationTruncate                     Operation = "TRUNCATE"
	OperationUpdate                       Operation = "UPDATE"
	OperationMerge                        Operation = "MERGE"
	OperationCreateTableAsSelect          Operation = "CREATE_TABLE_AS_SELECT"
	OperationReplaceTableAsSelect         Operation = "REPLACE_TABLE_AS_SELECT"
	OperationCreateOrReplaceTableAsSelect Operation = "CREATE_OR_REPLACE_TABLE_AS_SELECT"
)

// Snapshot constants.
const (
	// SnapshotCurrentVersion is the version Java writes today.
	SnapshotCurrentVersion = 3
	// FirstSnapshotID is the id of a table's first snapshot.
	FirstSnapshotID = 1
	// BatchCommitIdentifier is the commitIdentifier of batch commits
	// (Java's Long.MAX_VALUE).
	BatchCommitIdentifier int64 = math.MaxInt64
)

// Snapshot is one snapshot/snapshot-N file (Java's Snapshot). Fields are in
// the order Java writes them; pointer fields are omitted from the file when
// nil, the others are always written.
type Snapshot struct {
	Version                   int
	UUID                      *string // random per snapshot; absent before Paimon 2.1
	ID                        int64
	SchemaID                  int64
	BaseManifestList          string // all data manifests of the previous snapshot
	BaseManifestListSize      *int64 // file size; nil for writers up to 1.0
	DeltaManifestList         string // the manifests of this snapshot's changes
	DeltaManifestListSize     *int64
	ChangelogManifestList     *string // nil unless changelog files were produced
	ChangelogManifestListSize *int64
	IndexManifest             *string // full list of live index files
	CommitUser                string
	WriterVersion             *string
	CommitIdentifier          int64
	CommitKind                CommitKind
	TimeMillis                int64
	TotalRecordCount          int64
	DeltaRecordCount          int64
	ChangelogRecordCount      *int64
	Watermark                 *int64
	Statistics                *string
	Properties                *StringMap // nil when there are none
	NextRowID                 *int64
	Operation                 *Operation
}

// EncodeSnapshot renders s exactly as Java's Snapshot.toJson does (Jackson's
// default pretty printer, no trailing newline), omitting nil optionals.
func EncodeSnapshot(s *Snapshot) []byte {
	w := &jsonWriter{pretty: true}
	w.beginObject()
	writeSnapshotMembers(w, s)
	w.endObject()
	return w.buf
}

// writeSnapshotMembers writes s's members into the open object, so that a
// tag file can append its own after them.
func writeSnapshotMembers(w *jsonWriter, s *Snapshot) {
	optStr := func(k string, v *string) {
		if v != nil {
			w.strField(k, *v)
		}
	}
	optInt := func(k string, v *int64) {
		if v != nil {
			w.intField(k, *v)
		}
	}
	w.intField("version", int64(s.Version))
	optStr("uuid", s.UUID)
	w.intField("id", s.ID)
	w.intField("schemaId", s.SchemaID)
	w.strField("baseManifestList", s.BaseManifestList)
	optInt("baseManifestListSize", s.BaseManifestListSize)
	w.strField("deltaManifestList", s.DeltaManifestList)
	optInt("deltaManifestListSize", s.DeltaManifestListSize)
	optStr("changelogManifestList", s.ChangelogManifestList)
	optInt("changelogManifestListSize", s.ChangelogManifestListSize)
	optStr("indexManifest", s.IndexManifest)
	w.strField("commitUser", s.CommitUser)
	optStr("writerVersion", s.WriterVersion)
	w.intField("commitIdentifier", s.CommitIdentifier)
	w.strField("commitKind", string(s.CommitKind))
	w.intField("timeMillis", s.TimeMillis)
	w.intField("totalRecordCount", s.TotalRecordCount)
	w.intField("deltaRecordCount", s.DeltaRecordCount)
	optInt("changelogRecordCount", s.ChangelogRecordCount)
	optInt("watermark", s.Watermark)
	optStr("statistics", s.Statistics)
	if s.Properties != nil {
		w.name("properties")
		writeStringMapJSON(w, s.Properties)
	}
	optInt("nextRowId", s.NextRowID)
	if s.Operation != nil {
		w.strField("operation", string(*s.Operation))
	}
}

// DecodeSnapshot parses a snapshot file as Jackson binds Java's Snapshot:
// unknown members (such as the logOffsets of Paimon ≤1.3) are ignored,
// explicit nulls and missing members leave the zero value (nil for the
// optional ones; a missing version reads as 0, as in Java today), and numbers
// given as numeric strings are accepted. Malformed input gives an error
// wrapping ErrCorrupt.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	root, err := parseJSONObject(data, "snapshot")
	if err != nil {
		return nil, err
	}
	return decodeSnapshotObject(root, "snapshot")
}

// parseJSONObject parses a document that must be one JSON object; errors
// wrap ErrCorrupt and name what.
func parseJSONObject(data []byte, what string) (*jsonNode, error) {
	root, err := parseJSONTree(data)
	if err != nil {
		return nil, corruptErr(what, err)
	}
	if root.kind != jsonObject {
		return nil, corruptErr(what, fmt.Errorf("want an object, found %s", root.kindName()))
	}
	return root, nil
}

// decodeSnapshotObject binds a snapshot's members from a parsed object;
// what names the file kind in errors.
func decodeSnapshotObject(root *jsonNode, what string) (*Snapshot, error) {
	d := snapshotDecoder{root: root, what: what}
	s := &Snapshot{
		Version:                   int(d.int("version", 32)),
		UUID:                      d.optStr("uuid"),
		ID:                        d.int("id", 64),
		SchemaID:                  d.int("schemaId", 64),
		BaseManifestList:          d.str("baseManifestList"),
		BaseManifestListSize:      d.optInt("baseManifestListSize"),
		DeltaManifestList:         d.str("deltaManifestList"),
		DeltaManifestListSize:     d.optInt("deltaManifestListSize"),
		ChangelogManifestList:     d.optStr("changelogManifestList"),
		ChangelogManifestListSize: d.optInt("changelogManifestListSize"),
		IndexManifest:             d.optStr("indexManifest"),
		CommitUser:                d.str("commitUser"),
		WriterVersion:             d.optStr("writerVersion"),
		CommitIdentifier:          d.int("commitIdentifier", 64),
		CommitKind:                CommitKind(d.str("commitKind")),
		TimeMillis:                d.int("timeMillis", 64),
		TotalRecordCount:          d.int("totalRecordCount", 64),
		DeltaRecordCount:          d.int("deltaRecordCount", 64),
		ChangelogRecordCount:      d.optInt("changelogRecordCount"),
		Watermark:                 d.optInt("watermark"),
		Statistics:                d.optStr("statistics"),
		NextRowID:                 d.optInt("nextRowId"),
	}
	if op := d.optStr("operation"); op != nil {
		o := Operation(*op)
		s.Operation = &o
	}
	if pn := root.get("properties"); !pn.isNull() {
		if pn.kind != jsonObject {
			d.fail("properties", fmt.Errorf("want an object, found %s", pn.kindName()))
		} else {
			s.Properties = &StringMap{}
			for i, k := range pn.keys {
				v := pn.vals[i]
				switch v.kind {
				case jsonObject, jsonArray:
					d.fail("properties."+k, fmt.Errorf("want a string, found %s", v.kindName()))
				case jsonNull:
					// Java keeps a null value; Strata has no way to hold
					// one and reads it as "".
					s.Properties.Set(k, "")
				default:
					s.Properties.Set(k, v.asText())
				}
			}
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

// snapshotDecoder reads members of a snapshot object, remembering the first
// problem so the field list above stays a plain table.
type snapshotDecoder struct {
	root *jsonNode
	what string // "snapshot" or "tag", for errors
	err  error
}

func (d *snapshotDecoder) fail(key string, err error) {
	if d.err == nil {
		d.err = corruptErr(d.what+" "+key, err)
	}
}

func (d *snapshotDecoder) int(key string, bitSize int) int64 {
	v, err := d.root.get(key).asInt64(bitSize)
	if err != nil {
		d.fail(key, err)
	}
	return v
}

func (d *snapshotDecoder) optInt(key string) *int64 {
	n := d.root.get(key)
	if n.isNull() {
		return nil
	}
	v := d.int(key, 64)
	return &v
}

// str reads a string; like Jackson's String binding it takes any scalar's
// text, and null or absence reads as "".
func (d *snapshotDecoder) str(key string) string {
	n := d.root.get(key)
	if n.isNull() {
		return ""
	}
	if n.kind == jsonObject || n.kind == jsonArray {
		d.fail(key, fmt.Errorf("want a string, found %s", n.kindName()))
		return ""
	}
	return n.asText()
}

func (d *snapshotDecoder) optStr(key string) *string {
	if d.root.get(key).isNull() {
		return nil
	}
	s := d.str(key)
	return &s
}
