package table

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/stratalake/strata/spec"
)

// commitMessagesVersion versions the serialized form of commit messages:
// version 2 added each message's BaseSnapshot.
const commitMessagesVersion = 2

type serializedMessages struct {
	Version    int             `json:"version"`
	Identifier int64           `json:"identifier"`
	Messages   []CommitMessage `json:"messages"`
}

// EncodeCommitMessages serializes a checkpoint's commit messages, so that
// writer processes can hand them to a separate committer process.
func EncodeCommitMessages(identifier int64, msgs []CommitMessage) ([]byte, error) {
	return json.Marshal(serializedMessages{Version: commitMessagesVersion, Identifier: identifier, Messages: msgs})
}

// DecodeCommitMessages reads what EncodeCommitMessages wrote. Errors wrap
// spec.ErrCorrupt.
func DecodeCommitMessages(data []byte) (int64, []CommitMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s serializedMessages
	if err := dec.Decode(&s); err != nil {
		return 0, nil, fmt.Errorf("%w: commit messages: %v", spec.ErrCorrupt, err)
	}
	switch s.Version {
	case commitMessagesVersion:
	case 1:
		// Written before writers recorded their base: not checkable.
		for i := range s.Messages {
			s.Messages[i].BaseSnapshot = unknownBase
		}
	default:
		return 0, nil, fmt.Errorf("%w: commit messages version %d (want %d)", spec.ErrCorrupt, s.Version, commitMessagesVersion)
	}
	for i, m := range s.Messages {
		if m.BaseSnapshot < unknownBase {
			return 0, nil, fmt.Errorf("%w: commit message %d: base snapshot %d", spec.ErrCorrupt, i, m.BaseSnapshot)
		}
		if m.Bucket < 0 || len(m.Partition) < 4 {
			return 0, nil, fmt.Errorf("%w: commit message %d: bucket %d, partition of %d bytes", spec.ErrCorrupt, i, m.Bucket, len(m.Partition))
		}
		for _, files := range [][]spec.DataFileMeta{m.NewFiles, m.CompactBefore, m.CompactAfter, m.NewChangelog, m.CompactChangelog} {
			for _, f := range files {
				if f.FileName == "" || f.RowCount < 0 || f.Level < 0 {
					return 0, nil, fmt.Errorf("%w: commit message %d: bad file %q", spec.ErrCorrupt, i, f.FileName)
				}
			}
		}
	}
	return s.Identifier, s.Messages, nil
}

// PrepareCommitBytes is the writer half of a two-phase commit: it prepares
// checkpoint's commit messages and serializes them for a committer in
// another process, which passes them to DecodeCommitMessages and Commit.
func (w *Write) PrepareCommitBytes(ctx context.Context, checkpoint int64) ([]byte, error) {
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		return nil, err
	}
	return EncodeCommitMessages(checkpoint, msgs)
}

// CommitBytes is the committer half: it decodes serialized messages (from
// any number of writers) and commits them under their checkpoint, exactly
// once per commit user.
func (c *Commit) CommitBytes(ctx context.Context, data ...[]byte) (int64, error) {
	var all []CommitMessage
	var checkpoint int64
	for i, d := range data {
		id, msgs, err := DecodeCommitMessages(d)
		if err != nil {
			return 0, err
		}
		if i > 0 && id != checkpoint {
			return 0, fmt.Errorf("%w: messages of checkpoints %d and %d in one commit", spec.ErrConflict, checkpoint, id)
		}
		checkpoint = id
		all = append(all, msgs...)
	}
	return c.Commit(ctx, checkpoint, all)
}
