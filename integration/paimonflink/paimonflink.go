// Package paimonflink runs Apache Flink with Apache Paimon's Flink
// connector from Go tests: it builds the Flink driver in integration/flink
// with Maven (once, when its sources change) and keeps one driver process
// serving SQL, with one Flink MiniCluster inside it for all its jobs.
//
// The driver's commands are described in integration/flink/README.md. It
// speaks the Java driver's serve protocol, so a Driver is a
// paimonjava.Driver with SQL methods. Tests call ForTest, which skips when
// Java or Maven is missing, unless STRATA_REQUIRE_FLINK is set (CI sets
// it), in which case it fails.
package paimonflink

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/integration/paimonjava/javatest"
)

// RequireEnv is the environment variable that turns a missing Java or
// Maven from a skip into a failure.
const RequireEnv = "STRATA_REQUIRE_FLINK"

// ProfilesEnv lists the Maven profiles of integration/flink/pom.xml the
// tests run, comma-separated: "default" (Flink 2.0 with paimon-flink-2.0
// 1.4.2, the default when unset) and "flink-1.20" (Flink 1.20 with
// paimon-flink-1.20 1.3.1, the newest release of that connector Maven
// Central serves).
const ProfilesEnv = "STRATA_FLINK_PROFILES"

// Profiles is the profiles ProfilesEnv asks for, "" standing for the
// default one.
func Profiles() []string {
	v := os.Getenv(ProfilesEnv)
	if v == "" {
		return []string{""}
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "default" {
			out = append(out, "")
		} else if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ProjectDir is the Flink driver's Maven project: integration/flink beside
// this package.
func ProjectDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "flink")
}

// Driver is one running Flink driver process. Its methods may be called
// from several goroutines; commands run one at a time.
type Driver struct {
	*paimonjava.Driver
}

// Start builds the driver with the Maven profile profile ("": the default)
// if needed and starts a serving process. Its MiniCluster starts with the
// first SQL command.
func Start(ctx context.Context, profile string) (*Driver, error) {
	cp, err := paimonjava.BuildProfile(ctx, ProjectDir(), profile)
	if err != nil {
		return nil, err
	}
	// The process outlives ctx (Close ends it), so it is not tied to it.
	d, err := paimonjava.StartCommand(exec.Command("java",
		"-XX:+UseSerialGC", "-Xmx1536m",
		"-cp", cp, "org.stratalake.flinkdriver.Main", "serve"))
	if err != nil {
		return nil, err
	}
	return &Driver{d}, nil
}

// Exec runs SQL statements in batch mode over warehouse's Paimon catalog,
// one after another, each awaited. Each statement ends with a ';' at the
// end of a line.
func (d *Driver) Exec(ctx context.Context, warehouse, sql string) error {
	_, err := d.Run(ctx, sql, "exec", warehouse)
	return err
}

// Query runs one batch query over warehouse's Paimon catalog and returns
// its rows as JSON Lines in Strata's value format, named by the query's
// columns, in the order Flink returned them.
func (d *Driver) Query(ctx context.Context, warehouse, sql string) ([]string, error) {
	out, err := d.Run(ctx, sql, "query", warehouse)
	return lines(out), err
}

// Version is what the driver runs: Flink's version and the Paimon
// connector's jar file name, as JSON.
func (d *Driver) Version(ctx context.Context) (string, error) {
	out, err := d.Run(ctx, "", "version")
	return strings.TrimSpace(out), err
}

// Stream is a streaming query running in the driver's MiniCluster.
type Stream struct {
	d  *Driver
	id string
}

// StartStream starts a streaming query over warehouse's Paimon catalog and
// returns at once; Take reads its rows.
func (d *Driver) StartStream(ctx context.Context, warehouse, sql string) (*Stream, error) {
	out, err := d.Run(ctx, sql, "stream-start", warehouse)
	if err != nil {
		return nil, err
	}
	var m struct {
		Stream *int `json:"stream"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.Stream == nil {
		return nil, fmt.Errorf("paimonflink: stream-start printed %q", out)
	}
	return &Stream{d: d, id: strconv.Itoa(*m.Stream)}, nil
}

// Take waits up to timeout for the stream's next n rows and returns them
// as JSON Lines, each with its _kind. Fewer rows by then is an error that
// lists the rows that came.
func (s *Stream) Take(ctx context.Context, n int, timeout time.Duration) ([]string, error) {
	out, err := s.d.Run(ctx, "", "stream-take", s.id, "--count", strconv.Itoa(n),
		"--timeout-ms", strconv.FormatInt(timeout.Milliseconds(), 10))
	return lines(out), err
}

// Stop waits grace, cancels the query's job and returns the rows it
// returned that Take did not.
func (s *Stream) Stop(ctx context.Context, grace time.Duration) ([]string, error) {
	out, err := s.d.Run(ctx, "", "stream-stop", s.id, "--grace-ms", strconv.FormatInt(grace.Milliseconds(), 10))
	return lines(out), err
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

var shared struct {
	mu      sync.Mutex
	drivers map[string]*started
}

type started struct {
	d   *Driver
	err error
}

// ForTest returns the test binary's shared Flink driver of profile (""
// for the default), started on first use and ended when the test binary
// exits. Without java or mvn on PATH the test is skipped, unless
// STRATA_REQUIRE_FLINK is set: then it fails. Any other problem (a build
// that fails) fails the test.
func ForTest(t testing.TB, profile string) *Driver {
	t.Helper()
	shared.mu.Lock()
	s, ok := shared.drivers[profile]
	if !ok {
		s = &started{}
		s.d, s.err = Start(context.Background(), profile)
		if shared.drivers == nil {
			shared.drivers = map[string]*started{}
		}
		shared.drivers[profile] = s
	}
	shared.mu.Unlock()
	javatest.Tool{Missing: paimonjava.ErrNoJava, RequireEnv: RequireEnv, Install: "a JDK (17+) and Maven",
		Apt: "openjdk-17-jdk-headless maven", Tests: "the Flink tests"}.Need(t, s.err)
	return s.d
}
