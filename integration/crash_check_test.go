package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stratalake/strata/spec"
)

// scan reads the table through strata scan; a key twice fails the test.
func (r *crashRun) scan() map[int64]string {
	r.t.Helper()
	out := r.ok("", "scan", crashTable, "--format", "jsonl", "--no-progress")
	r.checked.scans++
	got := map[int64]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var row struct {
			ID int64  `json:"id"`
			V  string `json:"v"`
		}
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			r.t.Fatalf("round %d: scan line %q: %v", r.round, l, err)
		}
		if _, dup := got[row.ID]; dup {
			r.t.Fatalf("round %d: key %d twice in the scan", r.round, row.ID)
		}
		got[row.ID] = row.V
	}
	return got
}

// diff says how got differs from want, a few keys at most.
func (r *crashRun) diff(got, want map[int64]string) string {
	var b strings.Builder
	n := 0
	for _, k := range keysOf(merged(got, want)) {
		g, gok := got[k]
		w, wok := want[k]
		if g != w || gok != wok {
			if n++; n <= 8 {
				fmt.Fprintf(&b, "  key %d: got %q (%v), want %q (%v)\n", k, g, gok, w, wok)
			}
		}
	}
	fmt.Fprintf(&b, "  %d keys differ; %d rows, want %d", n, len(got), len(want))
	return b.String()
}

func merged(a, b map[int64]string) map[int64]string {
	m := make(map[int64]string, len(a)+len(b))
	maps.Copy(m, a)
	maps.Copy(m, b)
	return m
}

// check is the end of a round: the table scans to the model, no
// checkpoint has two APPEND snapshots, the lookup server answers as the
// model says.
func (r *crashRun) check() {
	r.t.Helper()
	if st, got := r.state(), r.scan(); !maps.Equal(got, st) {
		r.t.Fatalf("round %d: the table differs from the model\n%s", r.round, r.diff(got, st))
	}
	r.checkSnapshots()
	r.checkServer()
}

// checkSnapshots fails on an identifier of a writer committed twice.
func (r *crashRun) checkSnapshots() {
	r.t.Helper()
	ctx := context.Background()
	snaps := r.table().Snapshots()
	ids, err := snaps.IDs(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	seen := map[string]int64{}
	for _, id := range ids {
		s, err := snaps.Get(ctx, id)
		if err != nil {
			continue // expired meanwhile
		}
		if s.CommitKind != spec.CommitKindAppend {
			continue
		}
		k := fmt.Sprint(s.CommitUser, " ", s.CommitIdentifier)
		if prev, dup := seen[k]; dup {
			r.t.Fatalf("round %d: %s committed twice: snapshots %d and %d", r.round, k, prev, id)
		}
		seen[k] = id
	}
}

// stateAt is the model's rows at snapshot id of the current history.
func (r *crashRun) stateAt(id int64) map[int64]string {
	var half [2]map[int64]string
	for _, h := range r.hist {
		if h.snap > id {
			break
		}
		half[h.writer] = h.half
	}
	return merged(half[0], half[1])
}

// served is one lookup answer.
type served struct {
	snap int64
	rows map[int64]string
}

// lookupAll asks the server for every key of the key space.
func (r *crashRun) lookupAll() (served, error) {
	var body bytes.Buffer
	body.WriteString(`{"keys":[`)
	for k := range crashKeys {
		if k > 0 {
			body.WriteByte(',')
		}
		fmt.Fprint(&body, k)
	}
	body.WriteString(`]}`)
	resp, err := http.Post("http://"+r.addr+"/v1/tables/"+crashTable+"/lookup", "application/json", &body)
	if err != nil {
		return served{}, err
	}
	defer resp.Body.Close()
	var res struct {
		Snapshot int64 `json:"snapshot"`
		Rows     []*struct {
			ID int64  `json:"id"`
			V  string `json:"v"`
		} `json:"rows"`
	}
	if resp.StatusCode != http.StatusOK {
		return served{}, fmt.Errorf("status %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return served{}, err
	}
	if len(res.Rows) != crashKeys {
		return served{}, fmt.Errorf("%d rows for %d keys", len(res.Rows), crashKeys)
	}
	s := served{snap: res.Snapshot, rows: map[int64]string{}}
	for k, row := range res.Rows {
		if row != nil {
			if row.ID != int64(k) {
				return served{}, fmt.Errorf("key %d answered with row %d", k, row.ID)
			}
			s.rows[row.ID] = row.V
		}
	}
	return s, nil
}

// checkServer waits (30 s at most) for the lookup server, restarted if it
// died, to serve the latest checkpoint; every answer on the way must be
// the model's state at the snapshot it reports.
func (r *crashRun) checkServer() {
	r.t.Helper()
	want := r.histMax
	deadline := time.Now().Add(30 * time.Second)
	for ; ; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("round %d: the lookup server did not reach snapshot %d in 30 s\n%s", r.round, want, r.serve.stderr.String())
		}
		if r.exited(r.serve) {
			r.startServe("")
		}
		s, err := r.lookupAll()
		if err != nil {
			continue // it may be dying at a point, or starting
		}
		if r.rolledBack > 0 && s.snap > r.rolledBack {
			continue // still the snapshot from before the rollback
		}
		r.checked.answers++
		if exp := r.stateAt(s.snap); !maps.Equal(s.rows, exp) {
			r.t.Fatalf("round %d: the lookup server at snapshot %d answers unlike that snapshot\n%s", r.round, s.snap, r.diff(s.rows, exp))
		}
		if s.snap >= want {
			r.rolledBack = 0
			return
		}
	}
}

// startServe starts the lookup server, dying at point, and waits until
// it answers /healthz (starting it again if it died before).
func (r *crashRun) startServe(point string) {
	r.t.Helper()
	for {
		r.serve = r.startBg("serve", point, 6, nil, "serve", "--tables", crashTable, "--addr", r.addr, "--refresh", "20ms")
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if r.exited(r.serve) {
				break
			}
			if resp, err := http.Get("http://" + r.addr + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			if time.Now().After(deadline) {
				r.t.Fatalf("round %d: the lookup server did not start in 30 s", r.round)
			}
		}
		point = ""
	}
}

// checkLeftovers: once every process is stopped, what killed processes
// left in the temporary directory must be younger than the guard after
// which the next process removes it (internal/scratch), and orphan
// cleaning must leave no temporary file of an unfinished write in a local
// warehouse.
func (r *crashRun) checkLeftovers() {
	r.t.Helper()
	r.stopAll()
	ents, err := os.ReadDir(r.tmp)
	if err != nil {
		r.t.Fatal(err)
	}
	cutoff := time.Now().Add(-2 * time.Minute) // the guard, and the slowest round
	var left, stale []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "strata-") {
			continue
		}
		left = append(left, e.Name())
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			stale = append(stale, e.Name())
		}
	}
	r.t.Logf("temporary entries left by killed processes: %d, none older than two minutes", len(left))
	ensure(r.t, len(stale) == 0, "abandoned temporary entries older than two minutes: %v", stale)
	r.runKill("", clockEnv, 0, "", "orphans", crashTable, "--older-than", "1h")
	if strings.HasPrefix(r.wh, "s3://") {
		return
	}
	var hidden []string
	_ = filepath.WalkDir(r.wh, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && strings.HasSuffix(d.Name(), ".tmp") {
			hidden = append(hidden, p)
		}
		return nil
	})
	ensure(r.t, len(hidden) == 0, "temporary files of unfinished writes left in the warehouse after orphan cleaning: %v", hidden)
}
