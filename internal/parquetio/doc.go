// Package parquetio is the one place in Strata that maps Paimon types to
// Parquet and back. It owns:
//
//   - the Paimon→Parquet schema mapping of Java's ParquetSchemaConverter
//     (Schema, SchemaString), including the field ids of nested list
//     elements and map keys/values (SpecialFields) and the root message
//     name "paimon_schema";
//   - the physical column layout of primary-key data files (KVFields):
//     _KEY_ columns, _SEQUENCE_NUMBER, _VALUE_KIND, then the value columns;
//   - a Writer that turns rows in Strata's Go value model (see package spec),
//     or Arrow record batches, into Parquet files that Java Paimon, Flink,
//     Spark and DuckDB read;
//   - a Reader (Open, File.ReadRows) that reads Parquet files written by
//     Java Paimon or Strata back into that value model, matching columns by
//     name as Java's ParquetReaderFactory does;
//   - a columnar reader (Columnar) that decodes the pages of the requested
//     columns into Arrow arrays with arrow-go's pqarrow.
//
// The Writer uses github.com/apache/arrow-go/v18/parquet: the file schema is
// built node by node as Java's (arrow-go writes field id 0 and orders decimal
// statistics as signed, so the footer is arrow-go's own), rows become Arrow
// batches (package arrowconv), and each leaf column is written by
// pqarrow.WriteArrowToColumn from definition and repetition levels this
// package computes over the Arrow arrays (levels.go). Statistics and page
// indexes are written for every column, as parquet-mr does. The row Reader
// still decodes pages with github.com/parquet-go/parquet-go.
//
// The package does no I/O of its own beyond the io.Writer and io.ReaderAt it
// is given, and holds no global mutable state.
package parquetio
