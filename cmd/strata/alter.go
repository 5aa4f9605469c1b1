package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/spec"
)

// alterFlags are the flags of strata alter; each action takes some.
type alterFlags struct {
	first, last       bool
	after, before     string
	comment, typ      string
	nullable, notNull bool
}

// alterFlagNames are the names of alterFlags' flags.
var alterFlagNames = []string{"first", "last", "after", "before", "comment", "type", "nullable", "not-null"}

func newAlterCmd(e *env) *cobra.Command {
	var f alterFlags
	cmd := &cobra.Command{
		Use:   "alter DB.TABLE ACTION ARGS... [flags]",
		Short: "Change a table's schema or options",
		Long: `Change a table's columns or options, writing the next schema-N file as Paimon
does (Java Paimon, Flink and the other engines read it). The actions:

  add-column NAME TYPE [--first | --after COL | --before COL] [--comment C]
      a nullable column (NOT NULL is refused: old rows have no value); old
      rows read null. A new column always gets a new field id, so the data of
      a dropped column of the same name never comes back.
  drop-column NAME
      not a partition or primary-key column.
  rename-column OLD NEW
      not a partition column; the primary key and the options naming the
      column (bucket-key, sequence.field, fields.OLD.*) follow.
  alter-column NAME [--type T] [--nullable | --not-null] [--comment C]
                    [--first | --last | --after COL | --before COL]
      --type widens the type so old files still read: integers to wider
      integers, FLOAT or DOUBLE, or a DECIMAL with room for their digits;
      FLOAT to DOUBLE; DECIMAL to more digits; longer VARCHAR/VARBINARY;
      higher TIMESTAMP precision; numbers, BOOLEAN and DATE to STRING. Not
      for partition or primary-key columns. --not-null is refused while
      alter-column-null-to-not-null.disabled is true (Paimon's default).
  set-option KEY=VALUE...
  remove-option KEY...
      once the table has a snapshot, Paimon's immutable options (merge-engine,
      bucket-key, rowkind.field, ...) cannot change, nor bucket (Strata cannot
      rescale), deletion-vectors.enabled (unless deletion-vectors.modifiable),
      or ignore-delete from true to false. Values are checked as by create.

Writers and readers already running keep the schema they started with;
their files are read through field ids by everyone after. A refused change
exits 2 and writes nothing.`,
		Example: `  strata alter shop.orders add-column discount "DECIMAL(10, 2)" --after amount
  strata alter shop.orders alter-column qty --type BIGINT
  strata alter shop.orders set-option snapshot.num-retained.max=100`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("want DB.TABLE and an action (add-column, drop-column, rename-column, alter-column, set-option, remove-option)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			changes, err := f.changes(args[1], args[2:], cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			s, warnings, err := t.AlterWithWarnings(ctx, changes...)
			e.warn(warnings)
			if errors.Is(err, spec.ErrInvalidSchema) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "altered %s: schema %d\n", args[0], s.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.first, "first", false, "put the column first")
	fl.BoolVar(&f.last, "last", false, "put the column last (alter-column)")
	fl.StringVar(&f.after, "after", "", "put the column after this one")
	fl.StringVar(&f.before, "before", "", "put the column before this one")
	fl.StringVar(&f.comment, "comment", "", "the column's comment")
	fl.StringVar(&f.typ, "type", "", "the column's new type (alter-column)")
	fl.BoolVar(&f.nullable, "nullable", false, "make the column nullable (alter-column)")
	fl.BoolVar(&f.notNull, "not-null", false, "make the column NOT NULL (alter-column)")
	cmd.MarkFlagsMutuallyExclusive("first", "last", "after", "before")
	cmd.MarkFlagsMutuallyExclusive("nullable", "not-null")
	return cmd
}

// changes turns an action and its arguments into schema changes.
func (f *alterFlags) changes(action string, args []string, cmd *cobra.Command) ([]spec.SchemaChange, error) {
	want := func(n int, usage string) error {
		if len(args) != n {
			return usagef("%s: want %s, got %d arguments", action, usage, len(args))
		}
		return nil
	}
	only := func(allowed ...string) error {
		var bad []string
		for _, name := range alterFlagNames {
			if cmd.Flags().Changed(name) && !slices.Contains(allowed, name) {
				bad = append(bad, "--"+name)
			}
		}
		if len(bad) > 0 {
			return usagef("%s does not take %s", action, strings.Join(bad, ", "))
		}
		return nil
	}
	switch action {
	case "add-column":
		if err := errors.Join(want(2, "NAME TYPE"), only("first", "after", "before", "comment")); err != nil {
			return nil, err
		}
		typ, err := spec.ParseType(args[1])
		if err != nil {
			return nil, usagef("add-column %s: %w", args[0], err)
		}
		comment, _ := f.commentFlag(cmd)
		return []spec.SchemaChange{spec.AddColumn{Name: args[0], Type: typ, Comment: comment, Move: f.move()}}, nil
	case "drop-column":
		if err := errors.Join(want(1, "NAME"), only()); err != nil {
			return nil, err
		}
		return []spec.SchemaChange{spec.DropColumn{Name: args[0]}}, nil
	case "rename-column":
		if err := errors.Join(want(2, "OLD NEW"), only()); err != nil {
			return nil, err
		}
		return []spec.SchemaChange{spec.RenameColumn{Name: args[0], NewName: args[1]}}, nil
	case "alter-column":
		if err := errors.Join(want(1, "NAME"), only("type", "nullable", "not-null", "comment", "first", "last", "after", "before")); err != nil {
			return nil, err
		}
		return f.alterColumn(args[0], cmd)
	case "set-option":
		if err := only(); err != nil {
			return nil, err
		}
		return setOptions(args)
	case "remove-option":
		if err := only(); err != nil {
			return nil, err
		}
		if len(args) == 0 {
			return nil, usagef("remove-option: want at least one KEY")
		}
		var out []spec.SchemaChange
		for _, k := range args {
			out = append(out, spec.RemoveOption{Key: k})
		}
		return out, nil
	}
	return nil, usagef("unknown action %q: want add-column, drop-column, rename-column, alter-column, set-option or remove-option", action)
}

func setOptions(args []string) ([]spec.SchemaChange, error) {
	if len(args) == 0 {
		return nil, usagef("set-option: want at least one KEY=VALUE")
	}
	var out []spec.SchemaChange
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("set-option %q: want KEY=VALUE", a)
		}
		out = append(out, spec.SetOption{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return out, nil
}

// alterColumn builds alter-column's changes: type, nullability, comment,
// position, in that order.
func (f *alterFlags) alterColumn(name string, cmd *cobra.Command) ([]spec.SchemaChange, error) {
	var out []spec.SchemaChange
	nullSet := f.nullable || f.notNull
	if f.typ != "" {
		typ, err := spec.ParseType(f.typ)
		if err != nil {
			return nil, usagef("--type: %w", err)
		}
		out = append(out, spec.UpdateColumnType{Name: name, Type: typ.WithNullable(f.nullable), KeepNullability: !nullSet})
	} else if nullSet {
		out = append(out, spec.UpdateColumnNullability{Name: name, Nullable: f.nullable})
	}
	if c, set := f.commentFlag(cmd); set {
		out = append(out, spec.UpdateColumnComment{Name: name, Comment: c})
	}
	if m := f.move(); m != nil {
		out = append(out, spec.UpdateColumnPosition{Name: name, Move: *m})
	}
	if len(out) == 0 {
		return nil, usagef("alter-column %s: nothing to change; give --type, --nullable, --not-null, --comment or a position", name)
	}
	return out, nil
}

// commentFlag is --comment and whether it was given; an empty one is nil
// (no comment).
func (f *alterFlags) commentFlag(cmd *cobra.Command) (*string, bool) {
	if !cmd.Flags().Changed("comment") {
		return nil, false
	}
	if f.comment == "" {
		return nil, true
	}
	c := f.comment
	return &c, true
}

// move is the position flags as a Move, nil when none is given.
func (f *alterFlags) move() *spec.Move {
	switch {
	case f.first:
		return &spec.Move{Kind: spec.MoveFirst}
	case f.last:
		return &spec.Move{Kind: spec.MoveLast}
	case f.after != "":
		return &spec.Move{Kind: spec.MoveAfter, Ref: f.after}
	case f.before != "":
		return &spec.Move{Kind: spec.MoveBefore, Ref: f.before}
	}
	return nil
}
