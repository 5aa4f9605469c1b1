package table

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/stratalake/strata/spec"
)

// TagInfo is one tag of the table: a name for a snapshot, kept with its
// files until the tag is deleted.
type TagInfo struct {
	Name         string
	Snapshot     *spec.Snapshot
	CreateTime   *time.Time
	TimeRetained *time.Duration
}

// Tags lists the table's tags (tag/tag-<name>), by snapshot id then name.
func (t *Table) Tags(ctx context.Context) ([]TagInfo, error) {
	infos, err := t.fs.List(ctx, path.Join(t.path, "tag"), false)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	var tags []TagInfo
	for _, fi := range infos {
		name, ok := strings.CutPrefix(path.Base(fi.Path), "tag-")
		if fi.IsDir || !ok {
			continue
		}
		data, err := t.fs.Get(ctx, fi.Path)
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", name, err)
		}
		snap, err := spec.DecodeSnapshot(data)
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", name, err)
		}
		tags = append(tags, TagInfo{Name: name, Snapshot: snap})
	}
	sort.Slice(tags, func(i, j int) bool {
		if a, b := tags[i].Snapshot.ID, tags[j].Snapshot.ID; a != b {
			return a < b
		}
		return tags[i].Name < tags[j].Name
	})
	return tags, nil
}
