package main

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// A refused `strata create` exits 2, names the option on stderr and leaves
// nothing in the warehouse; the same name can then be created correctly.
func TestCLICreateRefusedLeavesNothing(t *testing.T) {
	cases := []struct {
		name, schema, pk, part string
		bad, fixed             []string
		want                   string
	}{
		{"aggregate on wrong type", "id INT NOT NULL, v STRING", "id", "",
			[]string{"merge-engine=aggregation", "fields.v.aggregate-function=sum"},
			[]string{"merge-engine=aggregation", "fields.v.aggregate-function=listagg"}, `"fields.v.aggregate-function"`},
		{"unknown compression", "id INT NOT NULL, v STRING", "id", "",
			[]string{"file.compression=lz4"}, []string{"file.compression=zstd"}, `"file.compression" = "lz4"`},
		{"missing sequence-group column", "id INT NOT NULL, v INT, s STRING", "id", "",
			[]string{"merge-engine=partial-update", "fields.v.sequence-group=gone"},
			[]string{"merge-engine=partial-update", "fields.v.sequence-group=s"}, `"fields.v.sequence-group"`},
		{"deletion vectors with first-row", "id INT NOT NULL, v STRING", "id", "",
			[]string{"merge-engine=first-row", "deletion-vectors.enabled=true"},
			[]string{"merge-engine=first-row"}, `"deletion-vectors.enabled" = "true"`},
		{"fixed buckets on a cross-partition key", "id INT NOT NULL, dt STRING, v STRING", "id", "dt",
			[]string{"bucket=2"}, []string{"bucket=-1"}, `"bucket" = "2"`},
		{"orc", "id INT NOT NULL, v STRING", "id", "",
			[]string{"file.format=orc"}, nil, `"file.format" = "orc"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cli{t, t.TempDir()}
			args := func(opts []string) []string {
				a := []string{"create", "db.t", "--schema", tc.schema, "--primary-key", tc.pk}
				if tc.part != "" {
					a = append(a, "--partition", tc.part)
				}
				for _, o := range opts {
					a = append(a, "-o", o)
				}
				return a
			}
			_, errs, code := c.run("", args(tc.bad)...)
			if code != 2 || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 naming %s", code, errs, tc.want)
			}
			if left := warehouseEntries(t, c.wh); len(left) > 0 {
				t.Fatalf("refused create left %v", left)
			}
			c.ok("", args(tc.fixed)...)
			c.ok(`{"id": 1}`+"\n", "write", "db.t")
		})
	}
}

// An unknown option key is kept, with a warning naming the nearest known
// key on stderr.
func TestCLICreateWarnsUnknownOption(t *testing.T) {
	c := cli{t, t.TempDir()}
	out, errs, code := c.run("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id",
		"-o", "merge_engine=first-row")
	want := `warning: unknown option "merge_engine" is stored but ignored; did you mean "merge-engine"?` + "\n"
	if code != 0 || errs != want || !strings.Contains(out, "created") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want the warning %q", code, out, errs, want)
	}
	// The warning comes with an error too.
	_, errs, code = c.run("", "create", "u", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id",
		"-o", "merge_engine=first-row", "-o", "bucket=0")
	if code != 2 || !strings.HasPrefix(errs, want) || !strings.Contains(errs, `"bucket" = "0"`) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// warehouseEntries lists everything below the warehouse directory.
func warehouseEntries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
