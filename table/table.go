package table

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/manifest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// ErrUnsupported marks table features Strata does not implement yet.
var ErrUnsupported = errors.New("strata: not supported yet")

// Table is one Paimon table: its latest schema, options and file stores.
type Table struct {
	fs        storage.Storage
	path      string
	schema    *spec.TableSchema
	opts      spec.Options
	snapshots *Snapshots
	schemas   *Schemas
	manifests *manifest.Store
	layout    *lsm.FileLayout
	mergeFn   lsm.MergeFunctionFactory
	ordering  *lsm.Ordering
	rowKinds  *lsm.RowKindResolver
}

// Create writes schema-0 for a new table at tablePath (relative to fs) and
// opens it. It fails with storage.ErrExist if the table already exists.
func Create(ctx context.Context, fs storage.Storage, tablePath string, schema *spec.TableSchema) (*Table, error) {
	if err := schema.Validate(); err != nil {
		return nil, err
	}
	if _, err := schema.CoreOptions(); err != nil {
		return nil, fmt.Errorf("%w: %v", spec.ErrInvalidSchema, err)
	}
	sc := *schema
	sc.ID = 0
	if err := newSchemas(fs, tablePath).create(ctx, &sc); err != nil {
		return nil, err
	}
	return Open(ctx, fs, tablePath)
}

// Open opens the table at tablePath with its latest schema.
func Open(ctx context.Context, fs storage.Storage, tablePath string) (*Table, error) {
	schemas := newSchemas(fs, tablePath)
	sc, err := schemas.Latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("open table %s: %w", tablePath, err)
	}
	opts, err := sc.CoreOptions()
	if err != nil {
		return nil, fmt.Errorf("open table %s: %w", tablePath, err)
	}
	t := &Table{
		fs: fs, path: tablePath, schema: sc, opts: opts,
		snapshots: newSnapshots(fs, tablePath), schemas: schemas,
		manifests: manifest.NewStore(fs, tablePath, opts.ManifestCompression),
	}
	if len(sc.PrimaryKeys) > 0 {
		if t.layout, err = lsm.NewFileLayout(sc, opts); err != nil {
			return nil, fmt.Errorf("open table %s: %w", tablePath, err)
		}
		if t.mergeFn, err = lsm.NewMergeFunctionFactory(sc, opts); err != nil {
			return nil, fmt.Errorf("open table %s: %w", tablePath, err)
		}
		if t.ordering, err = lsm.NewOrdering(sc, opts); err != nil {
			return nil, fmt.Errorf("open table %s: %w", tablePath, err)
		}
		if t.rowKinds, err = lsm.NewRowKindResolver(sc, opts); err != nil {
			return nil, fmt.Errorf("open table %s: %w", tablePath, err)
		}
	}
	return t, nil
}

// Path is the table directory relative to the storage root.
func (t *Table) Path() string { return t.path }

// Schema is the table's latest schema.
func (t *Table) Schema() *spec.TableSchema { return t.schema }

// Options are the table's parsed options.
func (t *Table) Options() spec.Options { return t.opts }

// Snapshots gives access to the table's snapshot files.
func (t *Table) Snapshots() *Snapshots { return t.snapshots }

// Schemas gives access to the table's schema files.
func (t *Table) Schemas() *Schemas { return t.schemas }

// Storage is the storage the table lives in.
func (t *Table) Storage() storage.Storage { return t.fs }

// bucketDir is the directory of one partition's bucket.
func (t *Table) bucketDir(partitionPath string, bucket int32) string {
	return path.Join(t.path, partitionPath, fmt.Sprintf("bucket-%d", bucket))
}

// checkWritable reports why the table cannot be written by this version.
func (t *Table) checkWritable() error {
	switch {
	case len(t.schema.PrimaryKeys) == 0:
		return fmt.Errorf("%w: tables without a primary key", ErrUnsupported)
	case t.opts.Bucket <= 0:
		return fmt.Errorf("%w: bucket=%d (dynamic or postpone buckets); create the table with -o bucket=N", ErrUnsupported, t.opts.Bucket)
	case len(t.schema.PartitionKeys) > 0:
		return fmt.Errorf("%w: writing partitioned tables", ErrUnsupported)
	case t.opts.DeletionVectorsEnabled && t.opts.MergeEngine == spec.MergeEngineFirstRow:
		return fmt.Errorf("%w: deletion vectors with merge-engine first-row (Paimon rejects it too)", spec.ErrInvalidSchema)
	case t.opts.DeletionVectorsEnabled && t.opts.ChangelogProducer == spec.ChangelogProducerFullCompaction:
		return fmt.Errorf("%w: deletion vectors with changelog-producer full-compaction (Paimon rejects it too)", spec.ErrInvalidSchema)
	}
	return nil
}
