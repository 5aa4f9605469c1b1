package integration

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	concSeed   = flag.Int64("conc.seed", 0, "TestConcurrentWriters: seed of the first round, to replay it (default: drawn)")
	concRounds = flag.Int("conc.rounds", 0, "TestConcurrentWriters: rounds to run (default 12, 4 with -short, 1 with -conc.seed)")
	concSerial = flag.Bool("conc.serial", false, "TestConcurrentWriters: run the writers one after another (checks the model, not concurrency)")
	concKeep   = flag.String("conc.keep", "", "TestConcurrentWriters: copy a failed round's warehouse to DIR/<seed>, to inspect with strata snapshots, files, manifests")
)

// maxRoundErrors caps the failures reported per round; the first ones are
// the actionable ones.
const maxRoundErrors = 15

// TestConcurrentWriters runs rounds of 2 to 8 `strata write` processes at
// once against one random table (bucket mode, partitioning, merge engine,
// deletion vectors, lookup changelog: see drawKind), then checks the
// contract of strata write and the table against a model:
//   - a writer exits 0 having committed its rows in exactly one APPEND
//     snapshot whose id it prints, or non-zero having committed nothing;
//   - at every snapshot the table (all levels merged) equals the model
//     after the writes whose APPEND snapshot is not later, no key twice;
//   - after `strata compact --full` the default scan equals the model.
//
// Each round is deterministic given its seed except for process timing;
// replay one with -conc.seed=N. -conc.serial runs the writers one at a
// time, which must pass whatever the concurrency defects: it checks the
// model.
func TestConcurrentWriters(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build strata: %v\n%s", err, out)
	}
	base, rounds := *concSeed, *concRounds
	if base == 0 {
		base = 1 + rand.Int64N(1e9)
	} else if rounds == 0 {
		rounds = 1
	}
	// Default rounds stop early past a time budget, so that slower writers
	// (say, retrying conflicts) keep the test under about a minute and a half.
	budget := time.Duration(1<<63 - 1)
	if rounds == 0 {
		rounds, budget = 12, time.Minute
		if testing.Short() {
			rounds, budget = 4, 20*time.Second
		}
	}
	t.Logf("seeds %d..%d (replay one: go test ./integration -run TestConcurrentWriters -conc.seed=N)", base, base+int64(rounds)-1)
	start := time.Now()
	for i := range rounds {
		if time.Since(start) > budget {
			t.Logf("time budget %s spent: ran %d of %d rounds", budget, i, rounds)
			break
		}
		seed := base + int64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := &round{t: t, bin: bin, seed: seed, wh: t.TempDir()}
			r.run()
			if t.Failed() && *concKeep != "" {
				keep := filepath.Join(*concKeep, fmt.Sprint(seed))
				_ = os.RemoveAll(keep)
				if err := os.CopyFS(keep, os.DirFS(r.wh)); err != nil {
					t.Errorf("keeping the warehouse: %v", err)
				} else {
					t.Logf("kept the warehouse in %s", keep)
				}
			}
			if t.Failed() {
				t.Logf("replay: go test ./integration -run TestConcurrentWriters -conc.seed=%d", seed)
			}
		})
	}
}

// round is one table and one batch of concurrent writers.
type round struct {
	t      *testing.T
	bin    string
	seed   int64
	wh     string // warehouse directory
	kind   tableKind
	inputs [][]mrec // per writer
	res    []writerResult
	errs   int
	// Some rounds give the table a commit.user-prefix and the writers a
	// checkpoint, which a re-run must find committed.
	userPrefix string
	checkpoint bool
}

// writerResult is what one strata write process did.
type writerResult struct {
	code           int    // exit status (-1: did not exit normally)
	stdout, stderr string // trimmed
	printed        int64  // snapshot id printed on stdout, 0 if none
}

// errorf reports a failure with the round's seed and table kind.
func (r *round) errorf(format string, args ...any) {
	r.t.Helper()
	r.errs++
	switch {
	case r.errs <= maxRoundErrors:
		r.t.Errorf("seed=%d [%s]: %s", r.seed, r.kind, fmt.Sprintf(format, args...))
	case r.errs == maxRoundErrors+1:
		r.t.Errorf("seed=%d: further failures not shown", r.seed)
	}
}

// fatalf reports a failure that ends the round.
func (r *round) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("seed=%d [%s]: %s", r.seed, r.kind, fmt.Sprintf(format, args...))
}

// run creates the table, runs the writers and checks what they left. The
// model applies the rows of every APPEND snapshot a writer's commit user
// wrote, including those of failed writers (reported already), so that the
// later checks still single out further defects.
func (r *round) run() {
	r.checkpoint = r.seed%2 == 0
	if r.seed%3 == 0 {
		r.userPrefix = "px"
	}
	r.createTable()
	r.t.Logf("seed=%d: %s", r.seed, r.kind)
	for w := range r.kind.Writers {
		r.inputs = append(r.inputs, r.kind.genInput(r.seed, w))
	}
	r.runWriters()
	h := r.checkHistory()
	r.checkSnapshots(h)
	r.checkAfterFullCompaction(h)
	r.checkReruns()
}

