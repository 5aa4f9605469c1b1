package integration

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/anishathalye/porcupine"
)

// The sequential specification the history check (history_test.go) holds
// the table to, as a porcupine model. The table is an aggregation table
// (id BIGINT, v last_non_null_value, n sum) written in checkpoints whose
// rows each carry n = 1, so n counts the times a key was written and a
// checkpoint applied twice shows in every read of its keys.
//
// Every operation names the snapshot it read or wrote, and the model holds
// each to what the table promises for it:
//
//   - commit (writer, checkpoint) → the APPEND snapshot N: a checkpoint
//     commits at most once, however often it is retried after a failure
//     (the operation spans all its attempts), and N is newer than any
//     snapshot an operation ordered before it has seen. Its rows take
//     effect at N.
//   - scan → (S, every row): a scan of the latest snapshot sees exactly
//     the state after S (snapshot isolation, consistent across keys), and
//     S is no older than what operations ordered before it saw
//     (linearizable: it never misses a commit that finished before it
//     started).
//   - lookup (handle, keys) → (S, rows): the rows are exactly the keys'
//     state after S, and S is no older than the snapshot of the handle's
//     previous answers (monotonic reads; a lookup may lag the latest).
//   - stream (reader) → (S, changes): S is the next snapshot with changes
//     after the reader's previous one (no gap, no repeat) and its changes
//     are exactly the rows the checkpoint committed at S wrote.
//
// Snapshots the operations do not produce (the writers' COMPACT snapshots,
// a compaction job's) change no row: the state after S is the state after
// the newest commit not after S.

type histOpKind uint8

const (
	opCommit histOpKind = iota
	opScan
	opLookup
	opStream
)

func (k histOpKind) String() string {
	return [...]string{"commit", "scan", "lookup", "stream"}[k]
}

// ckpt names one checkpoint of one writer.
type ckpt struct{ writer, n int }

// histRow is a row of the table: v the last value written, n how many
// writes the key took.
type histRow struct {
	v string
	n int64
}

// histChange is one change a stream read: a written row.
type histChange struct {
	id int64
	v  string
	n  int64
}

// histClient names a lookup handle or a stream reader: what the model
// remembers a last snapshot for.
type histClient uint8

const (
	clientLookup histClient = iota // the table lookup
	clientServer                   // the lookup server
	clientStream0
	clientStream1
	histClients
)

func (c histClient) String() string {
	return [...]string{"lookup", "server", "stream 0", "stream 1"}[c]
}

type histInput struct {
	kind   histOpKind
	client histClient   // the lookup handle or stream reader
	ck     ckpt         // commit: the checkpoint
	rows   []histChange // commit: what the checkpoint writes
	keys   []int64      // lookup: the keys asked for
}

type histOutput struct {
	snapshot int64
	rows     map[int64]histRow // scan: every row; lookup: the keys found
	changes  []histChange      // stream
}

// histVersion is the table's state after one commit.
type histVersion struct {
	id   int64
	ck   ckpt
	rows []histChange
	data map[int64]histRow // never changed once made
}

// histState is the model's state; steps copy what they change. Two states
// are the same when their keys are: the commits (whose ids and
// checkpoints determine the rows) summed up by a hash chain, the latest
// snapshot and what each client saw, so that comparing is cheap; Equal
// compares the commits themselves when the keys match.
type histState struct {
	versions []histVersion // by id
	key      histKey
}

type histKey struct {
	latest int64 // the newest snapshot the operations so far have shown to exist
	seen   [histClients]int64
	n      int
	chain  uint64 // a hash over the commits' ids and checkpoints
}

func newHistState() *histState { return &histState{} }

// applyRows is data with rows written: the aggregation merge of the table.
func applyRows(data map[int64]histRow, rows []histChange) map[int64]histRow {
	out := maps.Clone(data)
	if out == nil {
		out = map[int64]histRow{}
	}
	for _, r := range rows {
		cur := out[r.id]
		cur.v = r.v
		cur.n += r.n
		out[r.id] = cur
	}
	return out
}

// at is the state after snapshot s: the newest commit not after it.
func (s *histState) at(id int64) (histVersion, bool) {
	i, found := slices.BinarySearchFunc(s.versions, id, func(v histVersion, id int64) int {
		return int(v.id - id)
	})
	if found {
		return s.versions[i], true
	}
	if i == 0 {
		return histVersion{}, false
	}
	return s.versions[i-1], false
}

func (s *histState) with(f func(*histState)) *histState {
	next := &histState{versions: slices.Clip(s.versions), key: s.key}
	f(next)
	return next
}

