package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// javaDriver is JavaDriver for the Java project beside paimonjava; it
// skips the test without java or mvn unless STRATA_REQUIRE_JAVA is set.
func javaDriver(t *testing.T) func(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	t.Helper()
	java, err := JavaDriver(context.Background(), paimonjava.ProjectDir())
	if errors.Is(err, paimonjava.ErrNoJava) && os.Getenv(paimonjava.RequireEnv) == "" {
		t.Skipf("%v: install a JDK (17+) and Maven for the Java peer figures", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return java
}

// The peer run on a small scale: both engines write the same stream (Strata
// reads Java's table and finds its own rows), and both read the lookup
// table warm.
func TestJavaPeerSmall(t *testing.T) {
	java := javaDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := DefaultJavaPeerConfig()
	cfg.Write.Rows, cfg.Write.KeySpace, cfg.Write.Buckets, cfg.Write.CommitEvery = 20_000, 15_000, 2, 5_000
	cfg.LookupRows, cfg.LookupSample, cfg.LookupDuration = 20_000, 1_000, 200*time.Millisecond
	cfg.Dir, cfg.Java, cfg.Tuned = t.TempDir(), java, "lookup.cache-max-memory-size=1gb"
	rep, err := RunJavaPeer(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.StrataWrite.Rows != 20_000 || rep.JavaWrite.Rows != 20_000 || rep.JavaWrite.BytesWritten <= 0 {
		t.Errorf("write figures %+v / %+v", rep.StrataWrite, rep.JavaWrite)
	}
	for _, w := range []WriteResult{rep.StrataWrite, rep.JavaWrite} {
		if w.FirstTenthPerSec <= 0 || w.LastTenthPerSec <= 0 || w.FirstTenthSeconds >= w.Seconds || w.LastTenthSeconds >= w.Seconds {
			t.Errorf("%s: tenths %+v", w.Engine, w)
		}
		if runtime.GOOS == "linux" && w.PeakRSS <= 0 {
			t.Errorf("%s: no peak RSS on Linux", w.Engine)
		}
	}
	if rep.Tuned == nil || rep.Tuned.Options != cfg.Tuned {
		t.Fatalf("tuned figures %+v", rep.Tuned)
	}
	for _, l := range []PeerLookup{rep.StrataLookup, rep.JavaLookup, rep.Tuned.Strata, rep.Tuned.Java} {
		if l.Hits.Ops == 0 || l.Misses.Ops == 0 || l.Hits.P50us <= 0 || l.Hits.P99us < l.Hits.P50us {
			t.Errorf("lookup figures %+v", l)
		}
	}
	fs, err := storage.NewLocal(filepath.Join(cfg.Dir, "lookup"))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := table.Open(ctx, fs, lookupTablePath)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := tb.Schema().Options.Get("lookup.cache-max-memory-size"); v != "1gb" || tb.Schema().ID == 0 {
		t.Errorf("after Java's alter the lookup table has schema %d with lookup.cache-max-memory-size %q", tb.Schema().ID, v)
	}
	strata := peerRows(t, filepath.Join(cfg.Dir, "strata"))
	javaRows := peerRows(t, filepath.Join(cfg.Dir, "java"))
	if len(strata) < 10_000 || strings.Join(strata, "\n") != strings.Join(javaRows, "\n") {
		t.Errorf("Java's table (%d rows) differs from Strata's (%d rows) after the same stream", len(javaRows), len(strata))
	}
	t.Log("\n" + rep.Markdown())
}

// peerRows scans warehouse's bench.upserts with Strata, as sorted lines.
func peerRows(t *testing.T, warehouse string) []string {
	t.Helper()
	ctx := context.Background()
	fs, err := storage.Open(ctx, warehouse)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := catalog.New(fs).GetTable(ctx, catalog.Identifier{Database: "bench", Table: "upserts"})
	if err != nil {
		t.Fatal(err)
	}
	enc := textrow.NewJSONEncoder(nil, tb.Schema().Fields)
	var out []string
	for row, err := range tb.NewScan().Rows(ctx) {
		if err != nil {
			t.Fatalf("scanning %s: %v", warehouse, err)
		}
		b, err := enc.AppendRow(nil, row)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}
