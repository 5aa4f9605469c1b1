package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// version and revision override what the build info says, for builds
// that carry no module version or VCS stamp (a release script, a build
// from a source archive):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.revision=abc123" ./cmd/strata
var version, revision string

// buildInfo is what `strata version` prints.
type buildInfo struct {
	Version  string `json:"version"`
	Module   string `json:"module"`
	Revision string `json:"revision"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	SQL      bool   `json:"sql"`
}

// unknown stands for a version or revision the build did not record.
const unknown = "unknown"

// currentBuild describes this binary.
func currentBuild() buildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return describeBuild(bi, version, revision)
}

// describeBuild reads a binary's build info: the module version `go
// install ...@vX` records (or a local build's VCS-derived version, or
// "devel" for a local build without one), the VCS stamp of a local build,
// or the revision and time inside a pseudo-version when there is no stamp;
// the -X overrides win.
func describeBuild(bi *debug.BuildInfo, versionOverride, revisionOverride string) buildInfo {
	b := buildInfo{Version: unknown, Module: unknown, Revision: unknown,
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, SQL: sqlBuilt}
	if bi != nil {
		if bi.Main.Path != "" {
			b.Module = bi.Main.Path
		}
		switch v := bi.Main.Version; v {
		case "":
		case "(devel)": // built in a source tree Go did not stamp
			b.Version = "devel"
		default:
			b.Version = v
		}
		if bi.GoVersion != "" {
			b.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
		if b.Revision == unknown {
			if rev, at, ok := pseudoVersionRevision(b.Version); ok {
				b.Revision, b.Time = rev, at
			}
		}
	}
	if versionOverride != "" {
		b.Version = versionOverride
	}
	if revisionOverride != "" {
		b.Revision = revisionOverride
	}
	return b
}

// pseudoVersionRevision returns the commit prefix and time a Go
// pseudo-version (v0.0.0-20240131120000-0123456789ab, also vX.Y.Z-pre.0.…
// and with +incompatible or +dirty) encodes.
func pseudoVersionRevision(v string) (rev, at string, ok bool) {
	v, _, _ = strings.Cut(v, "+")
	parts := strings.Split(v, "-")
	if len(parts) < 3 {
		return "", "", false
	}
	rev, stamp := parts[len(parts)-1], parts[len(parts)-2]
	if i := strings.LastIndexByte(stamp, '.'); i >= 0 {
		stamp = stamp[i+1:]
	}
	t, err := time.Parse("20060102150405", stamp)
	if err != nil || len(rev) != 12 || strings.Trim(rev, "0123456789abcdef") != "" {
		return "", "", false
	}
	return rev, t.UTC().Format(time.RFC3339), true
}

// short is the one-line form `strata --version` prints.
func (b buildInfo) short() string {
	rev := b.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	s := b.Version
	if rev != unknown && !strings.Contains(s, rev) {
		s += " (" + rev
		if b.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s
}

// write prints the build as text lines or one JSON object.
func (b buildInfo) write(w io.Writer, format string) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(b)
	}
	rev := b.Revision
	var notes []string
	if b.Time != "" {
		notes = append(notes, b.Time)
	}
	if b.Modified {
		notes = append(notes, "modified")
	}
	if len(notes) > 0 {
		rev += " (" + strings.Join(notes, ", ") + ")"
	}
	sql := "yes"
	if !b.SQL {
		sql = "no (build with -tags duckdb_arrow for strata sql)"
	}
	_, err := fmt.Fprintf(w, "strata %s\nmodule:   %s\nrevision: %s\ngo:       %s\nplatform: %s/%s\nsql:      %s\n",
		b.Version, b.Module, rev, b.Go, b.OS, b.Arch, sql)
	return err
}

func newVersionCmd(e *env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version [--format text|json]",
		Short: "Print the version, VCS revision, Go version and platform of this binary",
		Long: `Print what this binary was built from: the module version (the vX of
"go install github.com/stratalake/strata/cmd/strata@vX", a version Go
derived from the checkout, or devel for a local build without one), the VCS
revision, its commit time and whether the
work tree had uncommitted changes (recorded by go build in a git checkout
unless -buildvcs=false), the Go version, the platform, and whether the build
has "strata sql" (-tags duckdb_arrow). What the build did not record prints
as unknown. A build may set the version and revision itself:

  go build -ldflags "-X main.version=v1.2.3 -X main.revision=abc123" -o strata ./cmd/strata

"strata --version" prints the version on one line.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usagef("--format %q: want text or json", format)
			}
			return currentBuild().write(e.stdout, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
