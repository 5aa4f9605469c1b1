package table

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync"

	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/manifest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// ErrUnsupported marks table features Strata does not implement yet.
var ErrUnsupported = errors.New("not supported yet")

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
	// dedupIgnore: value positions changelog row deduplication ignores.
	dedupIgnore []int

	mu sync.Mutex
	// totalBuckets caches, per partition, the bucket count of its files
	// (bucket counts never change under a table's schema).
	totalBuckets map[string]int32
}

// Create writes schema-0 for a new table at tablePath (relative to fs) and
// opens it. It fails with storage.ErrExist if the table already exists. The
// schema is checked first, as Validate does; when it is refused nothing is
// written.
func Create(ctx context.Context, fs storage.Storage, tablePath string, schema *spec.TableSchema) (*Table, error) {
	t, _, err := CreateWithWarnings(ctx, fs, tablePath, schema)
	return t, err
}

// CreateWithWarnings is Create that also returns Validate's warnings
// (unknown option keys), even when it fails.
func CreateWithWarnings(ctx context.Context, fs storage.Storage, tablePath string, schema *spec.TableSchema) (*Table, []string, error) {
	warnings, err := Validate(schema)
	if err != nil {
		return nil, warnings, err
	}
	sc := *schema
	sc.ID = 0
	if err := newSchemas(fs, tablePath).create(ctx, &sc); err != nil {
		return nil, warnings, err
	}
	t, err := Open(ctx, fs, tablePath)
	return t, warnings, err
}

// Validate checks a new table's schema without writing anything: the
// strict option checks of spec.TableSchema.ValidateCreate, then everything
// opening and writing the table builds from it (file layout, merge
// function with its sequence groups and aggregate functions, record
// ordering, row kinds), so that a table Create accepts can always be opened
// and written. Errors wrap spec.ErrInvalidSchema (or ErrUnsupported) and
// name the option; the warnings name unknown option keys.
func Validate(schema *spec.TableSchema) (warnings []string, err error) {
	warnings, err = schema.ValidateCreate()
	if err != nil {
		return warnings, err
	}
	opts, err := schema.CoreOptions()
	if err != nil {
		return warnings, fmt.Errorf("%w: %w", spec.ErrInvalidSchema, err)
	}
	mem := storage.NewMemory()
	t, err := newTable(mem, "", newSchemas(mem, ""), schema, opts)
	if err != nil {
		return warnings, err
	}
	return warnings, t.checkWritable()
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
	t, err := newTable(fs, tablePath, schemas, sc, opts)
	if err != nil {
		return nil, fmt.Errorf("open table %s: %w", tablePath, err)
	}
	return t, nil
}

