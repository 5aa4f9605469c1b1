package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/spec"
)

// manifestInfo is one line of "strata manifests --format jsonl".
type manifestInfo struct {
	List         string `json:"list"`
	File         string `json:"file"`
	Size         int64  `json:"fileSize"`
	AddedFiles   int64  `json:"numAddedFiles"`
	DeletedFiles int64  `json:"numDeletedFiles"`
	SchemaID     int64  `json:"schemaId"`
}

func newManifestsCmd(e *env) *cobra.Command {
	var format string
	var travel travelFlags
	cmd := &cobra.Command{
		Use:   "manifests DB.TABLE [--snapshot N | --tag T | --as-of TIME] [--format table|jsonl]",
		Short: "List the manifest files of a snapshot",
		Long: `List the manifest files of the latest snapshot (or the one --snapshot, --tag
or --as-of names), by manifest list: base (every file live before the
snapshot), delta (what the snapshot added and deleted) and changelog (its
changelog files), each with its size, the data files it adds and deletes,
and the schema it was written with.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, opts, err := e.tableAt(cmd, args[0], format, &travel)
			if err != nil {
				return err
			}
			snap, err := t.Snapshot(ctx, opts...)
			if err != nil || snap == nil {
				if snap == nil && err == nil {
					fmt.Fprintln(e.stderr, "the table has no snapshot yet")
				}
				return err
			}
			lists, err := t.ManifestsOf(ctx, snap)
			if err != nil {
				return err
			}
			var infos []manifestInfo
			for _, kind := range []string{"base", "delta", "changelog"} {
				for _, m := range lists[kind] {
					infos = append(infos, manifestInfo{List: kind, File: m.FileName, Size: m.FileSize,
						AddedFiles: m.NumAddedFiles, DeletedFiles: m.NumDeletedFiles, SchemaID: m.SchemaID})
				}
			}
			if format == "jsonl" {
				enc := json.NewEncoder(e.stdout)
				for _, m := range infos {
					if err := enc.Encode(m); err != nil {
						return err
					}
				}
				return nil
			}
			fmt.Fprintf(e.stdout, "snapshot %d\n", snap.ID)
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LIST\tADDED\tDELETED\tSIZE\tSCHEMA\tFILE")
			for _, m := range infos {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", m.List, m.AddedFiles, m.DeletedFiles, m.Size, m.SchemaID, m.File)
			}
			return tw.Flush()
		},
	}
	travel.register(cmd)
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or jsonl")
	return cmd
}

func newTablesCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "tables [DB]",
		Short: "List the warehouse's tables (of one database, or all)",
		Long:  "List the tables of database DB, or of every database, one DB.TABLE a line, sorted.",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cat, err := e.catalog(ctx)
			if err != nil {
				return err
			}
			dbs, err := cat.ListDatabases(ctx)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				if !slices.Contains(dbs, args[0]) {
					return fmt.Errorf("database %q: %w (databases: %v)", args[0], spec.ErrNotFound, dbs)
				}
				dbs = args
			}
			for _, db := range dbs {
				names, err := cat.ListTables(ctx, db)
				if err != nil {
					return err
				}
				for _, n := range names {
					fmt.Fprintf(e.stdout, "%s.%s\n", db, n)
				}
			}
			return nil
		},
	}
}

func newDatabasesCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "databases",
		Short: "List the warehouse's databases",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cat, err := e.catalog(ctx)
			if err != nil {
				return err
			}
			dbs, err := cat.ListDatabases(ctx)
			if err != nil {
				return err
			}
			for _, db := range dbs {
				fmt.Fprintln(e.stdout, db)
			}
			return nil
		},
	}
}
