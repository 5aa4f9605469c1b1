package spec

import (
	"slices"
	"strconv"
	"strings"
)

// keyListOptions are stored as the schema's partition and primary-key
// lists, never as options.
var keyListOptions = []string{OptPrimaryKey, OptPartition}

func (c SetOption) apply(e *schemaEditor) error {
	if strings.TrimSpace(c.Key) == "" {
		return &OptionError{Key: c.Key, Value: c.Value, Reason: "want a non-empty option key", InSchema: true}
	}
	old, had := e.oldOpts[c.Key]
	if had && old == c.Value {
		return nil
	}
	if err := checkOptionChangeable(c.Key, c.Value); err != nil {
		return err
	}
	if e.hasSnapshots {
		var oldPtr *string
		if had {
			oldPtr = &old
		}
		if err := e.checkAlterOption(c.Key, oldPtr, c.Value); err != nil {
			return err
		}
	}
	e.putOption(c.Key, c.Value)
	return nil
}

func (c RemoveOption) apply(e *schemaEditor) error {
	old, had := e.oldOpts[c.Key]
	if err := checkOptionChangeable(c.Key, ""); err != nil {
		return err
	}
	if e.hasSnapshots && had {
		if c.Key == OptBucket {
			return &OptionError{Key: c.Key, Value: old, InSchema: true,
				Reason: "cannot be removed once the table has snapshots: its files are laid out for this bucket count"}
		}
		// Removing an option sets it to its default; the same rules apply.
		if err := e.checkAlterOption(c.Key, &old, optionDefault(c.Key)); err != nil {
			return err
		}
	}
	e.deleteOption(c.Key)
	return nil
}

// optionDefault is the default value of the options whose changes
// checkAlterOption restricts.
func optionDefault(key string) string {
	switch key {
	case OptDeletionVectorsEnabled, OptIgnoreDelete, OptIgnoreUpdateBefore:
		return "false"
	}
	return ""
}

// checkOptionChangeable refuses options no alter may touch.
func checkOptionChangeable(key, value string) error {
	switch {
	case key == optTableType:
		return &OptionError{Key: key, Value: value, InSchema: true, Reason: "the table type cannot change"}
	case key == OptPath:
		return &OptionError{Key: key, Value: value, InSchema: true, Reason: "the table path cannot change"}
	case slices.Contains(keyListOptions, key):
		return &OptionError{Key: key, Value: value, InSchema: true,
			Reason: "the partition and primary key are fixed when the table is created"}
	}
	return nil
}

// checkAlterOption is Paimon's checkAlterTableOption for a table with
// snapshots, plus Strata's refusal of any bucket-count change (Strata has
// no rescale, so the files of existing partitions would be unreachable).
// old is nil when the option was not set.
func (e *schemaEditor) checkAlterOption(key string, old *string, value string) error {
	refuse := func(reason string) error {
		return &OptionError{Key: key, Value: value, Reason: reason, InSchema: true}
	}
	if slices.Contains(immutableOptions, key) {
		return refuse("cannot change once the table has snapshots (Paimon treats it as immutable)")
	}
	oldBool := func() bool { return old != nil && strings.EqualFold(*old, "true") }
	newBool := strings.EqualFold(value, "true")
	switch key {
	case OptBucket:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return refuse("want an integer")
		}
		if n == BucketDynamic || old == nil || *old == strconv.Itoa(BucketDynamic) {
			return refuse("cannot change to or from -1 (dynamic buckets) once the table has snapshots")
		}
		return refuse("cannot change once the table has snapshots: the files of existing partitions are laid out " +
			"for the old bucket count, and Strata cannot rescale them")
	case OptDeletionVectorsEnabled:
		if !e.oldBool(OptDeletionVectorsModifiable, false) && oldBool() != newBool {
			return refuse("cannot change once the table has snapshots unless " + OptDeletionVectorsModifiable +
				" is true: without a full compaction rows could appear twice")
		}
	case OptIgnoreDelete, OptIgnoreUpdateBefore:
		if oldBool() && !newBool {
			return refuse("cannot change from true to false once the table has snapshots: " +
				"retractions dropped so far would be missing")
		}
	}
	return nil
}
