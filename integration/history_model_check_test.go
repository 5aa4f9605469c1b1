package integration

import (
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestHistoryModel checks the checker: small histories that keep or break
// each promise, against histModel.
func TestHistoryModel(t *testing.T) {
	c1 := []histChange{{id: 1, v: "a", n: 1}, {id: 2, v: "b", n: 1}}
	c2 := []histChange{{id: 1, v: "c", n: 1}}
	after1 := map[int64]histRow{1: {"a", 1}, 2: {"b", 1}}
	after2 := map[int64]histRow{1: {"c", 2}, 2: {"b", 1}}
	commit := func(n int, rows []histChange, snap int64, call, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: histInput{kind: opCommit, ck: ckpt{0, n}, rows: rows}, Output: histOutput{snapshot: snap}, Call: call, Return: ret}
	}
	scan := func(snap int64, rows map[int64]histRow, call, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: histInput{kind: opScan}, Output: histOutput{snapshot: snap, rows: rows}, Call: call, Return: ret}
	}
	lookup := func(snap int64, rows map[int64]histRow, call, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: histInput{kind: opLookup, client: clientLookup, keys: []int64{1, 2}}, Output: histOutput{snapshot: snap, rows: rows}, Call: call, Return: ret}
	}
	stream := func(snap int64, ch []histChange, call, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: histInput{kind: opStream, client: clientStream0}, Output: histOutput{snapshot: snap, changes: ch}, Call: call, Return: ret}
	}
	both := []porcupine.Operation{commit(1, c1, 1, 0, 10), commit(2, c2, 3, 20, 30)} // snapshot 2: a compaction
	cases := []struct {
		name string
		ops  []porcupine.Operation
		ok   bool
	}{
		{"all kept", append(both[:2:2], scan(3, after2, 31, 40), lookup(1, after1, 11, 12), lookup(2, after1, 13, 40),
			stream(1, c1, 0, 15), stream(3, c2, 15, 45)), true},
		{"a scan concurrent with a commit sees either side", append(both[:2:2], scan(2, after1, 25, 26), scan(3, after2, 25, 26)), true},
		{"a lagging lookup", append(both[:2:2], lookup(1, after1, 31, 40)), true},
		{"a scan misses a finished commit", append(both[:2:2], scan(1, after1, 31, 40)), false},
		{"a scan mixes snapshots", append(both[:2:2], scan(3, map[int64]histRow{1: {"c", 2}}, 31, 40)), false},
		{"a scan of a snapshot with another's rows", append(both[:2:2], scan(3, after1, 31, 40)), false},
		{"a lookup goes back", append(both[:2:2], lookup(3, after2, 31, 32), lookup(1, after1, 33, 34)), false},
		{"a lookup's rows are not its snapshot's", append(both[:2:2], lookup(3, after1, 31, 32)), false},
		{"a checkpoint committed twice", append(both[:2:2], porcupine.Operation{Input: histInput{kind: opCommit, ck: ckpt{0, 1}, rows: c1},
			Output: histOutput{snapshot: 4}, Call: 41, Return: 42}), false},
		{"a commit older than a read", append(both[:1:1], scan(5, after1, 11, 12), commit(2, c2, 3, 20, 30)), false},
		{"a stream skips a commit", append(both[:2:2], stream(3, c2, 0, 45)), false},
		{"a stream repeats a commit", append(both[:2:2], stream(1, c1, 0, 15), stream(1, c1, 15, 45)), false},
		{"a stream changes too much", append(both[:2:2], stream(1, append(c1, c2...), 0, 15)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := porcupine.CheckOperationsTimeout(histModel(false), c.ops, 0)
			if (res == porcupine.Ok) != c.ok {
				t.Errorf("check %v, want ok=%v", res, c.ok)
			}
		})
	}
	// The broken model (every commit applied twice) refuses the history
	// the right one accepts.
	if res := porcupine.CheckOperationsTimeout(histModel(true), cases[0].ops, 0); res != porcupine.Illegal {
		t.Errorf("the broken model accepted a correct history: %v", res)
	}
}
