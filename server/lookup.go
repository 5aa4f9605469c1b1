package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
)

// lookupRequest is the body of a lookup.
type lookupRequest struct {
	Keys *[]json.RawMessage `json:"keys"`
}

// handleLookup answers POST /v1/tables/{table}/lookup and records its
// latency, keys and errors by table.
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	label := unknownTable
	body, err := s.lookup(w, r, &label)
	status := http.StatusOK
	if err != nil {
		status = err.status
		s.m.errors.WithLabelValues(label, err.code).Inc()
		writeError(w, err)
	} else {
		writeJSON(w, status, body)
	}
	s.m.latency.WithLabelValues(label, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
}

// lookup reads the request, looks its keys up and returns the answer's
// body; label is set to the table's name once the table is known.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, label *string) ([]byte, *apiError) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.writeTimeout)
	defer cancel()
	t, aerr := s.servedTable(ctx, r.PathValue("table"))
	if aerr != nil {
		return nil, aerr
	}
	*label = t.name
	raw, aerr := s.readKeys(w, r)
	if aerr != nil {
		return nil, aerr
	}
	s.m.keys.WithLabelValues(t.name).Observe(float64(len(raw)))
	keys := make([]spec.Row, len(raw))
	for i, k := range raw {
		var err error
		if keys[i], err = t.keys.ParseJSON(k, i+1); err != nil {
			return nil, newError(http.StatusBadRequest, codeBadKey, "%s", strings.TrimPrefix(err.Error(), textrow.ErrBadInput.Error()+": "))
		}
	}
	if s.beforeLookup != nil {
		s.beforeLookup(ctx)
	}
	res, err := t.lookup.GetBatch(ctx, keys)
	if err != nil {
		if errors.Is(err, spec.ErrSchemaMismatch) {
			return nil, newError(http.StatusBadRequest, codeBadKey, "%v", err)
		}
		if r.Context().Err() != nil {
			s.log.Info("lookup abandoned: the client went away", "table", t.name, "keys", len(keys))
		} else {
			s.log.Error("lookup failed", "table", t.name, "keys", len(keys), "err", err)
		}
		return nil, errInternal("the lookup failed")
	}
	return s.encode(t, res.Snapshot, res.Rows)
}

// servedTable resolves the URL's table name: an invalid name is a bad
// request, one the server does not serve an unknown table.
func (s *Server) servedTable(ctx context.Context, name string) (*served, *apiError) {
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

// readKeys reads the body, at most maxBody bytes, as {"keys": [...]} with
// at most maxKeys keys.
func (s *Server) readKeys(w http.ResponseWriter, r *http.Request) ([]json.RawMessage, *apiError) {
	tooLarge := newError(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "the body is longer than %d bytes", s.cfg.maxBody)
	if r.ContentLength > s.cfg.maxBody {
		return nil, tooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, tooLarge
	}
	if err != nil {
		return nil, newError(http.StatusBadRequest, codeBadRequest, "reading the body: %v", err)
	}
	var req lookupRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, newError(http.StatusBadRequest, codeBadRequest, `want {"keys": [...]}: %v`, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, newError(http.StatusBadRequest, codeBadRequest, "unexpected data after the request object")
	}
	switch {
	case req.Keys == nil:
		return nil, newError(http.StatusBadRequest, codeBadRequest, `want {"keys": [...]}: "keys" is missing`)
	case len(*req.Keys) > s.cfg.maxKeys:
		return nil, newError(http.StatusRequestEntityTooLarge, codeTooManyKeys, "%d keys: at most %d a request", len(*req.Keys), s.cfg.maxKeys)
	}
	return *req.Keys, nil
}

// encode writes {"snapshot": N, "rows": [...]}, each row as `strata scan
// --format jsonl` prints it and null for a miss.
func (s *Server) encode(t *served, snapshot int64, rows []spec.Row) ([]byte, *apiError) {
	b := make([]byte, 0, 64+64*len(rows))
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
		if b, err = t.rows.AppendRow(b, row); err != nil {
			s.log.Error("encoding a row failed", "table", t.name, "err", err)
			return nil, errInternal("encoding a row failed")
		}
	}
	return append(b, "]}\n"...), nil
}
