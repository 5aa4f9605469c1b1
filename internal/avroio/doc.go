// Package avroio reads the Avro data files Java Paimon writes when a table
// says file.format=avro: Avro object container files whose writer schema is
// derived from the Paimon row type (Paimon's AvroSchemaConverter), either
// the key-value layout of primary-key tables (_KEY_ fields,
// _SEQUENCE_NUMBER, _VALUE_KIND, value fields) or an append table's columns.
//
// Open parses the container header (schema, codec, sync marker); File.ReadRows
// streams the records, decoding only the requested top-level fields (matched
// by name, as Java's reader does) into Strata's value model (see package
// spec) and skipping the rest. Each requested field is checked against the
// file's Avro schema before any record is decoded: a field whose Avro
// encoding is not the one Paimon writes for its Paimon type is refused with
// ErrUnsupported, naming the field and both types, never guessed.
//
// The encodings, per Paimon type (nullable types are ["null", T] unions):
//
//	BOOLEAN boolean; TINYINT, SMALLINT, INT int; BIGINT long
//	FLOAT float; DOUBLE double; CHAR, VARCHAR string
//	BINARY, VARBINARY bytes
//	DECIMAL(p, s) bytes with logicalType decimal: big-endian two's complement
//	  of the unscaled value
//	DATE int (date, days since the epoch); TIME(p<=3) int (time-millis)
//	TIMESTAMP(p<=6), TIMESTAMP_LTZ(p<=6) long with logicalType
//	  [local-]timestamp-millis for p<=3 and [local-]timestamp-micros for
//	  4<=p<=6, counted from the epoch
//	ARRAY<T>, VECTOR<T> array
//	MAP<K, V>, MULTISET<K> (V = INT counts): a map when K is CHAR or
//	  VARCHAR, otherwise an array of records {key, value}
//	ROW record, fields by name
//
// Java refuses to write TIME(p>3) and TIMESTAMP(p>6) in Avro, so such
// fields are refused here too. Codecs: null, deflate, snappy and zstandard
// (from github.com/twmb/avro/ocf); others (bzip2, xz) are refused.
package avroio
