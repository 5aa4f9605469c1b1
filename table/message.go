package table

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/stratalake/strata/spec"
)

// commitMessagesVersion versions the serialized form of commit messages.
const commitMessagesVersion = 1

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
	if s.Version != commitMessagesVersion {
		return 0, nil, fmt.Errorf("%w: commit messages version %d (want %d)", spec.ErrCorrupt, s.Version, commitMessagesVersion)
	}
	for i, m := range s.Messages {
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
