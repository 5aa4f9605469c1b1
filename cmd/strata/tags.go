package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

func newTagCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tag create|list|delete",
		Short: "Create, list and delete tags: named snapshots kept from expiry",
		Long: `A tag names a snapshot and keeps it readable: the tag file
(<table>/tag/tag-NAME, Paimon's format, so Java Paimon, Flink and Spark see
it too) holds a copy of the snapshot, and snapshot expiration keeps the files
a tagged snapshot needs. Read a tag with "strata scan DB.TABLE --tag NAME" or
"strata lookup ... --tag NAME"; go back to it with "strata rollback DB.TABLE
--tag NAME".`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("tag: unknown subcommand %q (want create, list or delete)", args[0])
			}
			return usagef("tag: name a subcommand: create, list or delete")
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	cmd.AddCommand(newTagCreateCmd(e), newTagListCmd(e), newTagDeleteCmd(e))
	return cmd
}

func newTagCreateCmd(e *env) *cobra.Command {
	var snapshot int64
	var retain string
	cmd := &cobra.Command{
		Use:   "create DB.TABLE NAME [--snapshot N] [--retain 7d]",
		Short: "Tag the latest snapshot (or --snapshot N)",
		Long: `Tag the latest snapshot, or --snapshot N, as NAME. A name that is taken is
refused (delete the tag first to move it); so is a blank name, one with a
slash, a backslash, control characters or leading or trailing spaces, and one
of digits only (Paimon reads those as snapshot ids).

--retain keeps the tag for that long after now, after which Paimon's tag
expiry (and Strata's, once it has one) may delete it: a number and a unit, d,
h, min, s, ms (7d, 12h, "30 min"). Without it the table's
tag.default-time-retained applies, and without that the tag is kept until
"strata tag delete".`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var opts []table.TagOption
			if cmd.Flags().Changed("snapshot") {
				if snapshot < 1 {
					return usagef("--snapshot %d: snapshot ids start at 1 (leave --snapshot out to tag the latest)", snapshot)
				}
				opts = append(opts, table.TagFromSnapshot(snapshot))
			}
			if cmd.Flags().Changed("retain") {
				d, err := spec.ParseDuration(retain)
				if err != nil || d <= 0 {
					return usagef("--retain %q: want a positive duration such as 7d, 12h or \"30 min\"", retain)
				}
				opts = append(opts, table.TagRetention(d))
			}
			if err := table.ValidateTagName(args[1]); err != nil {
				return usageError{err}
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			tg, err := t.CreateTag(ctx, args[1], opts...)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "tag %s: snapshot %d (committed %s)%s\n", tg.Name, tg.Snapshot.ID,
				formatMillis(tg.Snapshot.TimeMillis), describeRetention(tg))
			return nil
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "snapshot id to tag (default: the latest)")
	cmd.Flags().StringVar(&retain, "retain", "", "keep the tag this long, e.g. 7d, 12h, \"30 min\" (default: the table's tag.default-time-retained, else until deleted)")
	return cmd
}

// describeRetention says how long a new tag is kept.
func describeRetention(tg *table.TagInfo) string {
	if tg.TimeRetained == nil {
		return ", kept until deleted"
	}
	s := ", retained " + formatRetention(*tg.TimeRetained)
	if tg.CreateTime != nil {
		s += " (until " + tg.CreateTime.Add(*tg.TimeRetained).UTC().Format(time.RFC3339) + ")"
	}
	return s
}

// formatRetention prints a duration in the largest unit that divides it,
// in a form --retain and Paimon's options read back.
func formatRetention(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d != 0 && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// formatMillis prints epoch milliseconds as RFC 3339 in UTC.
func formatMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// tagLine is one line of "strata tag list --format jsonl".
type tagLine struct {
	Name         string  `json:"name"`
	Snapshot     int64   `json:"snapshotId"`
	SchemaID     int64   `json:"schemaId"`
	CommitTime   int64   `json:"commitTimeMillis"`
	TotalRecords int64   `json:"totalRecordCount"`
	CreateTime   *string `json:"createTime,omitempty"`
	TimeRetained *string `json:"timeRetained,omitempty"`
}

func newTagListCmd(e *env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list DB.TABLE [--format table|jsonl]",
		Short: "List a table's tags by snapshot id",
		Long: `List the table's tags, ordered by snapshot id, then name: the name, the
snapshot id, when that snapshot was committed, its row count and, for tags
created with a retention, when the tag was created and how long it is kept.
Times are printed in UTC.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "table" && format != "jsonl" {
				return usagef("--format %q: want table or jsonl", format)
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			tags, err := t.Tags(ctx)
			if err != nil {
				return err
			}
			if format == "jsonl" {
				enc := json.NewEncoder(e.stdout)
				for _, tg := range tags {
					if err := enc.Encode(newTagLine(tg)); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSNAPSHOT\tCOMMIT TIME\tROWS\tCREATED\tRETAINED")
			for _, tg := range tags {
				l := newTagLine(tg)
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\n", l.Name, l.Snapshot, formatMillis(l.CommitTime),
					l.TotalRecords, orDash(l.CreateTime), orDash(l.TimeRetained))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or jsonl")
	return cmd
}

func newTagLine(tg table.TagInfo) tagLine {
	l := tagLine{Name: tg.Name, Snapshot: tg.Snapshot.ID, SchemaID: tg.Snapshot.SchemaID,
		CommitTime: tg.Snapshot.TimeMillis, TotalRecords: tg.Snapshot.TotalRecordCount}
	if tg.CreateTime != nil {
		s := tg.CreateTime.UTC().Format(time.RFC3339)
		l.CreateTime = &s
	}
	if tg.TimeRetained != nil {
		s := formatRetention(*tg.TimeRetained)
		l.TimeRetained = &s
	}
	return l
}

func orDash(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func newTagDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete DB.TABLE NAME",
		Short: "Delete a tag",
		Long: `Delete the tag's file. Nothing else is deleted: when the tag's snapshot has
expired, the data and manifest files only the tag kept alive stay on storage
until an orphan-file cleaner removes them (Paimon deletes them at once).`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			tg, err := t.Tag(ctx, args[1])
			if errors.Is(err, table.ErrInvalidTag) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if err := t.DeleteTag(ctx, args[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "deleted tag %s (snapshot %d)\n", tg.Name, tg.Snapshot.ID)
			return nil
		},
	}
}

// joinIDs prints ids compactly: runs of consecutive ids as a..b.
func joinIDs(ids []int64) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d..%d", ids[i], ids[j]))
		} else {
			parts = append(parts, strconv.FormatInt(ids[i], 10))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
