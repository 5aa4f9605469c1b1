package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/table"
)

// travelFlags are the flags that choose the snapshot a read uses:
// --snapshot N, --tag NAME or --as-of TIME, at most one.
type travelFlags struct {
	snapshot int64
	tag      string
	asOf     string
}

const travelHelp = `Which snapshot is read: the latest, or --snapshot N (ids start at 1; "strata
snapshots" lists them), --tag NAME (the snapshot a tag holds, also after the
snapshot itself expired; "strata tag list" lists them) or --as-of TIME (the
snapshot that was the latest then: the newest committed at or before TIME, an
RFC 3339 time such as 2024-01-31T12:00:00Z or 2024-01-31T13:00:00+01:00, or
epoch milliseconds; a TIME before the earliest snapshot is an error). The
three are mutually exclusive.`

func (f *travelFlags) register(cmd *cobra.Command) {
	cmd.Flags().Int64Var(&f.snapshot, "snapshot", 0, "snapshot id to read; ids start at 1 (default: the latest)")
	cmd.Flags().StringVar(&f.tag, "tag", "", "read the snapshot this tag holds")
	cmd.Flags().StringVar(&f.asOf, "as-of", "", "read the snapshot that was the latest at this time (RFC 3339 or epoch milliseconds)")
}

// chosen checks the flags and returns which one is set ("" for none).
func (f *travelFlags) chosen(cmd *cobra.Command) (string, error) {
	var set []string
	for _, name := range []string{"snapshot", "tag", "as-of"} {
		if cmd.Flags().Changed(name) {
			set = append(set, "--"+name)
		}
	}
	switch {
	case len(set) > 1:
		return "", usagef("%s: give at most one of --snapshot, --tag and --as-of", strings.Join(set, " and "))
	case len(set) == 0:
		return "", nil
	case set[0] == "--snapshot" && f.snapshot < 1:
		return "", usagef("--snapshot %d: snapshot ids start at 1 (leave --snapshot out to read the latest)", f.snapshot)
	case set[0] == "--tag" && strings.TrimSpace(f.tag) == "":
		return "", usagef("--tag: the tag name is empty")
	}
	return set[0], nil
}

// scanOptions returns the scan option the flags choose.
func (f *travelFlags) scanOptions(cmd *cobra.Command) ([]table.ScanOption, error) {
	which, err := f.chosen(cmd)
	switch {
	case err != nil || which == "":
		return nil, err
	case which == "--snapshot":
		return []table.ScanOption{table.WithSnapshot(f.snapshot)}, nil
	case which == "--tag":
		return []table.ScanOption{table.WithTag(f.tag)}, nil
	}
	at, err := parseAsOf(f.asOf)
	if err != nil {
		return nil, err
	}
	return []table.ScanOption{table.WithTimestamp(at)}, nil
}

// lookupOptions returns the lookup option the flags choose.
func (f *travelFlags) lookupOptions(cmd *cobra.Command) ([]table.LookupOption, error) {
	which, err := f.chosen(cmd)
	switch {
	case err != nil || which == "":
		return nil, err
	case which == "--snapshot":
		return []table.LookupOption{table.WithLookupSnapshot(f.snapshot)}, nil
	case which == "--tag":
		return []table.LookupOption{table.WithLookupTag(f.tag)}, nil
	}
	at, err := parseAsOf(f.asOf)
	if err != nil {
		return nil, err
	}
	return []table.LookupOption{table.WithLookupTimestamp(at)}, nil
}

// parseAsOf reads --as-of: RFC 3339 with a zone, or epoch milliseconds.
func parseAsOf(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--as-of %q: want an RFC 3339 time with a zone (2024-01-31T12:00:00Z, 2024-01-31T13:00:00+01:00) or epoch milliseconds", s)
}