// newTable builds a table from its schema and parsed options; it does no
// I/O.
func newTable(fs storage.Storage, tablePath string, schemas *Schemas, sc *spec.TableSchema, opts spec.Options) (*Table, error) {
	t := &Table{
		fs: fs, path: tablePath, schema: sc, opts: opts,
		snapshots: newSnapshots(fs, tablePath), schemas: schemas, totalBuckets: map[string]int32{},
		manifests: manifest.NewStore(fs, tablePath, opts.ManifestCompression),
	}
	var err error
	if t.layout, err = lsm.NewFileLayout(sc, opts); err != nil {
		return nil, err
	}
	if len(sc.PrimaryKeys) == 0 {
		return t, nil
	}
	if t.mergeFn, err = lsm.NewMergeFunctionFactory(sc, opts); err != nil {
		return nil, err
	}
	if t.ordering, err = lsm.NewOrdering(sc, opts); err != nil {
		return nil, err
	}
	if t.rowKinds, err = lsm.NewRowKindResolver(sc, opts); err != nil {
		return nil, err
	}
	if t.dedupIgnore, err = lsm.DedupIgnoreFields(sc, opts); err != nil {
		return nil, err
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

// partitionTypes are the partition columns' types.
func (t *Table) partitionTypes() []spec.DataType { return fieldTypes(t.schema.PartitionFields()) }

// partitionOf returns a row's serialized partition BinaryRow.
func (t *Table) partitionOf(row spec.Row) ([]byte, error) {
	pf := t.schema.PartitionFields()
	if len(pf) == 0 {
		return spec.SerializedEmptyRow(), nil
	}
	vals := make(spec.Row, len(pf))
	for i, f := range pf {
		vals[i] = row[t.schema.FieldIndex(f.Name)]
	}
	b, err := spec.EncodeBinaryRow(t.partitionTypes(), vals, spec.RowKindInsert)
	if err != nil {
		return nil, err
	}
	return spec.SerializeBinaryRow(len(pf), b), nil
}

// partitionPath returns the directory of a serialized partition, as Java
// names it (partition.legacy-name, partition.default-name).
func (t *Table) partitionPath(partition []byte) (string, error) {
	pf := t.schema.PartitionFields()
	if len(pf) == 0 {
		return "", nil
	}
	vals, err := t.partitionValues(partition)
	if err != nil {
		return "", err
	}
	return spec.PartitionPath(pf, vals, t.opts.PartitionDefaultName, t.opts.PartitionLegacyName)
}

// partitionValues decodes a serialized partition.
func (t *Table) partitionValues(partition []byte) (spec.Row, error) {
	arity, row, err := spec.DeserializeBinaryRow(partition)
	if err != nil {
		return nil, err
	}
	types := t.partitionTypes()
	if arity != len(types) {
		return nil, fmt.Errorf("%w: partition of arity %d, table has %d partition columns", spec.ErrCorrupt, arity, len(types))
	}
	vals, _, err := spec.DecodeBinaryRow(types, row)
	return vals, err
}

// checkWritable reports why the table cannot be written by this version.
func (t *Table) checkWritable() error {
	switch {
	case t.opts.FileFormat != "parquet":
		// Strata reads Avro data files (Java writes them for file.format=avro)
		// but writes, and so compacts, Parquet only.
		return fmt.Errorf("%w: writing a table with file.format=%s (Strata writes Parquet data files only; it reads the table's Avro files)", ErrUnsupported, t.opts.FileFormat)
	case t.appendOnly() && t.opts.Bucket > 0 && len(t.schema.BucketKeys()) == 0:
		return fmt.Errorf("%w: an append table with fixed buckets needs the bucket-key option", spec.ErrInvalidSchema)
	case t.opts.Bucket == 0 || t.opts.Bucket < spec.BucketDynamic:
		return fmt.Errorf("%w: bucket=%d (postpone buckets); create the table with -o bucket=N or -1", ErrUnsupported, t.opts.Bucket)
	case t.appendOnly() && t.opts.DeletionVectorsEnabled:
		return fmt.Errorf("%w: writing append tables with deletion vectors", ErrUnsupported)
	case !t.appendOnly() && t.opts.Bucket != spec.BucketDynamic && !containsAll(t.schema.PrimaryKeys, t.schema.PartitionKeys):
		return fmt.Errorf("%w: a primary key without every partition key needs dynamic buckets (bucket=-1) for cross-partition upserts", spec.ErrInvalidSchema)
	case t.opts.DeletionVectorsEnabled && t.opts.MergeEngine == spec.MergeEngineFirstRow:
		return fmt.Errorf("%w: deletion vectors with merge-engine first-row (Paimon rejects it too)", spec.ErrInvalidSchema)
	case t.opts.DeletionVectorsEnabled && t.opts.ChangelogProducer == spec.ChangelogProducerFullCompaction:
		return fmt.Errorf("%w: deletion vectors with changelog-producer full-compaction (Paimon rejects it too)", spec.ErrInvalidSchema)
	}
	return nil
}

func containsAll(set, items []string) bool {
	for _, it := range items {
		found := false
		for _, s := range set {
			found = found || s == it
		}
		if !found {
			return false
		}
	}
	return true
}

// appendOnly reports whether the table has no primary key: rows are only
// appended, never merged.
func (t *Table) appendOnly() bool { return len(t.schema.PrimaryKeys) == 0 }
