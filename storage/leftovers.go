package storage

import (
	"context"
	"fmt"
	"os"
	"path"
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
	infos, err := l.walk(ctx, prefix, true)
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
