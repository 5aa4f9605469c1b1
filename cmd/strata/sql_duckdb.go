//go:build duckdb_arrow

package main

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// sqlSession is one in-memory DuckDB connection with the query's tables
// registered in it.
type sqlSession struct {
	e        *env
	conn     driver.Conn
	ar       *duckdb.Arrow
	scans    []*table.Scan
	readers  []*scanReader
	releases []func() // Arrow streams handed to DuckDB, released last
}

func (e *env) runSQL(ctx context.Context, req sqlRequest) (err error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return fmt.Errorf("sql: starting DuckDB: %w", err)
	}
	s := &sqlSession{e: e}
	defer func() {
		// DuckDB goes first: its views point into the streams.
		if s.conn != nil {
			err = errors.Join(err, s.conn.Close())
		}
		err = errors.Join(err, connector.Close())
		for _, release := range s.releases {
			release()
		}
	}()
	if s.conn, err = connector.Connect(ctx); err != nil {
		return fmt.Errorf("sql: connecting to DuckDB: %w", err)
	}
	if s.ar, err = duckdb.NewArrowFromConn(s.conn); err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	stmt, err := s.parse(ctx, req.query)
	if err != nil {
		return err
	}
	a, err := analyze(stmt, func(schema, name string) (*sqlTable, error) { return s.resolve(ctx, schema, name) })
	if err != nil {
		return err
	}
	if (req.travel == "--snapshot" || req.travel == "--tag") && len(a.tables) > 1 {
		return usagef("%s: the query reads %d tables and a snapshot id or tag belongs to one; use --as-of for a point in time", req.travel, len(a.tables))
	}
	modes := make([]string, len(a.tables))
	for i, st := range a.tables {
		if modes[i], err = s.register(ctx, i, st, req); err != nil {
			return err
		}
	}
	if err := s.guardRescans(ctx, req.query, a.tables, modes); err != nil {
		return err
	}
	if req.explain {
		for i, st := range a.tables {
			if _, err := io.WriteString(e.stdout, st.describe(modes[i])); err != nil {
				return err
			}
		}
		if len(a.tables) == 0 {
			_, err := io.WriteString(e.stdout, "the query reads no Strata table\n")
			return err
		}
		return nil
	}
	if err := s.query(ctx, req); err != nil {
		return err
	}
	if req.stats {
		for i, st := range a.tables {
			printSQLScanStats(e.stderr, st.strata, s.scans[i].Stats(), s.readers[i].rows.Load())
		}
	}
	return nil
}

