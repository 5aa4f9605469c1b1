package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// Each way a binary comes to be records a different build info; the
// version printed must come from what that way records.
func TestVersionDescribeBuild(t *testing.T) {
	const mod = "github.com/stratalake/strata"
	vcs := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	cases := []struct {
		name          string
		bi            *debug.BuildInfo
		ver, rev      string // -X overrides
		want          buildInfo
		wantShort     string
		wantTextLines []string
	}{
		{name: "go install at a tag",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: mod, Version: "v1.2.3", Sum: "h1:x"}},
			want:      buildInfo{Version: "v1.2.3", Module: mod, Revision: unknown},
			wantShort: "v1.2.3", wantTextLines: []string{"strata v1.2.3", "revision: unknown"}},
		{name: "go install at a commit",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: mod, Version: "v0.0.0-20250131120000-0123456789ab"}},
			want:      buildInfo{Version: "v0.0.0-20250131120000-0123456789ab", Module: mod, Revision: "0123456789ab", Time: "2025-01-31T12:00:00Z"},
			wantShort: "v0.0.0-20250131120000-0123456789ab", wantTextLines: []string{"revision: 0123456789ab (2025-01-31T12:00:00Z)"}},
		{name: "go install after a pre-release tag",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: mod, Version: "v1.2.4-rc.1.0.20250131120000-0123456789ab+incompatible"}},
			want: buildInfo{Version: "v1.2.4-rc.1.0.20250131120000-0123456789ab+incompatible", Module: mod, Revision: "0123456789ab", Time: "2025-01-31T12:00:00Z"}},
		{name: "local build with a VCS stamp",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: mod, Version: "(devel)"},
				Settings: vcs("vcs", "git", "vcs.revision", "fedcba9876543210fedcba9876543210fedcba98", "vcs.time", "2025-02-01T10:00:00Z", "vcs.modified", "true")},
			want:      buildInfo{Version: "devel", Module: mod, Revision: "fedcba9876543210fedcba9876543210fedcba98", Time: "2025-02-01T10:00:00Z", Modified: true},
			wantShort: "devel (fedcba987654, modified)", wantTextLines: []string{"revision: fedcba9876543210fedcba9876543210fedcba98 (2025-02-01T10:00:00Z, modified)"}},
		{name: "local build without a VCS stamp",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: mod, Version: "(devel)"}},
			want:      buildInfo{Version: "devel", Module: mod, Revision: unknown},
			wantShort: "devel", wantTextLines: []string{"strata devel", "revision: unknown"}},
		{name: "ldflags override",
			bi:  &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: mod, Version: "(devel)"}},
			ver: "v9.9.9", rev: "abc123",
			want:      buildInfo{Version: "v9.9.9", Module: mod, Revision: "abc123"},
			wantShort: "v9.9.9 (abc123)"},
		{name: "no build info",
			want: buildInfo{Version: unknown, Module: unknown, Revision: unknown}},
		{name: "not a pseudo-version",
			bi:   &debug.BuildInfo{Main: debug.Module{Path: mod, Version: "v1.0.0-beta-20250131120000"}},
			want: buildInfo{Version: "v1.0.0-beta-20250131120000", Module: mod, Revision: unknown}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := describeBuild(tc.bi, tc.ver, tc.rev)
			want := tc.want
			want.Go, want.OS, want.Arch, want.SQL = runtime.Version(), runtime.GOOS, runtime.GOARCH, sqlBuilt
			if tc.bi != nil && tc.bi.GoVersion != "" {
				want.Go = tc.bi.GoVersion
			}
			if got != want {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
			if tc.wantShort != "" && got.short() != tc.wantShort {
				t.Errorf("short %q, want %q", got.short(), tc.wantShort)
			}
			var text strings.Builder
			if err := got.write(&text, "text"); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(text.String(), "\n")
			for _, l := range tc.wantTextLines {
				if !containsLine(lines, l) {
					t.Errorf("text output lacks %q:\n%s", l, text.String())
				}
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// `strata version` in this test binary: the Go version and platform it
// runs on, the module's path, and both output forms.
func TestVersionCommand(t *testing.T) {
	c := cli{t, t.TempDir()}
	out := c.ok("", "version")
	for _, want := range []string{"go:       " + runtime.Version(), "platform: " + runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
	var b buildInfo
	if err := json.Unmarshal([]byte(c.ok("", "version", "--format", "json")), &b); err != nil {
		t.Fatal(err)
	}
	if b.Go != runtime.Version() || b.OS != runtime.GOOS || b.Arch != runtime.GOARCH || b.SQL != sqlBuilt {
		t.Errorf("json: %+v", b)
	}
	if got := c.ok("", "--version"); got != "strata "+currentBuild().short()+"\n" {
		t.Errorf("--version: %q", got)
	}
	if _, _, code := c.run("", "version", "--format", "xml"); code != 2 {
		t.Errorf("--format xml: exit %d, want 2", code)
	}
}

// A real build of the binary: the -X override shows, and in a git checkout
// a build with -buildvcs=true reports the checkout's HEAD (CI's clone; a
// linked worktree is not stamped by Go, and then only the override is
// checked).
func TestVersionBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the strata binary")
	}
	bin := filepath.Join(t.TempDir(), "strata")
	build := exec.Command("go", "build", "-buildvcs=true", "-ldflags", "-X main.version=v9.9.9-test", "-o", bin, ".")
	out, err := build.CombinedOutput()
	vcsStamped := err == nil
	if err != nil && strings.Contains(string(out), "VCS") {
		// No git, or not a checkout (a source archive): build without the stamp.
		build = exec.Command("go", "build", "-buildvcs=false", "-ldflags", "-X main.version=v9.9.9-test", "-o", bin, ".")
		out, err = build.CombinedOutput()
	}
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version", "--format", "json").Output()
	if err != nil {
		t.Fatalf("strata version: %v", err)
	}
	var b buildInfo
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if b.Version != "v9.9.9-test" || b.Module != "github.com/stratalake/strata" || b.Go != runtime.Version() {
		t.Errorf("strata version: %+v", b)
	}
	// Go stamps a checkout whose root holds a .git directory (not the .git
	// file of a linked worktree).
	if fi, err := os.Stat(filepath.Join("..", "..", ".git")); err != nil || !fi.IsDir() {
		vcsStamped = false
	}
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); vcsStamped && err == nil {
		if want := strings.TrimSpace(string(head)); b.Revision != want || b.Time == "" {
			t.Errorf("revision %q at %q, want HEAD %s", b.Revision, b.Time, want)
		}
	}
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "strata v9.9.9-test") {
		t.Errorf("strata --version: %q, %v", out, err)
	}
	_ = os.Remove(bin)
}
