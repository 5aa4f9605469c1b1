package table

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// maxAlterAttempts bounds how often Alter re-applies its changes after
// another alter wrote the schema id it wanted.
const maxAlterAttempts = 100

// Alter applies schema changes to the table and writes the result as the
// next schema-N file, as Paimon's SchemaManager.commitChanges does: the
// latest schema is read, the changes applied (spec.ApplySchemaChanges,
// stricter on options once the table has a snapshot) and the result
// checked, and schema-<latest+1> written with put-if-absent; when another
// alter wrote it first, the changes are applied again to that schema, so
// two alters never overwrite each other.
//
// The result is checked as strictly as Create checks a new table when the
// table passed those checks before (a bad option value is refused here,
// not at the next write); a table another engine created with options
// Strata would not create (ORC files, say) is held to Paimon's rules and
// must still open. Refusals wrap spec.ErrInvalidSchema and write nothing.
//
// t keeps the schema it was opened with: Open the table again to write,
// scan or look up with the new one. Files written under older schemas are
// read through field ids, so a dropped column's data never reappears, even
// under a new column of the same name.
func (t *Table) Alter(ctx context.Context, changes ...spec.SchemaChange) (*spec.TableSchema, error) {
	s, _, err := t.AlterWithWarnings(ctx, changes...)
	return s, err
}

// AlterWithWarnings is Alter that also returns warnings naming the
// unknown option keys it sets (stored, as Paimon stores them, but read by
// nothing Strata knows) with the nearest known key.
func (t *Table) AlterWithWarnings(ctx context.Context, changes ...spec.SchemaChange) (*spec.TableSchema, []string, error) {
	var warnings []string
	for _, c := range changes {
		if o, ok := c.(spec.SetOption); ok {
			warnings = append(warnings, spec.UnknownOptionWarnings([]string{o.Key})...)
		}
	}
	for attempt := 0; attempt < maxAlterAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, warnings, err
		}
		old, err := t.schemas.Latest(ctx)
		if err != nil {
			return nil, warnings, fmt.Errorf("alter %s: %w", t.path, err)
		}
		latest, err := t.snapshots.LatestID(ctx)
		if err != nil {
			return nil, warnings, fmt.Errorf("alter %s: %w", t.path, err)
		}
		next, err := spec.ApplySchemaChanges(old, latest > 0, changes...)
		if err != nil {
			return nil, warnings, fmt.Errorf("alter %s: %w", t.path, err)
		}
		if err := checkAltered(old, next); err != nil {
			return nil, warnings, fmt.Errorf("alter %s: %w", t.path, err)
		}
		err = t.schemas.create(ctx, next)
		if errors.Is(err, storage.ErrExist) {
			// Another alter wrote this id first: apply the changes to it.
			continue
		}
		if err != nil {
			return nil, warnings, fmt.Errorf("alter %s: %w", t.path, err)
		}
		return next, warnings, nil
	}
	return nil, warnings, fmt.Errorf("alter %s: %w: schema id taken by other alters %d times in a row",
		t.path, spec.ErrConflict, maxAlterAttempts)
}

// checkAltered checks an altered schema: as Validate checks a new table
// when the old schema passes that too, else only that Strata can still
// open it (Paimon's rules were checked by ApplySchemaChanges).
func checkAltered(old, next *spec.TableSchema) error {
	if _, err := Validate(old); err == nil {
		_, err := Validate(next)
		return err
	}
	opts, err := next.CoreOptions()
	if err != nil {
		return fmt.Errorf("%w: %w", spec.ErrInvalidSchema, err)
	}
	mem := storage.NewMemory()
	_, err = newTable(mem, "", newSchemas(mem, ""), next, opts)
	return err
}
