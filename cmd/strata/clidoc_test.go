package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var updateCLIDocs = flag.Bool("update", false, "TestCLIDocs: rewrite docs/cli from the command tree")

// cliDocsDir is docs/cli, seen from this package's directory.
var cliDocsDir = filepath.Join("..", "..", "docs", "cli")

// regenerateCLIDocs is the command that rewrites docs/cli.
const regenerateCLIDocs = "go test ./cmd/strata -run TestCLIDocs -update"

// TestCLIDocs checks that docs/cli, the CLI reference, is what the command
// tree says: every command's usage, help text and flags. With -update it
// rewrites the directory instead.
func TestCLIDocs(t *testing.T) {
	t.Setenv("CI", "") // some defaults follow $CI; the reference shows a user's
	pages := cliDocPages(newRootCmd(strings.NewReader(""), io.Discard, io.Discard))
	if *updateCLIDocs {
		writeCLIDocs(t, pages)
		return
	}
	var stale []string
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(cliDocsDir, name))
		switch {
		case err != nil:
			stale = append(stale, name+" is missing")
		case !bytes.Equal(got, want):
			stale = append(stale, name+" differs from the command tree")
		}
	}
	for _, name := range listCLIDocs(t) {
		if _, ok := pages[name]; !ok {
			stale = append(stale, name+" documents no command")
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		t.Fatalf("docs/cli is stale:\n  %s\nregenerate it (from the repository root) with\n  %s",
			strings.Join(stale, "\n  "), regenerateCLIDocs)
	}
}

// listCLIDocs lists the Markdown files of docs/cli.
func listCLIDocs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(cliDocsDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".md") {
			out = append(out, e.Name())
		}
	}
	return out
}

