package storage

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// LeftoverLister is a backend whose unfinished writes can leave files that
// List never shows: Local writes every object to a hidden temporary file
// first, and a process killed before its rename leaves that file behind.
// Orphan cleaning deletes such leftovers once they are old enough.
type LeftoverLister interface {
	// Leftovers lists the temporary files of unfinished writes under
	// prefix (recursively), with their sizes and modification times.
	Leftovers(ctx context.Context, prefix string) ([]FileInfo, error)
	// DeleteLeftover deletes one file Leftovers listed; a missing one is
	// not an error.
	DeleteLeftover(ctx context.Context, p string) error
}

var _ LeftoverLister = (*Local)(nil)

// Leftovers implements LeftoverLister.
func (l *Local) Leftovers(ctx context.Context, prefix string) ([]FileInfo, error) {
	prefix, err := checkPrefix(prefix)
	if err != nil {
		return nil, wrapErr("list leftovers", prefix, err)
	}
	var infos []FileInfo
	err = filepath.WalkDir(l.abs(prefix), func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return ctx.Err()
		}
		if !isTempName(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if isNotExist(err) {
				return nil // renamed into place or removed meanwhile
			}
			return err
		}
		rel, err := filepath.Rel(l.root, fp)
		if err != nil {
			return err
		}
		infos = append(infos, FileInfo{Path: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, wrapErr("list leftovers", prefix, err)
	}
	sortInfos(infos)
	return infos, nil
}

// DeleteLeftover implements LeftoverLister.
func (l *Local) DeleteLeftover(ctx context.Context, p string) error {
	dir, base := path.Split(p)
	if !isTempName(base) {
		return wrapErr("delete leftover", p, fmt.Errorf("%w: not a temporary file", ErrInvalidPath))
	}
	if dir != "" {
		if err := checkElems(dir[:len(dir)-1]); err != nil {
			return wrapErr("delete leftover", p, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return wrapErr("delete leftover", p, err)
	}
	if err := os.Remove(l.abs(p)); err != nil && !isNotExist(err) {
		return wrapErr("delete leftover", p, err)
	}
	return nil
}
