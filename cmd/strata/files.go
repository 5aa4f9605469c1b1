package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// fileInfo is one line of "strata files --format jsonl".
type fileInfo struct {
	Partition string `json:"partition"`
	Bucket    int32  `json:"bucket"`
	Level     int32  `json:"level"`
	File      string `json:"file"`
	Rows      int64  `json:"rowCount"`
	Size      int64  `json:"fileSize"`
	MinKey    string `json:"minKey"`
	MaxKey    string `json:"maxKey"`
	MinSeq    int64  `json:"minSequenceNumber"`
	MaxSeq    int64  `json:"maxSequenceNumber"`
}

func newFilesCmd(e *env) *cobra.Command {
	var format string
	var travel travelFlags
	cmd := &cobra.Command{
		Use:   "files DB.TABLE [--snapshot N | --tag T | --as-of TIME] [--format table|jsonl]",
		Short: "List the live data files of a snapshot",
		Long: `List every live data file of the latest snapshot (or the one --snapshot,
--tag or --as-of names), all levels: its partition directory, bucket, LSM
level, name, row count, size in bytes, primary-key range and sequence-number
range, by partition, bucket and level. Level 0 holds unmerged flushes; a
bucket whose files are all at the highest level is fully compacted.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, opts, err := e.tableAt(cmd, args[0], format, &travel)
			if err != nil {
				return err
			}
			snap, entries, err := t.LiveFiles(ctx, opts...)
			if err != nil {
				return err
			}
			if snap == nil {
				fmt.Fprintln(e.stderr, "the table has no snapshot yet")
				return nil
			}
			infos := make([]fileInfo, 0, len(entries))
			keyTypes := t.KeyTypes()
			for _, en := range entries {
				info, err := describeFile(t, keyTypes, en)
				if err != nil {
					return err
				}
				infos = append(infos, info)
			}
			sortFiles(infos)
			return printFiles(e, format, infos)
		},
	}
	travel.register(cmd)
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or jsonl")
	return cmd
}

// tableAt opens a table for a command that lists one snapshot's files in
// format (table or jsonl), with that snapshot's travel flags as scan
// options.
func (e *env) tableAt(cmd *cobra.Command, name, format string, travel *travelFlags) (*table.Table, []table.ScanOption, error) {
	if format != "table" && format != "jsonl" {
		return nil, nil, usagef("--format %q: want table or jsonl", format)
	}
	opts, err := travel.scanOptions(cmd)
	if err != nil {
		return nil, nil, err
	}
	t, err := e.table(cmd.Context(), name)
	return t, opts, err
}

// describeFile renders one live file.
func describeFile(t *table.Table, keyTypes []spec.DataType, en spec.ManifestEntry) (fileInfo, error) {
	part, err := t.PartitionPath(en.Partition)
	if err != nil {
		return fileInfo{}, err
	}
	f := en.File
	info := fileInfo{Partition: part, Bucket: en.Bucket, Level: f.Level, File: f.FileName, Rows: f.RowCount,
		Size: f.FileSize, MinSeq: f.MinSequenceNumber, MaxSeq: f.MaxSequenceNumber}
	if info.MinKey, err = keyText(keyTypes, f.MinKey); err == nil {
		info.MaxKey, err = keyText(keyTypes, f.MaxKey)
	}
	return info, err
}

// keyText renders a serialized key BinaryRow as its values.
func keyText(keyTypes []spec.DataType, serialized []byte) (string, error) {
	if len(serialized) == 0 {
		return "", nil
	}
	_, row, err := spec.DeserializeBinaryRow(serialized)
	if err != nil {
		return "", err
	}
	vals, _, err := spec.DecodeBinaryRow(keyTypes, row)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(vals), nil
}

func sortFiles(infos []fileInfo) {
	slices.SortFunc(infos, func(a, b fileInfo) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Bucket, b.Bucket),
			cmp.Compare(a.Level, b.Level), cmp.Compare(a.File, b.File))
	})
}

func printFiles(e *env, format string, infos []fileInfo) error {
	if format == "jsonl" {
		enc := json.NewEncoder(e.stdout)
		for _, info := range infos {
			if err := enc.Encode(info); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tBUCKET\tLEVEL\tROWS\tSIZE\tMIN KEY\tMAX KEY\tFILE")
	for _, f := range infos {
		part := f.Partition
		if part == "" {
			part = "-" // unpartitioned
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", part, f.Bucket, f.Level, f.Rows, f.Size, f.MinKey, f.MaxKey, f.File)
	}
	return tw.Flush()
}
