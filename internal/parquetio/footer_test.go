package parquetio

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
)

// Files whose footer gives a schema element about a billion children: the
// fuzzer found them (testdata/fuzz/FuzzOpen), and arrow-go would allocate
// 16 GiB for the children before checking them, which kills the process
// where memory is short (`ulimit -v 3000000` shows it). Open refuses them
// before arrow-go sees the footer.
func TestOpenRefusesHugeSchemaCounts(t *testing.T) {
	for _, name := range []string{"aa0bc5a388c2477a", "f127e3a242416804"} {
		b, err := os.ReadFile("testdata/fuzz/FuzzOpen/" + name)
		if err != nil {
			t.Fatal(err)
		}
		// The corpus file is Go's fuzz encoding: a header line, then []byte("...").
		data := fuzzBytes(t, b)
		_, err = Open(bytes.NewReader(data), int64(len(data)))
		if !errors.Is(err, spec.ErrCorrupt) || !strings.Contains(err.Error(), "children among") {
			t.Errorf("%s: Open = %v, want ErrCorrupt for the schema element's children", name, err)
		}
	}
	// A valid file still opens through the checked footer.
	data := writeFile(t, allTypes(), allTypesRows())
	if _, err := Open(bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

// fuzzBytes decodes a one-value corpus file of Go's fuzzer ("go test fuzz
// v1" then a []byte literal).
func fuzzBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	lines := strings.SplitN(strings.TrimSpace(string(b)), "\n", 2)
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("not a []byte corpus file: %.40q", b)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}
