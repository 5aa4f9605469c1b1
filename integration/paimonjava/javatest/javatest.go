// Package javatest gives tests the Java Paimon driver of package paimonjava:
// one driver per test binary, and fixtures Java Paimon wrote. It is the
// only part of the Java harness that imports package testing, so that the
// strata binary (whose bench command drives Java Paimon too) does not.
package javatest

import (
	"context"
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
	if shared.err == paimonjava.ErrNoJava {
		if os.Getenv(paimonjava.RequireEnv) != "" {
			t.Fatalf("%v, and %s is set: install a JDK (17+) and Maven (apt-get install openjdk-17-jdk-headless maven)", shared.err, paimonjava.RequireEnv)
		}
		t.Skipf("%v: install a JDK (17+) and Maven to run the Java Paimon tests (set %s=1 to make this a failure)", shared.err, paimonjava.RequireEnv)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.d
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
