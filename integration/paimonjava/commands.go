package paimonjava

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Create creates warehouse's table db.name from the JSON of a Paimon
// schema file (spec.EncodeSchema's output).
func (d *Driver) Create(ctx context.Context, warehouse, table string, schemaJSON []byte) error {
	_, err := d.Run(ctx, string(schemaJSON), "create", warehouse, table)
	return err
}

// Alter applies schema changes, a JSON array in the driver's form (see
// integration/java/README.md).
func (d *Driver) Alter(ctx context.Context, warehouse, table, changes string) error {
	_, err := d.Run(ctx, changes, "alter", warehouse, table)
	return err
}

// Read returns the table's rows at snapshot (0: the latest) as JSON Lines
// in Strata's value format, sorted.
func (d *Driver) Read(ctx context.Context, warehouse, table string, snapshot int64) ([]string, error) {
	args := []string{"read", warehouse, table}
	if snapshot > 0 {
		args = append(args, "--snapshot", strconv.FormatInt(snapshot, 10))
	}
	out, err := d.Run(ctx, "", args...)
	return lines(out), err
}

// Commit is what a write or compaction committed.
type Commit struct {
	Committed int    `json:"committed"` // commit identifiers committed (0: already there)
	Snapshot  *int64 `json:"snapshot"`  // the latest snapshot afterwards
}

// Write writes JSON Lines rows (with an optional _kind) and commits them.
// With a user, as a streaming job: user and commitID name the commit, and
// a commitID the user already committed is skipped. Without one, as a
// batch job.
func (d *Driver) Write(ctx context.Context, warehouse, table, user string, commitID int64, rows string) (Commit, error) {
	return d.commit(ctx, rows, withUser([]string{"write", warehouse, table}, user, commitID))
}

// Compact compacts every bucket of the latest snapshot (fully with full)
// and commits, as Write does.
func (d *Driver) Compact(ctx context.Context, warehouse, table string, full bool, user string, commitID int64) (Commit, error) {
	args := []string{"compact", warehouse, table}
	if full {
		args = append(args, "--full")
	}
	return d.commit(ctx, "", withUser(args, user, commitID))
}

// Hold writes rows (compact false) or compacts every bucket (compact
// true, fully with full) as a batch job, but keeps the commit messages in
// the driver under name instead of committing them: CommitHeld commits them
// later, after other commits, so Paimon's commit checks meet a real
// concurrent commit.
func (d *Driver) Hold(ctx context.Context, warehouse, table, name string, compact, full bool, rows string) error {
	args := []string{"write", warehouse, table, "--hold", name}
	if compact {
		args[0] = "compact"
		if full {
			args = append(args, "--full")
		}
	}
	_, err := d.Run(ctx, rows, args...)
	return err
}

// CommitHeld commits the messages Hold kept under name.
func (d *Driver) CommitHeld(ctx context.Context, warehouse, table, name string) (Commit, error) {
	return d.commit(ctx, "", []string{"commit-held", warehouse, table, "--hold", name})
}

func withUser(args []string, user string, commitID int64) []string {
	if user != "" {
		args = append(args, "--user", user, "--commit-id", strconv.FormatInt(commitID, 10))
	}
	return args
}

func (d *Driver) commit(ctx context.Context, stdin string, args []string) (Commit, error) {
	out, err := d.Run(ctx, stdin, args...)
	if err != nil {
		return Commit{}, err
	}
	var c Commit
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		return Commit{}, fmt.Errorf("paimonjava: %s printed %q: %w", args[0], out, err)
	}
	return c, nil
}

// Plan is one plan of a streaming read: the snapshot it read and its rows
// as JSON Lines, each with its _kind, in the order Java returned them.
type Plan struct {
	Snapshot int64
	Rows     []string
}

// Stream reads the table's changes from snapshot from onward (Paimon's
// scan.mode from-snapshot) until no next snapshot exists.
func (d *Driver) Stream(ctx context.Context, warehouse, table string, from int64) ([]Plan, error) {
	out, err := d.Run(ctx, "", "stream", warehouse, table, "--from", strconv.FormatInt(from, 10))
	if err != nil {
		return nil, err
	}
	var plans []Plan
	for _, l := range lines(out) {
		if strings.HasPrefix(l, `{"_snapshot":`) {
			var m struct {
				Snapshot *int64 `json:"_snapshot"`
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil || m.Snapshot == nil {
				return nil, fmt.Errorf("paimonjava: stream printed a plan marker %q without a snapshot", l)
			}
			plans = append(plans, Plan{Snapshot: *m.Snapshot})
			continue
		}
		if len(plans) == 0 {
			return nil, fmt.Errorf("paimonjava: stream printed a row before any plan: %q", l)
		}
		plans[len(plans)-1].Rows = append(plans[len(plans)-1].Rows, l)
	}
	return plans, nil
}

// Lookup looks keys (JSON Lines) up through LocalTableQuery at snapshot
// (0: the latest); one line per key, the row or "null".
func (d *Driver) Lookup(ctx context.Context, warehouse, table string, snapshot int64, keys string) ([]string, error) {
	args := []string{"lookup", warehouse, table}
	if snapshot > 0 {
		args = append(args, "--snapshot", strconv.FormatInt(snapshot, 10))
	}
	out, err := d.Run(ctx, keys, args...)
	return lines(out), err
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
