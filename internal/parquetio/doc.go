// Package parquetio is the one place in Strata that maps Paimon types to
// Parquet and back. It owns:
//
//   - the Paimon→Parquet schema mapping of Java's ParquetSchemaConverter,
//     including the field ids of nested list elements and map keys/values
//     (SpecialFields) and the root message name "paimon_schema";
//   - the physical column layout of primary-key data files (KVFields):
//     _KEY_ columns, _SEQUENCE_NUMBER, _VALUE_KIND, then the value columns;
//   - a Writer that turns rows in Strata's Go value model (see package spec)
//     into Parquet files that Java Paimon, Flink, Spark and DuckDB read;
//   - a Reader (Open, File.ReadRows) that reads Parquet files written by
//     Java Paimon or Strata back into that value model, matching columns by
//     name as Java's ParquetReaderFactory does.
//
// Pages, encodings and compression come from github.com/parquet-go/parquet-go.
// The schema part of the file footer is written by this package, because
// parquet-go cannot express a field id of 0 (the first column of every Paimon
// table) and annotates plain INT32/INT64 columns where Java does not.
//
// The package does no I/O of its own beyond the io.Writer and io.ReaderAt it
// is given, and holds no global mutable state.
package parquetio
