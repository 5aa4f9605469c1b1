package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/stratalake/strata/integration/paimonjava"
)

// JavaDriver builds the Java Paimon driver of the Maven project in dir
// (integration/java; "": found by FindJavaProject from the working
// directory) and returns a JavaPeerConfig.Java running one of its commands
// in a JVM of its own (C2 and a 4 GB heap: the peer figures are measured
// there). Without java or mvn on PATH the error wraps
// paimonjava.ErrNoJava.
func JavaDriver(ctx context.Context, dir string) (func(ctx context.Context, stdin string, args ...string) ([]byte, error), error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if dir, err = FindJavaProject(wd); err != nil {
			return nil, err
		}
	}
	cp, err := paimonjava.Build(ctx, dir)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, stdin string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "java", append([]string{"-Xmx4g", "-cp", cp,
			"org.stratalake.paimondriver.Main"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("paimon-driver %s: %w\n%s", strings.Join(args, " "), err, tail(stderr.String(), 4000))
		}
		return out, nil
	}, nil
}

// FindJavaProject looks for integration/java (the driver's Maven project)
// in dir and its parents, then beside the paimonjava package's sources.
func FindJavaProject(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "integration", "java")
		if _, err := os.Stat(filepath.Join(p, "pom.xml")); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if p := paimonjava.ProjectDir(); fileExists(filepath.Join(p, "pom.xml")) {
		return p, nil
	}
	return "", fmt.Errorf("no integration/java in %s or its parents (run from the Strata repository)", dir)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, os.ErrNotExist)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
