package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
)

// handleLookup answers POST /v1/tables/{table}/lookup and records its
// latency, keys and errors by table.
func (s *Server) handleLookup(rc *fasthttp.RequestCtx, rawName []byte) {
	start := time.Now()
	t, err := s.lookup(rc, rawName, start)
	label := unknownTable
	if t != nil {
		label = t.name
	}
	if err != nil {
		s.m.errors.WithLabelValues(label, err.code).Inc()
		writeError(rc, err)
		s.m.latency.WithLabelValues(label, strconv.Itoa(err.status)).Observe(time.Since(start).Seconds())
		return
	}
	t.latencyOK.Observe(time.Since(start).Seconds())
}

// outBufs holds answer buffers between requests.
var outBufs = sync.Pool{New: func() any { return new([]byte) }}

// spanBufs holds the key places of requests between requests.
var spanBufs = sync.Pool{New: func() any { return new([]span) }}

// lookup reads the request that arrived at start, looks its keys up and
// writes the answer; it returns the table once known.
func (s *Server) lookup(rc *fasthttp.RequestCtx, rawName []byte, start time.Time) (*served, *apiError) {
	ctx := s.deadlines.get(start)
	t, aerr := s.servedTable(ctx, rawName)
	if aerr != nil {
		return nil, aerr
	}
	sp := spanBufs.Get().(*[]span)
	defer spanBufs.Put(sp)
	body := rc.PostBody()
	spans, n, aerr := keysBody(body, s.cfg.maxKeys, (*sp)[:0])
	*sp = spans
	switch {
	case aerr != nil:
		return t, aerr
	case n > s.cfg.maxKeys:
		return t, newError(http.StatusRequestEntityTooLarge, codeTooManyKeys, "%d keys: at most %d a request", n, s.cfg.maxKeys)
	}
	t.keysObs.Observe(float64(n))
	keys := make([]spec.Row, n)
	for i, sp := range spans {
		var err error
		if keys[i], err = t.keys.ParseJSON(body[sp.from:sp.to], i+1); err != nil {
			return t, newError(http.StatusBadRequest, codeBadKey, "%s", strings.TrimPrefix(err.Error(), textrow.ErrBadInput.Error()+": "))
		}
	}
	res, err := t.lookup.GetBatch(ctx, keys)
	if err != nil {
		return t, s.lookupFailed(ctx, t, len(keys), err)
	}
	return t, s.answer(rc, t, res.Snapshot, res.Rows)
}

// lookupFailed logs why GetBatch failed and returns the answer.
func (s *Server) lookupFailed(ctx context.Context, t *served, keys int, err error) *apiError {
	switch {
	case errors.Is(err, spec.ErrSchemaMismatch):
		return newError(http.StatusBadRequest, codeBadKey, "%v", err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		s.log.Error("lookup timed out", "table", t.name, "keys", keys, "timeout", s.cfg.writeTimeout, "err", err)
	case ctx.Err() != nil:
		s.log.Info("lookup abandoned: the server is closing", "table", t.name, "keys", keys)
	default:
		s.log.Error("lookup failed", "table", t.name, "keys", keys, "err", err)
	}
	return errInternal("the lookup failed")
}

// servedTable resolves the URL's table name (still escaped): an invalid
// name is a bad request, one the server does not serve an unknown table.
func (s *Server) servedTable(ctx context.Context, rawName []byte) (*served, *apiError) {
	if t := s.tables.byName(rawName); t != nil {
		return t, nil
	}
	name := string(rawName)
	if strings.IndexByte(name, '%') >= 0 {
		var err error
		if name, err = url.PathUnescape(name); err != nil {
			return nil, newError(http.StatusBadRequest, codeBadRequest, "invalid table name: %v", err)
		}
	}
	id, err := catalog.ParseIdentifier(name)
	if err != nil {
		return nil, newError(http.StatusBadRequest, codeBadRequest, "invalid table name: %v", err)
	}
	t, err := s.tables.get(ctx, id)
	switch {
	case errors.Is(err, errUnknownTable):
		return nil, newError(http.StatusNotFound, codeUnknownTable, "%v", err)
	case err != nil:
		s.log.Error("opening a table failed", "table", id.String(), "err", err)
		return nil, errInternal("opening table " + id.String() + " failed")
	}
	return t, nil
}

// answer writes {"snapshot": N, "rows": [...]}, each row as `strata scan
// --format jsonl` prints it and null for a miss.
func (s *Server) answer(rc *fasthttp.RequestCtx, t *served, snapshot int64, rows []spec.Row) *apiError {
	bp := outBufs.Get().(*[]byte)
	defer outBufs.Put(bp)
	b, err := appendAnswer((*bp)[:0], t.rows, snapshot, rows)
	*bp = b
	if err != nil {
		s.log.Error("encoding a row failed", "table", t.name, "err", err)
		return errInternal("encoding a row failed")
	}
	writeJSON(rc, http.StatusOK, b)
	return nil
}

// appendAnswer appends a lookup's answer to b.
func appendAnswer(b []byte, enc *textrow.JSONEncoder, snapshot int64, rows []spec.Row) ([]byte, error) {
	b = append(b, `{"snapshot":`...)
	b = strconv.AppendInt(b, snapshot, 10)
	b = append(b, `,"rows":[`...)
	for i, row := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		if row == nil {
			b = append(b, "null"...)
			continue
		}
		var err error
		if b, err = enc.AppendRow(b, row); err != nil {
			return b, err
		}
	}
	return append(b, "]}\n"...), nil
}
