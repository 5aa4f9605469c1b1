package spec

// KeyValue is one record of a primary-key table as stored in a data file:
// the trimmed primary key, the bucket-local sequence number, the row kind and
// the full value row.
type KeyValue struct {
	Key   Row
	Seq   int64
	Kind  RowKind
	Value Row
}
