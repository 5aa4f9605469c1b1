package table

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Schemas reads a table's schema-N files, caching them: they never change
// once written.
type Schemas struct {
	fs  storage.Storage
	dir string

	mu    sync.Mutex
	cache map[int64]*spec.TableSchema
}

func newSchemas(fs storage.Storage, tablePath string) *Schemas {
	return &Schemas{fs: fs, dir: path.Join(tablePath, "schema"), cache: map[int64]*spec.TableSchema{}}
}

func (s *Schemas) path(id int64) string { return path.Join(s.dir, "schema-"+strconv.FormatInt(id, 10)) }

// Get returns schema id.
func (s *Schemas) Get(ctx context.Context, id int64) (*spec.TableSchema, error) {
	s.mu.Lock()
	sc, ok := s.cache[id]
	s.mu.Unlock()
	if ok {
		return sc, nil
	}
	data, err := s.fs.Get(ctx, s.path(id))
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("schema %d: %w", id, spec.ErrNotFound)
		}
		return nil, fmt.Errorf("schema %d: %w", id, err)
	}
	sc, err = spec.DecodeSchema(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path(id), err)
	}
	s.mu.Lock()
	s.cache[id] = sc
	s.mu.Unlock()
	return sc, nil
}

// LatestID returns the highest schema id, or -1 when there is none.
func (s *Schemas) LatestID(ctx context.Context) (int64, error) {
	infos, err := s.fs.List(ctx, s.dir, false)
	if err != nil {
		return -1, fmt.Errorf("list schemas: %w", err)
	}
	latest := int64(-1)
	for _, fi := range infos {
		name := path.Base(fi.Path)
		if !strings.HasPrefix(name, "schema-") {
			continue
		}
		if id, err := strconv.ParseInt(strings.TrimPrefix(name, "schema-"), 10, 64); err == nil && id > latest {
			latest = id
		}
	}
	return latest, nil
}

// Latest returns the newest schema.
func (s *Schemas) Latest(ctx context.Context) (*spec.TableSchema, error) {
	id, err := s.LatestID(ctx)
	if err != nil {
		return nil, err
	}
	if id < 0 {
		return nil, fmt.Errorf("no schema in %s: %w", s.dir, spec.ErrNotFound)
	}
	return s.Get(ctx, id)
}

// create writes schema-N exclusively.
func (s *Schemas) create(ctx context.Context, sc *spec.TableSchema) error {
	if err := s.fs.PutIfAbsent(ctx, s.path(sc.ID), spec.EncodeSchema(sc)); err != nil {
		return fmt.Errorf("write schema %d: %w", sc.ID, err)
	}
	return nil
}