// commit adds v, the newest commit.
func (s *histState) commit(v histVersion) {
	s.versions = append(s.versions, v)
	h := s.key.chain
	for _, x := range [...]uint64{uint64(v.id), uint64(v.ck.writer), uint64(v.ck.n)} {
		h = (h ^ x) * 1099511628211 // FNV-1a, a word at a time
	}
	s.key.chain, s.key.n = h, len(s.versions)
}

func histEqual(a, b *histState) bool {
	if a.key != b.key {
		return false
	}
	for i := range a.versions {
		if a.versions[i].id != b.versions[i].id || a.versions[i].ck != b.versions[i].ck {
			return false
		}
	}
	return true
}

// histModel is the specification; brokenCommits makes a model that
// applies every commit twice, to show that the check can fail.
func histModel(brokenCommits bool) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return newHistState() },
		Step: func(state, input, output any) (bool, any) {
			return histStep(state.(*histState), input.(histInput), output.(histOutput), brokenCommits)
		},
		Equal: func(a, b any) bool { return histEqual(a.(*histState), b.(*histState)) },
		Hash: func(s any) uint64 {
			k := s.(*histState).key
			h := k.chain ^ uint64(k.latest)*0x9e3779b97f4a7c15
			for _, x := range k.seen {
				h = (h ^ uint64(x)) * 1099511628211
			}
			return h
		},
		DescribeOperation: describeHistOp,
		DescribeState: func(s any) string {
			st := s.(*histState)
			return fmt.Sprintf("latest %d, %d commits, seen %v", st.key.latest, len(st.versions), st.key.seen)
		},
	}
}

var histSteps atomic.Int64

func histStep(s *histState, in histInput, out histOutput, broken bool) (bool, any) {
	histSteps.Add(1)
	switch in.kind {
	case opCommit:
		if out.snapshot <= s.key.latest {
			return false, nil
		}
		for _, v := range s.versions {
			if v.ck == in.ck {
				return false, nil // committed twice
			}
		}
		var data map[int64]histRow
		if n := len(s.versions); n > 0 {
			data = s.versions[n-1].data
		}
		data = applyRows(data, in.rows)
		if broken {
			data = applyRows(data, in.rows)
		}
		return true, s.with(func(n *histState) {
			n.key.latest = out.snapshot
			n.commit(histVersion{id: out.snapshot, ck: in.ck, rows: in.rows, data: data})
		})
	case opScan:
		if out.snapshot < s.key.latest {
			return false, nil // missed a commit that finished before the scan began
		}
		v, _ := s.at(out.snapshot)
		if !maps.Equal(v.data, out.rows) {
			return false, nil
		}
		return true, s.with(func(n *histState) { n.key.latest = out.snapshot })
	case opLookup:
		if out.snapshot < s.key.seen[in.client] {
			return false, nil // an older snapshot after a newer one
		}
		v, _ := s.at(out.snapshot)
		for _, k := range in.keys {
			want, ok := v.data[k]
			got, gok := out.rows[k]
			if ok != gok || want != got {
				return false, nil
			}
		}
		return true, s.with(func(n *histState) {
			n.key.latest = max(n.key.latest, out.snapshot)
			n.key.seen[in.client] = out.snapshot
		})
	case opStream:
		prev := s.key.seen[in.client]
		if out.snapshot <= prev {
			return false, nil // a repeat
		}
		v, found := s.at(out.snapshot)
		if !found {
			return false, nil // no commit wrote these changes (yet)
		}
		if p, _ := s.at(out.snapshot - 1); p.id > prev {
			return false, nil // a gap: commit p.id was skipped
		}
		if !sameChanges(v.rows, out.changes) {
			return false, nil
		}
		return true, s.with(func(n *histState) { n.key.seen[in.client] = out.snapshot })
	}
	return false, nil
}

// sameChanges compares changes as multisets: a snapshot's changelog files
// are in key order, not write order.
func sameChanges(a, b []histChange) bool {
	if len(a) != len(b) {
		return false
	}
	cmp := func(x, y histChange) int {
		if x.id != y.id {
			return int(x.id - y.id)
		}
		return strings.Compare(x.v, y.v)
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

func describeHistOp(input, output any) string {
	in, out := input.(histInput), output.(histOutput)
	switch in.kind {
	case opCommit:
		return fmt.Sprintf("commit w%d/c%d (%d rows) -> snapshot %d", in.ck.writer, in.ck.n, len(in.rows), out.snapshot)
	case opScan:
		return fmt.Sprintf("scan -> snapshot %d, %d rows", out.snapshot, len(out.rows))
	case opLookup:
		return fmt.Sprintf("lookup %s %v -> snapshot %d %v", in.client, in.keys, out.snapshot, out.rows)
	default:
		return fmt.Sprintf("stream %s -> snapshot %d, %d changes", in.client, out.snapshot, len(out.changes))
	}
}
