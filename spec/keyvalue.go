package spec

// KeyValue is one record of a primary-key table as stored in a data file:
// the trimmed primary key, the bucket-local sequence number, the row kind and
// the full value row. Level is the LSM level of the file the record was read
// from (lookup merging and changelog production need it); records not yet
// on disk have level -1.
type KeyValue struct {
	Key   Row
	Seq   int64
	Kind  RowKind
	Value Row
	Level int32
}

// PositionedKV is a record with its row position in its data file: what
// deletion vectors mark, and what lookups return so that a hit can be
// checked against them.
type PositionedKV struct {
	KV  *KeyValue
	Pos int64
}
