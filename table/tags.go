package table

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Tag errors; callers test them with errors.Is.
var (
	// ErrTagExists marks a CreateTag whose name is taken.
	ErrTagExists = errors.New("tag already exists")
	// ErrInvalidTag marks a tag name or retention CreateTag refuses.
	ErrInvalidTag = errors.New("invalid tag")
)

// tagPrefix starts every tag file's name, as in Java's TagManager.
const tagPrefix = "tag-"

// maxTagNameBytes keeps "tag-<name>" within the 255-byte file name limit
// of common file systems.
const maxTagNameBytes = 255 - len(tagPrefix)

// TagInfo is one tag of a table: its name, the snapshot it keeps (a copy
// held in the tag file, readable after the snapshot file expires) and, for
// a tag created with a retention, when it was created and how long it is
// kept (both nil otherwise).
type TagInfo struct {
	Name         string
	Snapshot     *spec.Snapshot
	CreateTime   *time.Time
	TimeRetained *time.Duration
}

// TagOption configures CreateTag.
type TagOption func(*tagConfig)

type tagConfig struct {
	snapshotID int64
	retention  *time.Duration
}

// TagFromSnapshot tags snapshot id instead of the latest one. A snapshot
// whose file has expired can still be tagged when another tag holds it, as
// in Paimon.
func TagFromSnapshot(id int64) TagOption { return func(c *tagConfig) { c.snapshotID = id } }

// TagRetention keeps the tag for d after its creation (Paimon's tag
// expiry may then delete it); it must be positive. Without it the table's
// tag.default-time-retained applies, and without that the tag is kept
// until deleted and its file is the plain snapshot JSON.
func TagRetention(d time.Duration) TagOption { return func(c *tagConfig) { c.retention = &d } }

// tagDir is <table>/tag.
func (t *Table) tagDir() string { return path.Join(t.path, "tag") }

func (t *Table) tagPath(name string) string { return path.Join(t.tagDir(), tagPrefix+name) }

