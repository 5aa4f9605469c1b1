// Package javatest gives tests the Java Paimon driver of package paimonjava:
// one driver per test binary, and fixtures Java Paimon wrote. It is the
// only part of the Java harness that imports package testing, so that the
// strata binary (whose bench command drives Java Paimon too) does not.
package javatest

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/stratalake/strata/integration/paimonjava"
)

// shared is the test binary's driver, started on first use.
var shared struct {
	once sync.Once
	d    *paimonjava.Driver
	err  error
}

// Java is what the Java driver needs installed.
var Java = Tool{Missing: paimonjava.ErrNoJava, RequireEnv: paimonjava.RequireEnv, Install: "a JDK (17+) and Maven",
	Apt: "openjdk-17-jdk-headless maven", Tests: "the Java Paimon tests"}

// ForTest returns the test binary's shared driver, started on first use
// and ended when the test binary exits (its stdin closes). Without java
// or mvn on PATH the test is skipped, naming what to install, unless
// STRATA_REQUIRE_JAVA is set: then it fails. Any other problem (a build
// that fails) fails the test.
func ForTest(t testing.TB) *paimonjava.Driver {
	t.Helper()
	shared.once.Do(func() {
		shared.d, shared.err = paimonjava.Start(context.Background())
	})
	Java.Need(t, shared.err)
	return shared.d
}

// Tool is what a peer driver (Java Paimon, Flink, pypaimon) needs
// installed, for the message of a test skipped or failed without it.
type Tool struct {
	Missing    error  // what starting the driver returns without the tool
	RequireEnv string // when set, a missing tool fails the test instead of skipping it
	Install    string // what to install, e.g. "a JDK (17+) and Maven"
	Apt        string // its Debian packages
	Tests      string // the tests that need it
}

// Need skips t when err (starting the driver) says the tool is missing,
// or fails it when RequireEnv is set; any other error fails it.
func (tl Tool) Need(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, tl.Missing) {
		if os.Getenv(tl.RequireEnv) != "" {
			t.Fatalf("%v, and %s is set: install %s (apt-get install %s)", err, tl.RequireEnv, tl.Install, tl.Apt)
		}
		t.Skipf("%v: install %s to run %s (set %s=1 to make this a failure)", err, tl.Install, tl.Tests, tl.RequireEnv)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Fixture returns a warehouse directory holding db.<r.Name> as Java Paimon
// wrote it by r (paimonjava.CachedFixture), generated with the test
// binary's driver when it is not cached: skipped or failed without Java as
// any Java test. The directory is shared: tests copy it before writing.
func Fixture(t testing.TB, r paimonjava.Recipe) string {
	t.Helper()
	dir, err := paimonjava.CachedFixture(context.Background(), r, func() (*paimonjava.Driver, error) { return ForTest(t), nil })
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
