package paimonjava

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// ReadTag returns the rows of the snapshot tag holds (Paimon's
// scan.tag-name), as Read does.
func (d *Driver) ReadTag(ctx context.Context, warehouse, table, tag string) ([]string, error) {
	out, err := d.Run(ctx, "", "read", warehouse, table, "--tag", tag)
	return lines(out), err
}

// Tag is one tag as Java's TagManager reads its file.
type Tag struct {
	Name       string `json:"name"`
	Snapshot   int64  `json:"snapshot"`
	TimeMillis int64  `json:"timeMillis"`
	// CreateTime is LocalDateTime.toString of tagCreateTime; "" when the
	// file has none.
	CreateTime     string `json:"createTime"`
	RetainedMillis *int64 `json:"retainedMillis"`
}

// Tags lists the table's tags as Java reads them, sorted by name.
func (d *Driver) Tags(ctx context.Context, warehouse, table string) ([]Tag, error) {
	out, err := d.Run(ctx, "", "tags", warehouse, table)
	if err != nil {
		return nil, err
	}
	var tags []Tag
	for _, l := range lines(out) {
		var tg Tag
		if err := json.Unmarshal([]byte(l), &tg); err != nil {
			return nil, fmt.Errorf("paimonjava: tags printed %q: %w", l, err)
		}
		tags = append(tags, tg)
	}
	return tags, nil
}

// CreateTag creates a tag with Java's Table.createTag: of snapshot (0: the
// latest), kept for retain (0: no retention, the plain snapshot JSON).
func (d *Driver) CreateTag(ctx context.Context, warehouse, table, name string, snapshot int64, retain time.Duration) error {
	args := []string{"tag-create", warehouse, table, name}
	if snapshot > 0 {
		args = append(args, "--snapshot", strconv.FormatInt(snapshot, 10))
	}
	if retain > 0 {
		args = append(args, "--retain-ms", strconv.FormatInt(retain.Milliseconds(), 10))
	}
	_, err := d.Run(ctx, "", args...)
	return err
}