// createTable draws table kinds from the seed until strata create accepts
// one (a refused combination is not a failure).
func (r *round) createTable() {
	rng := rand.New(rand.NewPCG(uint64(r.seed), 0))
	for attempt := 0; ; attempt++ {
		r.kind = drawKind(rng)
		args := append([]string{"create", "db.t"}, r.kind.createArgs()...)
		if r.userPrefix != "" {
			args = append(args, "-o", "commit.user-prefix="+r.userPrefix)
		}
		code, out, stderr, err := r.strata(context.Background(), args...)
		if err != nil {
			r.fatalf("strata create: %v", err)
		}
		if code == 0 {
			return
		}
		r.t.Logf("create refused %s: %s%s", r.kind, out, stderr)
		if attempt == 10 {
			r.fatalf("strata create refused 10 table kinds in a row")
		}
		// A fresh warehouse keeps a half-created table from mattering.
		r.wh = r.t.TempDir()
	}
}

// strata runs the binary to completion.
func (r *round) strata(ctx context.Context, args ...string) (code int, stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, r.bin, append([]string{"--warehouse", r.wh}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String(), nil
	}
	return 0, out.String(), errb.String(), err
}

// writeUser is the commit user writer w is given, which attributes
// snapshots.
func writeUser(w int) string { return "conc-w" + strconv.Itoa(w) }

// commitUser is writer w's user as its snapshots record it.
func (r *round) commitUser(w int) string {
	if r.userPrefix != "" {
		return r.userPrefix + "_" + writeUser(w)
	}
	return writeUser(w)
}

// writeArgs are writer w's arguments: odd writers read stdin (which a
// retry must replay), even ones --input.
func (r *round) writeArgs(w int) (args []string, stdin string) {
	args = []string{"--warehouse", r.wh, "write", "db.t", "--format", "jsonl", "--commit-user", writeUser(w)}
	if r.checkpoint {
		args = append(args, "--checkpoint", "1")
	}
	if w%2 == 1 {
		return args, r.writeInput(w)
	}
	return append(args, "--input", r.writeInput(w)), ""
}

var wroteLine = regexp.MustCompile(`(?m)^snapshot (\d+): wrote (\d+) rows`)

// runWriters starts every writer at once (one after another with
// -conc.serial) and waits for all of them.
func (r *round) runWriters() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel() // kills writers left running by a fatal failure
	cmds := make([]*exec.Cmd, len(r.inputs))
	outs := make([][2]bytes.Buffer, len(r.inputs))
	for w := range r.inputs {
		args, stdin := r.writeArgs(w)
		cmds[w] = exec.CommandContext(ctx, r.bin, args...)
		cmds[w].Stdout, cmds[w].Stderr = &outs[w][0], &outs[w][1]
		if stdin != "" {
			f, err := os.Open(stdin)
			if err != nil {
				r.fatalf("writer %d input: %v", w, err)
			}
			defer f.Close()
			cmds[w].Stdin = f
		}
	}
	waitErrs := make([]error, len(cmds))
	for w, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			r.fatalf("start writer %d: %v", w, err)
		}
		if *concSerial {
			waitErrs[w] = cmd.Wait()
		}
	}
	r.res = make([]writerResult, len(cmds))
	for w, cmd := range cmds {
		if !*concSerial {
			waitErrs[w] = cmd.Wait()
		}
		if ctx.Err() != nil {
			r.fatalf("writer %d did not finish in 2 minutes (%v)", w, waitErrs[w])
		}
		res := writerResult{code: cmd.ProcessState.ExitCode(),
			stdout: strings.TrimSpace(outs[w][0].String()), stderr: strings.TrimSpace(outs[w][1].String())}
		if m := wroteLine.FindStringSubmatch(res.stdout); m != nil {
			res.printed, _ = strconv.ParseInt(m[1], 10, 64)
			if n, _ := strconv.Atoi(m[2]); n != len(r.inputs[w]) {
				r.errorf("writer %d printed %q for an input of %d rows", w, res.stdout, len(r.inputs[w]))
			}
		}
		r.res[w] = res
		r.t.Logf("writer %d (%d rows): exit %d: %s %s", w, len(r.inputs[w]), res.code, res.stdout, lastLine(res.stderr))
	}
}

// writeInput writes writer w's rows as a JSONL file and returns its path.
func (r *round) writeInput(w int) string {
	file := filepath.Join(r.t.TempDir(), fmt.Sprintf("w%d.jsonl", w))
	var data []byte
	for _, rec := range r.inputs[w] {
		line, err := r.kind.jsonLine(rec)
		if err != nil {
			r.fatalf("writer %d input: %v", w, err)
		}
		data = append(data, line...)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		r.fatalf("writer %d input: %v", w, err)
	}
	return file
}

// lastLine is the last line of s, for logs.
func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
