package compaction

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// testCase is one block of a testdata file: a command line, input lines and
// the expected output after "----".
type testCase struct {
	pos      string
	cmd      []string
	input    []string
	expected string
}

func readCases(t *testing.T, file string) []testCase {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []testCase
	var cur *testCase
	inExpected := false
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(text, "#"):
		case text == "":
			if cur != nil {
				cases = append(cases, *cur)
				cur = nil
			}
			inExpected = false
		case cur == nil:
			cur = &testCase{pos: fmt.Sprintf("%s:%d", file, line), cmd: strings.Fields(text)}
		case text == "----":
			inExpected = true
		case inExpected:
			cur.expected = strings.TrimSpace(cur.expected + " " + text)
		default:
			cur.input = append(cur.input, text)
		}
	}
	if cur != nil {
		cases = append(cases, *cur)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", file)
	}
	return cases
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// runsOf parses "L0:1 L1:2" into runs of one file each.
func runsOf(t *testing.T, s string) []lsm.SortedRun {
	var runs []lsm.SortedRun
	for i, tok := range strings.Fields(s) {
		lv, size, _ := strings.Cut(strings.TrimPrefix(tok, "L"), ":")
		f := &lsm.File{Meta: spec.DataFileMeta{FileName: fmt.Sprint("f", i), Level: int32(atoi(t, lv)), FileSize: int64(atoi(t, size))}}
		runs = append(runs, lsm.SortedRun{Level: atoi(t, lv), Files: []*lsm.File{f}})
	}
	return runs
}

func unitString(u *Unit) string {
	if u == nil {
		return "none"
	}
	sizes := make([]string, len(u.Files))
	for i, f := range u.Files {
		sizes[i] = strconv.FormatInt(f.Size(), 10)
	}
	return fmt.Sprintf("out=%d sizes=%s", u.OutputLevel, strings.Join(sizes, ","))
}

func TestUniversalData(t *testing.T) {
	for _, c := range readCases(t, "testdata/universal.txt") {
		u := Universal{MaxSizeAmp: atoi(t, c.cmd[1]), SizeRatio: atoi(t, c.cmd[2]), Trigger: atoi(t, c.cmd[3])}
		numLevels := atoi(t, c.cmd[4])
		runs := runsOf(t, c.input[0])
		var got string
		switch c.cmd[0] {
		case "pick":
			got = unitString(u.Pick(numLevels, runs))
		case "forcel0":
			got = unitString((&ForceUpLevel0{Universal: u}).Pick(numLevels, runs))
		case "forcel0-interval5":
			f := &ForceUpLevel0{Universal: u, MaxInterval: 5}
			var parts []string
			for i := 0; i < 5; i++ {
				parts = append(parts, unitString(f.Pick(numLevels, runs)))
			}
			got = strings.Join(parts, " ")
		default:
			t.Fatalf("%s: unknown command %q", c.pos, c.cmd[0])
		}
		if got != c.expected {
			t.Errorf("%s: got %q, want %q", c.pos, got, c.expected)
		}
	}
}

// intFile makes a file over INT keys [min, max] with size max-min+1.
func intFile(level, minK, maxK, seq int) *lsm.File {
	del := int64(0)
	return &lsm.File{
		Meta: spec.DataFileMeta{FileName: fmt.Sprintf("f-%d-%d-%d-%d", level, minK, maxK, seq), Level: int32(level),
			FileSize: int64(maxK - minK + 1), MinSequenceNumber: int64(seq), MaxSequenceNumber: int64(seq), DeleteRowCount: &del},
		MinKey: spec.Row{int32(minK)}, MaxKey: spec.Row{int32(maxK)},
	}
}

func parseRange(t *testing.T, tok string) (int, int) {
	a, b, _ := strings.Cut(strings.Trim(tok, "[]"), ",")
	return atoi(t, a), atoi(t, b)
}

func TestIntervalPartitionData(t *testing.T) {
	for _, c := range readCases(t, "testdata/interval.txt") {
		var files []*lsm.File
		for i, tok := range strings.Fields(c.input[0]) {
			a, b := parseRange(t, tok)
			files = append(files, intFile(0, a, b, i))
		}
		var secs []string
		for _, sec := range IntervalPartition(files) {
			var runs []string
			for _, r := range sec {
				var fs []string
				for _, f := range r.Files {
					fs = append(fs, fmt.Sprintf("[%v,%v]", f.MinKey[0], f.MaxKey[0]))
				}
				runs = append(runs, strings.Join(fs, ","))
			}
			slices.Sort(runs) // run order inside a section carries no meaning
			secs = append(secs, strings.Join(runs, " | "))
		}
		if got := strings.Join(secs, " ; "); got != c.expected {
			t.Errorf("%s: got %q, want %q", c.pos, got, c.expected)
		}
	}
}

// spanRewriter writes one file spanning each rewrite's inputs, like the
// rewriter of Paimon's MergeTreeCompactManagerTest.
type spanRewriter struct{ n int }

func (r *spanRewriter) Rewrite(_ context.Context, out int, _ bool, sections [][]lsm.SortedRun) ([]*lsm.File, []spec.DataFileMeta, error) {
	minK, maxK := 1<<30, -1
	for _, sec := range sections {
		for _, run := range sec {
			for _, f := range run.Files {
				minK = min(minK, int(f.MinKey[0].(int32)))
				maxK = max(maxK, int(f.MaxKey[0].(int32)))
			}
		}
	}
	r.n++
	return []*lsm.File{intFile(out, minK, maxK, 100+r.n)}, nil, nil
}

func (r *spanRewriter) Upgrade(_ context.Context, out int, f *lsm.File) ([]*lsm.File, []spec.DataFileMeta, error) {
	up := *f
	up.Meta.Level = int32(out)
	return []*lsm.File{&up}, nil, nil
}

func TestTaskData(t *testing.T) {
	for _, c := range readCases(t, "testdata/task.txt") {
		var files []*lsm.File
		for i, tok := range strings.Fields(c.input[0]) {
			p := strings.Split(strings.Trim(tok, "()"), ",")
			files = append(files, intFile(atoi(t, p[0]), atoi(t, p[1]), atoi(t, p[2]), i))
		}
		levels, err := lsm.NewLevels(files, 3)
		if err != nil {
			t.Fatal(err)
		}
		runs := levels.SortedRuns()
		n := len(runs)
		if c.cmd[2] != "all" {
			n = atoi(t, c.cmd[2])
		}
		unit := unitOf(runs, atoi(t, c.cmd[1]), n)
		task := &Task{Unit: unit, MaxLevel: levels.MaxLevel(), SmallFileSize: 2}
		res, err := task.Run(context.Background(), &spanRewriter{})
		if err != nil {
			t.Fatal(err)
		}
		if err := levels.Update(res.Before, res.After); err != nil {
			t.Fatalf("%s: %v", c.pos, err)
		}
		var got []string
		for lv := 0; lv < levels.NumberOfLevels(); lv++ {
			var fs []*lsm.File
			if lv == 0 {
				fs = levels.Level0()
			} else {
				fs = levels.RunOfLevel(lv).Files
			}
			for _, f := range fs {
				got = append(got, fmt.Sprintf("(%d,%v,%v)", lv, f.MinKey[0], f.MaxKey[0]))
			}
		}
		if s := strings.Join(got, " "); s != c.expected {
			t.Errorf("%s: got %q, want %q", c.pos, s, c.expected)
		}
	}
}
