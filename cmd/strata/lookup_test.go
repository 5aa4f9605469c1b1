package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLILookup(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "db.users", "--schema", "id BIGINT NOT NULL, name STRING, amount DECIMAL(10, 2), day DATE", "--primary-key", "id", "-o", "bucket=2")
	c.ok(`{"id": 1, "name": "ann", "amount": "12.50", "day": "2024-01-31"}
{"id": 2, "name": "bob"}
{"id": 3, "name": "cy"}
`, "write", "db.users")
	c.ok("{\"id\": 2, \"name\": \"bobby\"}\n{\"id\": 3, \"_kind\": \"-D\"}\n", "write", "db.users")

	// Rows print exactly as scan --format jsonl prints them.
	scan := strings.Split(c.ok("", "scan", "db.users", "--format", "jsonl"), "\n")
	got := c.ok("", "lookup", "db.users", "2", "9", "1", "3", `{"id": 1}`, `"2"`)
	want := strings.Join([]string{scan[1], "null", scan[0], "null", scan[0], scan[1]}, "\n") + "\n"
	if got != want {
		t.Fatalf("lookup:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(scan[1], `"name":"bobby"`) {
		t.Fatalf("scan: %q", scan)
	}
	// --snapshot reads an older snapshot.
	if got := c.ok("", "lookup", "db.users", "2", "3", "--snapshot", "1"); got != `{"id":2,"name":"bob","amount":null,"day":null}`+"\n"+`{"id":3,"name":"cy","amount":null,"day":null}`+"\n" {
		t.Fatalf("lookup --snapshot 1: %q", got)
	}
	// Keys on stdin, one per line, blank lines skipped.
	if got := c.ok("1\n\n{\"id\": 2}\n7\n", "lookup", "db.users", "--input", "-"); got != scan[0]+"\n"+scan[1]+"\nnull\n" {
		t.Fatalf("lookup --input -: %q", got)
	}
	file := filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(file, []byte("\"1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := c.ok("", "lookup", "db.users", "--input", file); got != scan[0]+"\n" {
		t.Fatalf("lookup --input FILE: %q", got)
	}
}

func TestCLILookupCompositeKey(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "db.t", "--schema", "day DATE NOT NULL, k STRING NOT NULL, v INT", "--primary-key", "day,k", "--partition", "day")
	c.ok("day,k,v\n2024-01-01,abc,1\n2024-01-02,abc,2\n", "write", "db.t", "--format", "csv")
	got := c.ok("", "lookup", "db.t", `{"day": "2024-01-02", "k": "abc"}`, `{"k": "abc", "day": "2024-01-03"}`, `{"k":"abc","day":"2024-01-01"}`)
	want := `{"day":"2024-01-02","k":"abc","v":2}` + "\nnull\n" + `{"day":"2024-01-01","k":"abc","v":1}` + "\n"
	if got != want {
		t.Fatalf("composite lookup: %q, want %q", got, want)
	}
	// A one-column string key reads a bare word as the string.
	c.ok("", "create", "db.s", "--schema", "k STRING NOT NULL, v INT", "--primary-key", "k")
	c.ok("{\"k\": \"abc\", \"v\": 1}\n{\"k\": \"42\", \"v\": 2}\n", "write", "db.s")
	if got := c.ok("", "lookup", "db.s", "abc", "42", `"abc"`, "abd"); got != "{\"k\":\"abc\",\"v\":1}\n{\"k\":\"42\",\"v\":2}\n{\"k\":\"abc\",\"v\":1}\nnull\n" {
		t.Fatalf("string key: %q", got)
	}
}

func TestCLILookupErrors(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "db.t", "--schema", "day DATE NOT NULL, id INT NOT NULL, v INT", "--primary-key", "day,id")
	c.ok("", "create", "db.u", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id")
	c.ok("", "create", "db.a", "--schema", "id INT, v INT")
	cases := []struct {
		name, stdin string
		args        []string
		code        int
		msg         string
	}{
		{"no keys", "", []string{"lookup", "db.u"}, 2, "give keys"},
		{"no table", "", []string{"lookup"}, 2, "name the table"},
		{"both", "1\n", []string{"lookup", "db.u", "1", "--input", "-"}, 2, "not both"},
		{"wrong type", "", []string{"lookup", "db.u", "1", "abc"}, 2, `key 2, column "id": invalid INT "abc"`},
		{"composite needs object", "", []string{"lookup", "db.t", "1"}, 2, "want a JSON object naming the key columns (day, id)"},
		{"missing column", "", []string{"lookup", "db.t", `{"id": 1}`}, 2, `key 1, column "day": missing key column`},
		{"value column", "", []string{"lookup", "db.u", `{"id": 1, "v": 2}`}, 2, `column "v": not a primary-key column`},
		{"stdin bad key", "1\n\n{\"id\": true}\n", []string{"lookup", "db.u", "--input", "-"}, 1, `stdin: textrow: bad input: key 2 (line 3), column "id": want INT, got boolean`},
		{"bad json", "{\"id\": 1\n", []string{"lookup", "db.u", "--input", "-"}, 1, "key 1 (line 1)"},
		{"missing table", "", []string{"lookup", "db.nope", "1"}, 1, "table db.nope not found"},
		{"append table", "", []string{"lookup", "db.a", "1"}, 1, "lookups need a primary key"},
		{"bad snapshot", "", []string{"lookup", "db.u", "1", "--snapshot", "0"}, 2, "snapshot ids start at 1"},
		{"missing snapshot", "", []string{"lookup", "db.u", "1", "--snapshot", "5"}, 1, "snapshot 5 not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := c.run(tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) || out != "" {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, tc.code, out, errs, tc.msg)
			}
		})
	}
}
