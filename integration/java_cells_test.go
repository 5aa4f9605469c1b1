package integration

import "github.com/stratalake/strata/spec"

// The cells of the Java matrix (java_matrix_test.go). Each needs only a
// name, a table and, for partition columns, the values to draw.

// partStrings are STRING partition values: characters Paimon escapes in
// directory names, non-ASCII, the empty string and null.
// (Partition columns of a primary key are NOT NULL: null partition values
// are drawn only where the key leaves them out.)
var partStrings = []any{"a", "b/c", "x=y", "sp ace", "per%cent", "ü", "colon:", "#hash", "?q", ""}

const (
	strataNoAppendCompaction = "Strata does not compact append tables yet"
	pyNoSeqGroups            = "pypaimon 2.1.0 refuses partial-update tables with sequence groups or field aggregators (NotImplementedError)"
	strataNoAvroWrite        = "Strata writes Parquet data files only (file.format=avro is refused at create and write)"
	javaSlashBug             = "Java Paimon's lookup files are named after raw partition values: a '/' in one fails its writers' lookup compaction and LocalTableQuery (No such file or directory)"
)

func javaCells() []*javaCell {
	dedup := "id INT NOT NULL, a BIGINT, b STRING, c DOUBLE"
	return []*javaCell{
		{Name: "dedup-bucket1", Columns: dedup, PK: "id", Options: map[string]string{"bucket": "1"}},
		// Stream: Java's and Strata's streams read the deltas alike.
		{Name: "dedup-bucket4", Columns: dedup, PK: "id", Options: map[string]string{"bucket": "4"}, Stream: true},
		{
			// Strata dictionary-encodes only when asked (Java by default).
			Name: "dedup-dictionary", Columns: dedup + ", d DECIMAL(10, 2), t TINYINT, dt DATE", PK: "id",
			Options: map[string]string{"bucket": "2", "parquet.enable.dictionary": "true"},
			Small:   true,
		},
		{
			// Pages longer than one Java read batch (1024 rows), with nulls.
			Name: "dedup-large-pages", Columns: dedup, PK: "id",
			Options: map[string]string{"bucket": "1"},
			Keys:    1 << 20, Rows: 2500,
		},
		{Name: "dedup-bucket16", Columns: dedup, PK: "id", Options: map[string]string{"bucket": "16"}, Keys: 40},
		{
			Name:    "dedup-part-string",
			Columns: "id INT NOT NULL, p STRING, a BIGINT, b STRING", PK: "id,p", Partition: "p",
			Options: map[string]string{"bucket": "2"},
			Values:  map[string][]any{"p": partStrings},
		},
		{
			Name:    "dedup-part-int-date",
			Columns: "id INT NOT NULL, pi INT, pd DATE, a BIGINT, b STRING", PK: "id,pi,pd", Partition: "pi,pd",
			Options: map[string]string{"bucket": "2"},
			Values: map[string][]any{
				"pi": {int32(1), int32(-5), int32(0)},
				"pd": {spec.Date(19753), spec.Date(-1), spec.Date(0), spec.Date(-719162)},
			},
		},
		{
			Name:    "dedup-dynamic-bucket",
			Columns: "id INT NOT NULL, p STRING, a BIGINT, b STRING", PK: "id,p", Partition: "p",
			Options: map[string]string{"bucket": "-1", "dynamic-bucket.target-row-num": "3"},
			Values:  map[string][]any{"p": {"x", "y/z", ""}},
		},
		{
			Name:    "dedup-cross-partition",
			Columns: "id INT NOT NULL, p STRING, a BIGINT, b STRING", PK: "id", Partition: "p",
			Options:     map[string]string{"bucket": "-1"},
			Values:      map[string][]any{"p": {"x", "y z", "", nil}}, // no "/": see javaSlashBug
			NoJavaWrite: "Java's API has no cross-partition bucket assigner outside Flink (GlobalIndexAssigner needs RocksDB state)",
		},
		{
			Name:    "partial-update-seq-groups",
			Columns: "id INT NOT NULL, g1 INT, a BIGINT, b STRING, g2 INT, c BIGINT, d STRING, e STRING", PK: "id",
			Options: map[string]string{
				"bucket": "2", "merge-engine": "partial-update",
				"fields.g1.sequence-group": "a,b", "fields.g2.sequence-group": "c,d",
				"fields.c.aggregate-function": "sum",
			},
			Small:    true,
			NoPython: pyNoSeqGroups,
		},
		{
			Name: "aggregation-retract",
			Columns: "id INT NOT NULL, s BIGINT, si INT, ds DECIMAL(12, 2), mx BIGINT, mn INT, lv STRING, " +
				"lnn STRING, la STRING, bo BOOLEAN, fnn STRING",
			PK: "id",
			Options: map[string]string{
				"bucket": "2", "merge-engine": "aggregation",
				"fields.s.aggregate-function": "sum", "fields.si.aggregate-function": "sum",
				"fields.ds.aggregate-function": "sum",
				"fields.mx.aggregate-function": "max", "fields.mx.ignore-retract": "true",
				"fields.mn.aggregate-function": "min", "fields.mn.ignore-retract": "true",
				"fields.lv.aggregate-function": "last_value",
				"fields.la.aggregate-function": "listagg", "fields.la.ignore-retract": "true",
				"fields.bo.aggregate-function": "bool_or", "fields.bo.ignore-retract": "true",
				"fields.fnn.aggregate-function": "first_non_null_value", "fields.fnn.ignore-retract": "true",
			},
			Small:    true,
			NoPython: "pypaimon 2.1.0 refuses aggregation tables with fields.<f>.ignore-retract (NotImplementedError)",
		},
		{
			// Adds only: a delete that wins on the sequence field and is
			// then compacted away would let an older add win later, which
			// the model does not follow.
			Name: "dedup-sequence-field", Columns: "id INT NOT NULL, sq BIGINT, a STRING", PK: "id",
			Options: map[string]string{"bucket": "2", "sequence.field": "sq"},
			Small:   true,
		},
		{
			Name: "first-row", Columns: dedup, PK: "id",
			Options: map[string]string{"bucket": "2", "merge-engine": "first-row"},
		},
		{
			Name:    "deletion-vectors",
			Columns: "id INT NOT NULL, p INT, a BIGINT, b STRING", PK: "id,p", Partition: "p",
			Options: map[string]string{"bucket": "2", "deletion-vectors.enabled": "true"},
			Values:  map[string][]any{"p": {int32(1), int32(2)}},
		},
		{
			Name: "changelog-input", Columns: dedup, PK: "id", Stream: true,
			Options: map[string]string{"bucket": "2", "changelog-producer": "input"},
		},
		{
			Name: "changelog-lookup", Columns: dedup, PK: "id", Stream: true,
			Options: map[string]string{"bucket": "2", "changelog-producer": "lookup"},
		},
		{
			Name: "changelog-full-compaction", Columns: dedup, PK: "id", Stream: true,
			Options: map[string]string{"bucket": "2", "changelog-producer": "full-compaction", "full-compaction.delta-commits": "1"},
		},
		{
			Name: "all-types",
			Columns: "id INT NOT NULL, bo BOOLEAN, ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, " +
				"dec1 DECIMAL(5, 2), dec2 DECIMAL(18, 6), dec3 DECIMAL(38, 10), ch CHAR(4), vc VARCHAR(12), s STRING, " +
				"bin BINARY(3), vb VARBINARY(8), by BYTES, dt DATE, tm TIME, tm3 TIME(3), " +
				"ts0 TIMESTAMP(0), ts3 TIMESTAMP(3), ts6 TIMESTAMP(6), ts9 TIMESTAMP(9), " +
				"ltz0 TIMESTAMP_LTZ(0), ltz3 TIMESTAMP_LTZ(3), ltz6 TIMESTAMP_LTZ(6), ltz9 TIMESTAMP_LTZ(9), " +
				"arr ARRAY<INT>, arrs ARRAY<STRING>, m MAP<STRING, BIGINT>, mn MAP<INT, ARRAY<STRING>>, " +
				"ms MULTISET<STRING>, r ROW<x INT, y STRING, z ROW<q DOUBLE, w DECIMAL(10, 3)>>, " +
				"ar ARRAY<ROW<k STRING, v TIMESTAMP(6)>>",
			PK:       "id",
			Options:  map[string]string{"bucket": "2"},
			NoPython: "pypaimon 2.1.0 cannot read MULTISET columns (ValueError: Unsupported data type: MULTISET<STRING>)",
		},
		{
			// all-types without what pypaimon 2.1.0 cannot read even from
			// Java's files (MULTISET; TIME: "Unsupported cast from
			// time32[ms] to int64"), so that it reads every other type.
			Name: "all-types-py",
			Columns: "id INT NOT NULL, bo BOOLEAN, ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, " +
				"dec1 DECIMAL(5, 2), dec2 DECIMAL(18, 6), dec3 DECIMAL(38, 10), ch CHAR(4), vc VARCHAR(12), s STRING, " +
				"bin BINARY(3), vb VARBINARY(8), by BYTES, dt DATE, " +
				"ts0 TIMESTAMP(0), ts3 TIMESTAMP(3), ts6 TIMESTAMP(6), ts9 TIMESTAMP(9), " +
				"ltz0 TIMESTAMP_LTZ(0), ltz3 TIMESTAMP_LTZ(3), ltz6 TIMESTAMP_LTZ(6), ltz9 TIMESTAMP_LTZ(9), " +
				"arr ARRAY<INT>, arrs ARRAY<STRING>, m MAP<STRING, BIGINT>, mn MAP<INT, ARRAY<STRING>>, " +
				"r ROW<x INT, y STRING, z ROW<q DOUBLE, w DECIMAL(10, 3)>>, ar ARRAY<ROW<k STRING, v TIMESTAMP(6)>>",
			PK:      "id",
			Options: map[string]string{"bucket": "2"},
			// pypaimon reads TIMESTAMP(9) at microseconds (INT96 through
			// pyarrow): Java's files and Strata's alike.
			Values: map[string][]any{"ts9": pyMicros, "ltz9": pyMicros},
		},
		{
			Name:    "append-unaware",
			Columns: "id INT NOT NULL, p STRING, a BIGINT, b STRING", Partition: "p",
			Options:         map[string]string{"bucket": "-1"},
			Values:          map[string][]any{"p": {"x", "y=1", "", nil}},
			NoStrataCompact: strataNoAppendCompaction,
			NoJavaCompact:   "Java compacts bucket-unaware append tables only through its dedicated coordinator (TableWrite.compact: NoopCompactManager)",
		},
		{
			Name:            "append-bucketed",
			Columns:         "id INT NOT NULL, a BIGINT, b STRING",
			Options:         map[string]string{"bucket": "3", "bucket-key": "id"},
			NoStrataCompact: strataNoAppendCompaction,
		},
		{
			// Java Paimon names the local lookup files of a partition after
			// its raw values (LookupFile.localFilePrefix), so a value with a
			// '/' makes its lookup compaction fail ("No such file or
			// directory") once a write has files to look keys up in (the
			// long run shows it): Java cannot write this table. Its full
			// compaction needs no lookup and works.
			Name:    "deletion-vectors-part-slash",
			Columns: "id INT NOT NULL, p STRING, a BIGINT, b STRING", PK: "id,p", Partition: "p",
			Options:     map[string]string{"bucket": "2", "deletion-vectors.enabled": "true"},
			Values:      map[string][]any{"p": partStrings},
			NoJavaWrite: javaSlashBug,
		},
		// Long run only.
		{
			Name: "aggregation-changelog-lookup", Long: true, Stream: true,
			Columns: "id INT NOT NULL, s BIGINT, lv STRING",
			PK:      "id",
			Options: map[string]string{
				"bucket": "2", "merge-engine": "aggregation", "changelog-producer": "lookup",
				"fields.s.aggregate-function": "sum", "fields.lv.aggregate-function": "last_value",
			},
			Small:    true,
			NoPython: "pypaimon 2.1.0 cannot merge a retraction (-U/-D) in an aggregation table (NotImplementedError in AggregateMergeFunction)",
		},
		{
			Name: "partial-update-deletion-vectors", Long: true,
			Columns: "id INT NOT NULL, g1 INT, a BIGINT, b STRING, e STRING", PK: "id",
			Options: map[string]string{
				"bucket": "2", "merge-engine": "partial-update", "deletion-vectors.enabled": "true",
				"fields.g1.sequence-group": "a,b",
			},
			Small:    true,
			NoPython: pyNoSeqGroups,
		},
		{
			Name: "first-row-dynamic-partitioned", Long: true,
			Columns: "id INT NOT NULL, p STRING, a BIGINT", PK: "id,p", Partition: "p",
			Options: map[string]string{"bucket": "-1", "merge-engine": "first-row", "dynamic-bucket.target-row-num": "4"},
			Values:  map[string][]any{"p": {"x", ""}},
		},
		{
			// file.format=avro: Java writes Avro data files, Strata reads them
			// (every type Java's Avro writer takes: not TIME(p>3), TIMESTAMP(p>6),
			// nor MULTISET: Java 1.4.2 fails writing one with a ClassCastException,
			// MultisetType to ArrayType, so avroio's MULTISET decoding, which follows
			// AvroSchemaConverter, is untested against Java's bytes).
			Name: "avro-all-types",
			Columns: "id INT NOT NULL, p INT NOT NULL, bo BOOLEAN, ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, " +
				"dec1 DECIMAL(5, 2), dec2 DECIMAL(18, 6), dec3 DECIMAL(38, 10), ch CHAR(4), vc VARCHAR(12), s STRING, " +
				"bin BINARY(3), vb VARBINARY(8), by BYTES, dt DATE, tm TIME, tm3 TIME(3), " +
				"ts0 TIMESTAMP(0), ts3 TIMESTAMP(3), ts6 TIMESTAMP(6), ltz0 TIMESTAMP_LTZ(0), ltz3 TIMESTAMP_LTZ(3), ltz6 TIMESTAMP_LTZ(6), " +
				"arr ARRAY<INT>, arrs ARRAY<STRING>, m MAP<STRING, BIGINT>, mn MAP<INT, ARRAY<STRING>>, " +
				"r ROW<x INT, y STRING, z ROW<q DOUBLE, w DECIMAL(10, 3)>>, " +
				"ar ARRAY<ROW<k STRING, v TIMESTAMP(6)>>",
			PK: "id,p", Partition: "p",
			Options:       map[string]string{"bucket": "2", "file.format": "avro"},
			NoPython:      "pypaimon 2.1.0 cannot read TIME columns of Avro files (ArrowNotImplementedError: Unsupported cast from time32[ms] to int64)",
			Values:        map[string][]any{"p": {int32(1), int32(2)}},
			NoStrataWrite: strataNoAvroWrite, NoStrataCompact: strataNoAvroWrite,
		},
		{
			Name:    "avro-deletion-vectors",
			Columns: "id INT NOT NULL, p INT, a BIGINT, b STRING, d DECIMAL(20, 4)", PK: "id,p", Partition: "p",
			Options:       map[string]string{"bucket": "2", "deletion-vectors.enabled": "true", "file.format": "avro", "file.compression": "snappy"},
			Values:        map[string][]any{"p": {int32(1), int32(2)}},
			NoStrataWrite: strataNoAvroWrite, NoStrataCompact: strataNoAvroWrite,
		},
		{
			Name:          "avro-append",
			Columns:       "id INT NOT NULL, a BIGINT, b STRING, t TIMESTAMP(3)",
			Options:       map[string]string{"bucket": "2", "bucket-key": "id", "file.format": "avro"},
			NoStrataWrite: strataNoAvroWrite, NoStrataCompact: strataNoAppendCompaction,
		},
		{
			Name: "dedup-bucket16-partitioned", Long: true,
			Columns: "id INT NOT NULL, p STRING, a BIGINT, b STRING", PK: "id,p", Partition: "p",
			Options: map[string]string{"bucket": "16"},
			Values:  map[string][]any{"p": partStrings},
			Keys:    60,
		},
	}
}

// pyMicros are TIMESTAMP(9) values pypaimon reads exactly: whole
// microseconds within pyarrow's nanosecond range (1677-2262; it wraps
// 0001-01-01 and 9999-12-31 around, in Java's files too), before and after
// 1970.
var pyMicros = []any{
	nil,
	spec.Timestamp{Millis: -5_000_000_000_000, NanoOfMilli: 123_000},
	spec.Timestamp{Millis: -1, NanoOfMilli: 999_000},
	spec.Timestamp{},
	spec.Timestamp{Millis: 1_700_000_000_123, NanoOfMilli: 456_000},
	spec.Timestamp{Millis: 9_000_000_000_000, NanoOfMilli: 1_000},
}
