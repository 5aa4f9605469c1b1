package table

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The user guide's Go snippets are excerpts of the runnable examples, so
// that what it shows compiles and does what the examples' output says.
var (
	docGuideDir     = filepath.Join("..", "docs", "guide")
	docExampleFiles = []string{"example_test.go", "../catalog/example_test.go", "../server/example_test.go"}
)

// TestDocSnippets checks that every ```go block of docs/guide is a run of
// consecutive lines (indentation aside) of an example file.
func TestDocSnippets(t *testing.T) {
	var examples [][]string
	for _, f := range docExampleFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, trimmedLines(string(b)))
	}
	pages, err := filepath.Glob(filepath.Join(docGuideDir, "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no guide pages in %s (%v)", docGuideDir, err)
	}
	checked := 0
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range goBlocks(string(b)) {
			checked++
			if !anyContains(examples, trimmedLines(sn.text)) {
				t.Errorf("%s:%d: this Go snippet is in none of %v; copy it from an example (or add one):\n%s",
					page, sn.line, docExampleFiles, sn.text)
			}
		}
	}
	if checked == 0 {
		t.Fatal("the guide has no Go snippets: the test checks nothing")
	}
}

// snippet is one fenced Go block and the line of its fence.
type snippet struct {
	line int
	text string
}

// goBlocks returns the ```go blocks of a Markdown page.
func goBlocks(md string) []snippet {
	var out []snippet
	var cur *snippet
	for i, l := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```go":
			cur = &snippet{line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	return out
}

// trimmedLines splits text into lines without their surrounding space,
// empty lines dropped.
func trimmedLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// anyContains reports whether one of files holds want as consecutive lines.
func anyContains(files [][]string, want []string) bool {
	for _, lines := range files {
		for i := 0; i+len(want) <= len(lines); i++ {
			match := true
			for j, w := range want {
				if lines[i+j] != w {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
	}
	return false
}
