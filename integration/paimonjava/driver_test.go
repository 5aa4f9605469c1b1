package paimonjava

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSourceStampFollowsSources(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pom.xml", "<project/>")
	write("src/main/java/A.java", "class A {}")
	a, err := sourceStamp(dir)
	if err != nil {
		t.Fatal(err)
	}
	write("target/classes/A.class", "built") // build output does not count
	if b, _ := sourceStamp(dir); b != a {
		t.Fatal("the stamp changed with a file under target/")
	}
	write("src/main/java/A.java", "class A { int x; }")
	b, err := sourceStamp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b == a {
		t.Fatal("the stamp did not change with a source file")
	}
	write("src/main/java/B.java", "")
	if c, _ := sourceStamp(dir); c == b {
		t.Fatal("the stamp did not change with a new, empty source file")
	}
}