// ValidateTagName reports why CreateTag would refuse name (ErrInvalidTag).
// Paimon only refuses a blank name; Strata also refuses names that would
// not make a portable file name (a slash, a backslash, control
// characters, leading or trailing spaces, too long) and names of digits
// only, which Paimon's scan.version and its Flink and Spark rollback
// procedures read as snapshot ids.
func ValidateTagName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w: tag name %q %s", ErrInvalidTag, name, why) }
	switch {
	case strings.TrimSpace(name) == "":
		return bad("is blank")
	case strings.TrimSpace(name) != name:
		return bad("starts or ends with white space")
	case len(name) > maxTagNameBytes:
		return bad(fmt.Sprintf("is longer than %d bytes", maxTagNameBytes))
	case strings.ContainsAny(name, `/\`):
		return bad("contains a slash or backslash")
	case strings.Trim(name, "0123456789") == "":
		return bad("is all digits, which Paimon reads as a snapshot id")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return bad("contains a control character")
		}
	}
	return nil
}

// CreateTag tags the latest snapshot (or TagFromSnapshot's) as name and
// returns the new tag. The tag file is written with put-if-absent, so of
// two creators of one name exactly one succeeds; the other, like any
// CreateTag of an existing name, gets ErrTagExists. A bad name or retention
// is ErrInvalidTag, a missing snapshot spec.ErrNotFound.
func (t *Table) CreateTag(ctx context.Context, name string, opts ...TagOption) (*TagInfo, error) {
	var c tagConfig
	for _, o := range opts {
		o(&c)
	}
	if err := ValidateTagName(name); err != nil {
		return nil, err
	}
	retention := t.opts.TagDefaultTimeRetained
	if c.retention != nil {
		if *c.retention <= 0 {
			return nil, fmt.Errorf("%w: retention %v: want a positive duration (leave it out to keep the tag until it is deleted)", ErrInvalidTag, *c.retention)
		}
		retention = c.retention
	}
	snap, err := t.tagSource(ctx, c.snapshotID)
	if err != nil {
		return nil, fmt.Errorf("create tag %q: %w", name, err)
	}
	tag := &spec.Tag{Snapshot: *snap}
	if retention != nil {
		now := time.Now()
		tag.CreateTime, tag.TimeRetained = &now, retention
	}
	faultpoint.Hit(faultpoint.TagBeforeCreate)
	if err := t.putTag(ctx, name, spec.EncodeTag(tag)); err != nil {
		return nil, err
	}
	return tagInfo(name, tag), nil
}

// tagSource finds the snapshot CreateTag tags: the latest, or id, from its
// snapshot file or else from a tag that holds it (Java's findSnapshot).
func (t *Table) tagSource(ctx context.Context, id int64) (*spec.Snapshot, error) {
	if id <= 0 {
		snap, err := t.snapshots.Latest(ctx)
		if err == nil && snap == nil {
			err = fmt.Errorf("the table has no snapshots yet: %w", spec.ErrNotFound)
		}
		return snap, err
	}
	snap, err := t.snapshots.Get(ctx, id)
	if !errors.Is(err, spec.ErrNotFound) {
		return snap, err
	}
	tags, terr := t.Tags(ctx)
	if terr != nil {
		return nil, terr
	}
	for _, tg := range tags {
		if tg.Snapshot.ID == id {
			return tg.Snapshot, nil
		}
	}
	return nil, t.snapshots.missing(ctx, id)
}

// putTag writes a tag file only if the name is free. Unlike a snapshot, a
// tag without retention has no random part, so equal bytes do not prove a
// write ours: an existing file always refuses, and only an uncertain error
// is settled by reading back.
func (t *Table) putTag(ctx context.Context, name string, data []byte) error {
	p := t.tagPath(name)
	err := t.fs.PutIfAbsent(ctx, p, data)
	if err == nil {
		return nil
	}
	got, rerr := t.fs.Get(ctx, p)
	switch {
	case rerr == nil && errors.Is(err, storage.ErrExist):
		same := ""
		if string(got) == string(data) {
			same = ", the same one (if a retry of this very write hit it, the tag is there as asked)"
		}
		return fmt.Errorf("create tag %q: %w: it tags snapshot %d%s; delete it first to move it", name, ErrTagExists, existingTagID(got), same)
	case rerr == nil && string(got) == string(data):
		return nil // the write landed; only its answer was lost
	case rerr != nil && !errors.Is(rerr, storage.ErrNotFound):
		return fmt.Errorf("create tag %q: outcome unknown (%v; read-back: %v)", name, err, rerr)
	}
	return fmt.Errorf("create tag %q: %w", name, err)
}

// existingTagID is the snapshot id of a tag file's bytes, or 0.
func existingTagID(data []byte) int64 {
	if tg, err := spec.DecodeTag(data); err == nil {
		return tg.ID
	}
	return 0
}

func tagInfo(name string, tg *spec.Tag) *TagInfo {
	snap := tg.Snapshot
	return &TagInfo{Name: name, Snapshot: &snap, CreateTime: tg.CreateTime, TimeRetained: tg.TimeRetained}
}

// Tag reads one tag; a missing one is an error wrapping spec.ErrNotFound
// that lists the tags there are.
func (t *Table) Tag(ctx context.Context, name string) (*TagInfo, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("%w: tag name is blank", ErrInvalidTag)
	}
	if strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("tag %q %w: tag names have no slashes", name, spec.ErrNotFound)
	}
	data, err := t.fs.Get(ctx, t.tagPath(name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, t.missingTag(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("tag %q: %w", name, err)
	}
	tg, err := spec.DecodeTag(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.tagPath(name), err)
	}
	return tagInfo(name, tg), nil
}

// missingTag is the error for an absent tag, naming those that exist.
func (t *Table) missingTag(ctx context.Context, name string) error {
	names, err := t.tagNames(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("tag %q %w", name, spec.ErrNotFound)
	case len(names) == 0:
		return fmt.Errorf("tag %q %w: the table has no tags", name, spec.ErrNotFound)
	case len(names) > 20:
		names = append(names[:20], fmt.Sprintf("and %d more", len(names)-20))
	}
	return fmt.Errorf("tag %q %w (tags: %s)", name, spec.ErrNotFound, strings.Join(names, ", "))
}

// tagNames lists the tag files' names without reading them, sorted.
func (t *Table) tagNames(ctx context.Context) ([]string, error) {
	infos, err := t.fs.List(ctx, t.tagDir(), false)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	var names []string
	for _, fi := range infos {
		base := path.Base(fi.Path)
		if fi.IsDir || !strings.HasPrefix(base, tagPrefix) || len(base) == len(tagPrefix) {
			continue
		}
		names = append(names, strings.TrimPrefix(base, tagPrefix))
	}
	sort.Strings(names)
	return names, nil
}

// Tags reads every tag, sorted by snapshot id, then name. A tag deleted
// while it runs is left out; a tag file that does not decode is an error,
// since a caller protecting tagged snapshots' files must not miss one.
func (t *Table) Tags(ctx context.Context) ([]TagInfo, error) {
	names, err := t.tagNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TagInfo, 0, len(names))
	for _, name := range names {
		data, err := t.fs.Get(ctx, t.tagPath(name))
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("tag %q: %w", name, err)
		}
		tg, err := spec.DecodeTag(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.tagPath(name), err)
		}
		out = append(out, *tagInfo(name, tg))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Snapshot.ID < out[j].Snapshot.ID })
	return out, nil
}

// DeleteTag removes the tag file; a missing tag is an error wrapping
// spec.ErrNotFound. Only the tag file goes: data and manifest files that
// only this tag kept alive (its snapshot having expired) stay behind for
// an orphan-file cleaner, where Paimon deletes them at once.
func (t *Table) DeleteTag(ctx context.Context, name string) error {
	if _, err := t.Tag(ctx, name); err != nil {
		return fmt.Errorf("delete tag: %w", err)
	}
	faultpoint.Hit(faultpoint.TagBeforeDelete)
	if err := t.fs.Delete(ctx, t.tagPath(name)); err != nil {
		return fmt.Errorf("delete tag %q: %w", name, err)
	}
	return nil
}