func writeCLIDocs(t *testing.T, pages map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(cliDocsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range listCLIDocs(t) {
		if _, ok := pages[name]; !ok {
			if err := os.Remove(filepath.Join(cliDocsDir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, b := range pages {
		if err := os.WriteFile(filepath.Join(cliDocsDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d pages to %s", len(pages), cliDocsDir)
}

// cliDocPages renders the command tree: README.md for the root (global
// flags, every command) and one page per command, named by its path
// (strata_tag_create.md).
func cliDocPages(root *cobra.Command) map[string][]byte {
	pages := map[string][]byte{}
	var all []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range documented(c) {
			all = append(all, s)
			pages[cliDocFile(s)] = commandPage(s)
			walk(s)
		}
	}
	walk(root)
	pages["README.md"] = rootPage(root, all)
	return pages
}

// documented are a command's subcommands a user sees.
func documented(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() && s.Name() != "help" && s.Name() != "completion" {
			out = append(out, s)
		}
	}
	return out
}

func cliDocFile(c *cobra.Command) string {
	if !c.HasParent() {
		return "README.md"
	}
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}

const cliDocHeader = "<!-- Generated from the strata command tree by `" + regenerateCLIDocs + "`; do not edit. -->\n\n"

func rootPage(root *cobra.Command, all []*cobra.Command) []byte {
	var b bytes.Buffer
	b.WriteString(cliDocHeader)
	fmt.Fprintf(&b, "# %s: CLI reference\n\n%s.\n\n", root.Name(), root.Short)
	writeText(&b, root.Long)
	b.WriteString(`Exit status: 0 on success, 1 when the command failed, 2 for a usage error
(a bad flag, argument or option value). Every command takes ` + "`-h`/`--help`" + `;
` + "`strata --version`" + ` prints the version on one line ([strata version](strata_version.md)
says more), and ` + "`strata completion bash|zsh|fish|powershell`" + ` prints a shell
completion script.

## Global flags

`)
	writeFlags(&b, root.PersistentFlags())
	b.WriteString("\n## Commands\n\n| command | |\n|---|---|\n")
	for _, c := range all {
		fmt.Fprintf(&b, "| [%s](%s) | %s |\n", c.CommandPath(), cliDocFile(c), cell(c.Short))
	}
	return b.Bytes()
}

func commandPage(c *cobra.Command) []byte {
	var b bytes.Buffer
	b.WriteString(cliDocHeader)
	fmt.Fprintf(&b, "# %s\n\n%s.\n\n```text\n%s\n```\n\n", c.CommandPath(), strings.TrimSuffix(c.Short, "."), c.UseLine())
	writeText(&b, c.Long)
	if c.HasAvailableLocalFlags() {
		b.WriteString("## Flags\n\n")
		writeFlags(&b, c.LocalFlags())
		b.WriteString("\n")
	}
	if subs := documented(c); len(subs) > 0 {
		b.WriteString("## Commands\n\n")
		for _, s := range subs {
			fmt.Fprintf(&b, "- [%s](%s): %s\n", s.CommandPath(), cliDocFile(s), s.Short)
		}
		b.WriteString("\n")
	}
	p := c.Parent()
	fmt.Fprintf(&b, "Global flags: see [strata](README.md#global-flags). Up: [%s](%s).\n", p.CommandPath(), cliDocFile(p))
	return b.Bytes()
}

// writeText writes help text as it prints: its line breaks and indented
// examples matter, so it goes in a text block.
func writeText(b *bytes.Buffer, text string) {
	if text = strings.TrimSpace(text); text != "" {
		fmt.Fprintf(b, "```text\n%s\n```\n\n", text)
	}
}

// writeFlags writes a flag set as a table: name and value type, default
// (unless the type's zero value, as --help omits it), description.
func writeFlags(b *bytes.Buffer, fs *pflag.FlagSet) {
	b.WriteString("| flag | default | |\n|---|---|---|\n")
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		varname, usage := pflag.UnquoteUsage(f)
		name := "--" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", " + name
		}
		if varname != "" {
			name += " " + varname
		}
		def := ""
		switch f.DefValue {
		case "", "false", "0", "0s", "[]":
		default:
			def = "`" + f.DefValue + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", cell(name), cell(def), cell(strings.Join(strings.Fields(usage), " ")))
	})
}

// cell escapes text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// TestDocGuideSession runs the first session of the user guide
// (docs/guide/README.md) and checks the output the guide shows.
func TestDocGuideSession(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "guide", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	guide := string(b)
	c := cli{t, t.TempDir()}
	steps := []struct {
		stdin string
		args  []string
	}{
		{"", []string{"create", "risk.users", "--schema", "user_id BIGINT NOT NULL, country STRING, score INT",
			"--primary-key", "user_id", "-o", "bucket=4", "-o", "changelog-producer=lookup"}},
		{`{"user_id": 1, "country": "DE", "score": 710}` + "\n" + `{"user_id": 2, "country": "FR", "score": 540}` + "\n",
			[]string{"write", "risk.users"}},
		{"", []string{"lookup", "risk.users", "1", "2", "3"}},
		{`{"user_id": 2, "country": "FR", "score": 480}` + "\n", []string{"write", "risk.users"}},
		{"", []string{"tail", "risk.users", "--from", "earliest"}},
	}
	var outs []string
	for _, s := range steps {
		for _, a := range s.args {
			if !strings.Contains(guide, a) {
				t.Fatalf("the guide's session no longer has %q: keep this test in step with it", a)
			}
		}
		outs = append(outs, c.ok(s.stdin, s.args...))
	}
	if got := strings.Count(outs[2], "\n"); got != 3 || !strings.HasSuffix(outs[2], "null\n") {
		t.Errorf("lookup printed %q; the guide says one line per key, null for 3", outs[2])
	}
	if !strings.Contains(outs[1], "snapshot 1: wrote 2 rows") || !strings.Contains(outs[1], "(compacted in snapshot 2)") {
		t.Errorf("first write printed %q; the guide quotes snapshot 1 compacted in snapshot 2", outs[1])
	}
	if !strings.Contains(guide, "```text\n"+outs[4]+"```") {
		t.Errorf("strata tail printed\n%sthe guide shows another output", outs[4])
	}
}