// parse has DuckDB parse the query and returns its one SELECT statement.
func (s *sqlSession) parse(ctx context.Context, query string) (jnode, error) {
	text, err := s.scalarString(ctx, "SELECT json_serialize_sql($1::VARCHAR)", query)
	if err != nil {
		return nil, fmt.Errorf("sql: parsing the query: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var tree jnode
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("sql: reading DuckDB's parse tree: %w", err)
	}
	if truthy(tree["error"]) {
		msg := str(tree["error_message"])
		if strings.Contains(msg, "Only SELECT") {
			msg = "strata sql runs one SELECT query (or VALUES, WITH ... SELECT); it writes nothing"
		}
		return nil, usagef("%s", msg)
	}
	stmts := list(tree["statements"])
	if len(stmts) != 1 {
		return nil, usagef("give one SELECT query, not %d statements", len(stmts))
	}
	return node(stmts[0]), nil
}

// scalarString runs a query returning one VARCHAR.
func (s *sqlSession) scalarString(ctx context.Context, query string, args ...any) (string, error) {
	rr, err := s.ar.QueryContext(ctx, query, args...)
	if err != nil {
		return "", err
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		if rec.NumRows() > 0 && rec.NumCols() > 0 {
			if col, ok := rec.Column(0).(*array.String); ok && col.IsValid(0) {
				return strings.Clone(col.Value(0)), nil // the buffer goes with rr
			}
		}
	}
	if err := rr.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no result", query)
}

// sqlBuilt says whether this build has "strata sql" (strata version).
const sqlBuilt = true

// duckdbSchemas are schemas DuckDB owns: a name in them is never a Strata
// table.
var duckdbSchemas = []string{"information_schema", "pg_catalog", "main", "temp", "system", "memory"}

// resolve opens the Strata table a reference names, or returns nil when it
// is not one: a bare name is database "default"'s table if there is one
// (else DuckDB resolves it), a qualified name in a DuckDB schema is
// DuckDB's, and any other db.t must be a Strata table.
func (s *sqlSession) resolve(ctx context.Context, schema, name string) (*sqlTable, error) {
	if slices.Contains(duckdbSchemas, strings.ToLower(schema)) {
		return nil, nil
	}
	id := schema + "." + name
	if schema == "" {
		id = "default." + name
	}
	t, err := s.e.table(ctx, id)
	if schema == "" && errors.Is(err, spec.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &sqlTable{schema: duckSchema(schema), name: name, strata: id, t: t, fields: t.Schema().Fields}, nil
}

// register plans table st's scan and makes it DuckDB's schema.name: a view
// over the scan's Arrow stream when the query names it once, else a DuckDB
// table the stream is read into once. It returns the mode for --explain.
func (s *sqlSession) register(ctx context.Context, i int, st *sqlTable, req sqlRequest) (string, error) {
	opts := append(slices.Clone(req.scan), table.WithProjection(st.columns()...))
	if p, ok := st.filter(); ok {
		opts = append(opts, table.WithFilter(p))
	}
	scan := st.t.NewScan(opts...)
	schema, batches, err := scan.ToArrowRecords(ctx)
	if err != nil {
		return "", fmt.Errorf("sql: %s: %w", st.strata, err)
	}
	rd := newScanReader(ctx, st.strata, schema, batches)
	view := fmt.Sprintf("__strata_%d", i)
	release, err := s.ar.RegisterView(rd, view)
	rd.Release() // the exported stream holds its own reference
	if err != nil {
		return "", fmt.Errorf("sql: %s: %w", st.strata, err)
	}
	s.scans, s.readers, s.releases = append(s.scans, scan), append(s.readers, rd), append(s.releases, release)
	if st.schema != "main" {
		if err := s.exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(st.schema)); err != nil {
			return "", err
		}
	}
	if st.refs > 1 {
		return fmt.Sprintf("named %d times: read once into a DuckDB table", st.refs), s.materialize(ctx, st, view)
	}
	return "streamed", s.exec(ctx, fmt.Sprintf("CREATE VIEW %s.%s AS SELECT * EXCLUDE (%s) FROM %s", quoteIdent(st.schema), quoteIdent(st.name), noPushdownColumn, view))
}

func (s *sqlSession) materialize(ctx context.Context, st *sqlTable, view string) error {
	name := quoteIdent(st.schema) + "." + quoteIdent(st.name)
	if err := s.exec(ctx, "DROP VIEW IF EXISTS "+name); err != nil {
		return err
	}
	return s.exec(ctx, fmt.Sprintf("CREATE TABLE %s AS SELECT * EXCLUDE (%s) FROM %s", name, noPushdownColumn, view))
}

func (s *sqlSession) exec(ctx context.Context, stmt string) error {
	_, err := s.conn.(driver.ExecerContext).ExecContext(ctx, stmt, nil)
	if err != nil {
		return fmt.Errorf("sql: %s: %w", stmt, err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// guardRescans makes sure DuckDB reads each streamed table once: an Arrow
// stream cannot be rewound, and DuckDB would see a second scan of it as
// empty. Its plan is checked for more stream scans than streamed tables
// (an inlined CTE) and for recursive CTEs (which rescan their inputs);
// then every streamed table is read into a DuckDB table first. The scan
// reader also fails a second read, should a plan do one anyway.
func (s *sqlSession) guardRescans(ctx context.Context, query string, tables []*sqlTable, modes []string) error {
	streamed := 0
	for _, st := range tables {
		if st.refs == 1 {
			streamed++
		}
	}
	if streamed == 0 {
		return nil
	}
	plan, err := s.scalarPlan(ctx, "EXPLAIN (FORMAT json) "+query)
	if err != nil {
		return err
	}
	scans, recursive := 0, false
	walk(plan, func(n jnode) {
		name := str(n["name"])
		switch {
		case strings.Contains(name, "ARROW_SCAN"):
			scans++
		case strings.Contains(name, "REC_CTE") || strings.Contains(name, "RECURSIVE"):
			recursive = true
		}
	})
	if scans <= streamed && !recursive {
		return nil
	}
	for i, st := range tables {
		if st.refs == 1 {
			if err := s.materialize(ctx, st, fmt.Sprintf("__strata_%d", i)); err != nil {
				return err
			}
			modes[i] = "read once into a DuckDB table (the plan scans it more than once)"
		}
	}
	return nil
}

// scalarPlan runs EXPLAIN (FORMAT json) and decodes the plan.
func (s *sqlSession) scalarPlan(ctx context.Context, query string) (any, error) {
	rr, err := s.ar.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	defer rr.Release()
	var plan []any
	for rr.Next() {
		rec := rr.RecordBatch()
		col, ok := rec.Column(int(rec.NumCols()) - 1).(*array.String)
		if !ok {
			return nil, fmt.Errorf("sql: EXPLAIN returned %s", rec.Column(int(rec.NumCols())-1).DataType())
		}
		for i := 0; i < col.Len(); i++ {
			var v any
			if err := json.Unmarshal([]byte(col.Value(i)), &v); err != nil {
				return nil, fmt.Errorf("sql: reading DuckDB's plan: %w", err)
			}
			plan = append(plan, v)
		}
	}
	if err := rr.Err(); err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	return plan, nil
}

// query runs the query and prints its rows.
func (s *sqlSession) query(ctx context.Context, req sqlRequest) error {
	rr, err := s.ar.QueryContext(ctx, req.query)
	if err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	defer rr.Release()
	cols := resultColumns(rr.Schema())
	fields := make([]spec.DataField, len(cols))
	for i, c := range cols {
		fields[i] = c.field
	}
	enc, err := newEncoder(s.e.stdout, req.format, fields)
	if err != nil {
		return err
	}
	for rr.Next() {
		rec := rr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make(spec.Row, len(cols))
			for c, col := range cols {
				if row[c], err = col.value(rec.Column(c), r); err != nil {
					return fmt.Errorf("sql: column %q: %w", col.field.Name, err)
				}
			}
			if err := enc.Write(row); err != nil {
				return err
			}
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	return enc.Flush()
}

func printSQLScanStats(w io.Writer, name string, st table.ScanStats, rows int64) {
	fmt.Fprintf(w, "%s: files %d planned, %d read (skipped: %d by partition, %d by bucket, %d by key stats, %d by value stats); "+
		"row groups %d read, %d skipped; pages %d read, %d skipped; rows %d read, %d returned, %d to DuckDB\n",
		name, st.FilesPlanned, st.FilesRead, st.FilesSkippedPartition, st.FilesSkippedBucket, st.FilesSkippedKeyStats, st.FilesSkippedValueStats,
		st.RowGroupsRead, st.RowGroupsSkipped, st.PagesRead, st.PagesSkipped, st.RowsRead, st.RowsReturned, rows)
}

// errReadTwice is a second read of a scan's stream: the query plan scans a
// table more often than the parse tree names it.
var errReadTwice = errors.New("the query plan reads this table's stream a second time, which it cannot rewind; please report the query")

// scanReader hands a scan's batches to DuckDB as an array.RecordReader,
// reading them in a goroutine (DuckDB calls Next from its own threads,
// one at a time). It starts reading on the first Next.
type scanReader struct {
	refs    atomic.Int64
	name    string
	schema  *arrow.Schema
	batches iter.Seq2[arrow.RecordBatch, error]
	ctx     context.Context
	cancel  context.CancelFunc
	ch      chan scanItem
	started bool
	ended   bool
	cur     arrow.RecordBatch
	nulls   arrow.Array // noPushdownColumn's values, sliced per batch
	err     error
	rows    atomic.Int64 // rows handed to DuckDB
}

type scanItem struct {
	rec arrow.RecordBatch
	err error
}

// noPushdownColumn is a column of type string_view added to every stream.
// DuckDB pushes WHERE filters into an Arrow scan's stream factory and then
// trusts them applied, but a stream registered through the C API ignores
// them, and rows the filter rejects would reach the query. DuckDB pushes
// no filter into a stream with a view-typed column (duckdb/duckdb#20703),
// so this column keeps every filter in DuckDB's own operators. The views
// the query sees leave it out; TestSQLPushdown fails should a DuckDB
// version push filters again.
const noPushdownColumn = "__strata_no_pushdown"

func newScanReader(ctx context.Context, name string, schema *arrow.Schema, batches iter.Seq2[arrow.RecordBatch, error]) *scanReader {
	ctx, cancel := context.WithCancel(ctx)
	fields := append(slices.Clone(schema.Fields()), arrow.Field{Name: noPushdownColumn, Type: arrow.BinaryTypes.StringView, Nullable: true})
	meta := schema.Metadata()
	r := &scanReader{name: name, schema: arrow.NewSchema(fields, &meta), batches: batches, ctx: ctx, cancel: cancel, ch: make(chan scanItem, 1)}
	r.refs.Store(1)
	return r
}

// withNullColumn returns rec with the all-null noPushdownColumn appended.
func (r *scanReader) withNullColumn(rec arrow.RecordBatch) arrow.RecordBatch {
	n := int(rec.NumRows())
	if r.nulls == nil || r.nulls.Len() < n {
		if r.nulls != nil {
			r.nulls.Release()
		}
		r.nulls = array.MakeArrayOfNull(memory.DefaultAllocator, arrow.BinaryTypes.StringView, n)
	}
	col := array.NewSlice(r.nulls, 0, int64(n))
	defer col.Release()
	out := array.NewRecordBatch(r.schema, append(slices.Clone(rec.Columns()), col), int64(n))
	rec.Release()
	return out
}

func (r *scanReader) pump() {
	defer close(r.ch)
	for rec, err := range r.batches {
		select {
		case r.ch <- scanItem{rec, err}:
		case <-r.ctx.Done():
			if rec != nil {
				rec.Release()
			}
			return
		}
		if err != nil {
			return
		}
	}
}

func (r *scanReader) Retain() { r.refs.Add(1) }

func (r *scanReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	r.cancel()
	if r.started {
		for it := range r.ch {
			if it.rec != nil {
				it.rec.Release()
			}
		}
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.nulls != nil {
		r.nulls.Release()
		r.nulls = nil
	}
}

func (r *scanReader) Schema() *arrow.Schema { return r.schema }

func (r *scanReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	switch {
	case r.err != nil:
		return false
	case r.ended:
		r.err = fmt.Errorf("%s: %w", r.name, errReadTwice)
		return false
	case !r.started:
		r.started = true
		go r.pump()
	}
	for it := range r.ch {
		if it.err != nil {
			r.err = fmt.Errorf("%s: %w", r.name, it.err)
			return false
		}
		if it.rec.NumRows() == 0 {
			it.rec.Release()
			continue
		}
		r.cur = r.withNullColumn(it.rec)
		r.rows.Add(r.cur.NumRows())
		return true
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return false
	}
	r.ended = true
	return false
}

func (r *scanReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is the deprecated name of RecordBatch.
func (r *scanReader) Record() arrow.RecordBatch { return r.cur }

func (r *scanReader) Err() error { return r.err }

// resultColumn is a column of DuckDB's result as Strata prints it.
type resultColumn struct {
	field spec.DataField
	value func(arr arrow.Array, i int) (any, error)
}

// resultColumns maps DuckDB's result schema to Strata fields: types with a
// Strata counterpart keep it (so DECIMAL, DATE and TIMESTAMP print as in
// "strata scan"), unsigned integers widen, and the rest print as DuckDB's
// text of the value.
func resultColumns(schema *arrow.Schema) []resultColumn {
	out := make([]resultColumn, schema.NumFields())
	for i, f := range schema.Fields() {
		out[i] = resultColumn{field: spec.DataField{ID: i, Name: f.Name}}
		c := &out[i]
		if t, ok := strataType(f.Type); ok {
			c.field.Type = t
			c.value = func(arr arrow.Array, i int) (any, error) { return arrowconv.Value(arr, i, t) }
			continue
		}
		c.field.Type, c.value = widened(f.Type)
	}
	return out
}

// strataType is the Strata type whose Arrow type (arrowconv.Type) is dt,
// for the arrays arrowconv.Value reads.
func strataType(dt arrow.DataType) (spec.DataType, bool) {
	t := spec.DataType{Nullable: true}
	switch dt := dt.(type) {
	case *arrow.BooleanType:
		t.Root = spec.TypeBoolean
	case *arrow.Int8Type:
		t.Root = spec.TypeTinyInt
	case *arrow.Int16Type:
		t.Root = spec.TypeSmallInt
	case *arrow.Int32Type:
		t.Root = spec.TypeInt
	case *arrow.Int64Type:
		t.Root = spec.TypeBigInt
	case *arrow.Float32Type:
		t.Root = spec.TypeFloat
	case *arrow.Float64Type:
		t.Root = spec.TypeDouble
	case *arrow.Decimal128Type:
		t.Root, t.Precision, t.Scale = spec.TypeDecimal, int(dt.Precision), int(dt.Scale)
	case *arrow.StringType:
		return spec.StringType, true
	case *arrow.BinaryType:
		t.Root, t.Length = spec.TypeVarBinary, spec.MaxVarLength
	case *arrow.Date32Type:
		t.Root = spec.TypeDate
	case *arrow.TimestampType:
		t.Root, t.Precision = spec.TypeTimestamp, [...]int{0, 3, 6, 9}[dt.Unit]
		if dt.TimeZone != "" {
			t.Root = spec.TypeTimestampLTZ
		}
	case *arrow.ListType:
		et, ok := strataType(dt.Elem())
		if !ok {
			return t, false
		}
		t.Root, t.Elem = spec.TypeArray, &et
	case *arrow.MapType:
		kt, ok1 := strataType(dt.KeyType())
		vt, ok2 := strataType(dt.ItemType())
		if !ok1 || !ok2 {
			return t, false
		}
		t.Root, t.Key, t.Value = spec.TypeMap, &kt, &vt
	case *arrow.StructType:
		t.Root = spec.TypeRow
		for i, f := range dt.Fields() {
			ft, ok := strataType(f.Type)
			if !ok {
				return t, false
			}
			t.Fields = append(t.Fields, spec.DataField{ID: i, Name: f.Name, Type: ft})
		}
	default:
		return t, false
	}
	return t, true
}

// widened maps the rest: small unsigned integers to the next signed type,
// anything else (UBIGINT, INTERVAL, UUID, TIME, ...) to DuckDB's text.
func widened(dt arrow.DataType) (spec.DataType, func(arrow.Array, int) (any, error)) {
	t := spec.DataType{Nullable: true}
	switch dt.ID() {
	case arrow.UINT8:
		t.Root = spec.TypeSmallInt
		return t, func(a arrow.Array, i int) (any, error) {
			return nullOr(a, i, func() any { return int16(a.(*array.Uint8).Value(i)) })
		}
	case arrow.UINT16:
		t.Root = spec.TypeInt
		return t, func(a arrow.Array, i int) (any, error) {
			return nullOr(a, i, func() any { return int32(a.(*array.Uint16).Value(i)) })
		}
	case arrow.UINT32:
		t.Root = spec.TypeBigInt
		return t, func(a arrow.Array, i int) (any, error) {
			return nullOr(a, i, func() any { return int64(a.(*array.Uint32).Value(i)) })
		}
	}
	return spec.StringType, func(a arrow.Array, i int) (any, error) { return nullOr(a, i, func() any { return a.ValueStr(i) }) }
}

func nullOr(a arrow.Array, i int, v func() any) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	return v(), nil
}
