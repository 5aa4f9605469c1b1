package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// snapshotInfo is one line of `strata snapshots`.
type snapshotInfo struct {
	ID               int64  `json:"id"`
	SchemaID         int64  `json:"schemaId"`
	CommitKind       string `json:"commitKind"`
	CommitUser       string `json:"commitUser"`
	CommitIdentifier int64  `json:"commitIdentifier"`
	TimeMillis       int64  `json:"timeMillis"`
	TotalRecordCount int64  `json:"totalRecordCount"`
	DeltaRecordCount int64  `json:"deltaRecordCount"`
	ChangelogRecords *int64 `json:"changelogRecordCount,omitempty"`
	Watermark        *int64 `json:"watermark,omitempty"`
}

func newSnapshotsCmd(e *env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "snapshots DB.TABLE [--format table|jsonl]",
		Short: "List a table's snapshots, oldest first",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "table" && format != "jsonl" {
				return usagef("--format %q: want table or jsonl", format)
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			ids, err := t.Snapshots().IDs(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			if format == "table" {
				fmt.Fprintln(tw, "ID\tKIND\tTIME\tTOTAL ROWS\tDELTA ROWS\tSCHEMA\tCOMMIT USER")
			}
			enc := json.NewEncoder(e.stdout)
			for _, id := range ids {
				s, err := t.Snapshots().Get(ctx, id)
				if err != nil {
					return err
				}
				info := snapshotInfo{ID: s.ID, SchemaID: s.SchemaID, CommitKind: string(s.CommitKind),
					CommitUser: s.CommitUser, CommitIdentifier: s.CommitIdentifier, TimeMillis: s.TimeMillis,
					TotalRecordCount: s.TotalRecordCount, DeltaRecordCount: s.DeltaRecordCount,
					ChangelogRecords: s.ChangelogRecordCount, Watermark: s.Watermark}
				if format == "jsonl" {
					if err := enc.Encode(info); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%s\n", s.ID, s.CommitKind,
					time.UnixMilli(s.TimeMillis).UTC().Format(time.RFC3339), s.TotalRecordCount,
					s.DeltaRecordCount, s.SchemaID, s.CommitUser)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or jsonl")
	return cmd
}
