package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// recordingStorage records every path the server asks its storage for, and
// every write, which a lookup server never makes.
type recordingStorage struct {
	storage.Storage
	mu     sync.Mutex
	reads  []string
	writes []string
}

func (r *recordingStorage) read(p string) {
	r.mu.Lock()
	r.reads = append(r.reads, p)
	r.mu.Unlock()
}

func (r *recordingStorage) write(p string) {
	r.mu.Lock()
	r.writes = append(r.writes, p)
	r.mu.Unlock()
}

func (r *recordingStorage) Get(ctx context.Context, p string) ([]byte, error) {
	r.read(p)
	return r.Storage.Get(ctx, p)
}

func (r *recordingStorage) GetRange(ctx context.Context, p string, off, n int64) ([]byte, error) {
	r.read(p)
	return r.Storage.GetRange(ctx, p, off, n)
}

func (r *recordingStorage) List(ctx context.Context, p string, rec bool) ([]storage.FileInfo, error) {
	r.read(p)
	return r.Storage.List(ctx, p, rec)
}

func (r *recordingStorage) Stat(ctx context.Context, p string) (storage.FileInfo, error) {
	r.read(p)
	return r.Storage.Stat(ctx, p)
}

func (r *recordingStorage) Put(ctx context.Context, p string, b []byte) error {
	r.write(p)
	return r.Storage.Put(ctx, p, b)
}

func (r *recordingStorage) PutIfAbsent(ctx context.Context, p string, b []byte) error {
	r.write(p)
	return r.Storage.PutIfAbsent(ctx, p, b)
}

func (r *recordingStorage) Create(ctx context.Context, p string) (storage.ObjectWriter, error) {
	r.write(p)
	return r.Storage.Create(ctx, p)
}

func (r *recordingStorage) Delete(ctx context.Context, p string) error {
	r.write(p)
	return r.Storage.Delete(ctx, p)
}

// checkInside fails the test for every path the server touched that is
// not inside a database directory of the warehouse, or is not a clean
// relative path, and for any write.
func (r *recordingStorage) checkInside(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reads) == 0 {
		t.Error("the server read nothing through the recording storage")
	}
	if len(r.writes) > 0 {
		t.Errorf("the server wrote to the warehouse: %q", r.writes)
	}
	for _, p := range r.reads {
		first, _, _ := strings.Cut(p, "/")
		db, ok := strings.CutSuffix(first, ".db")
		clean := p == filepath.ToSlash(filepath.Clean(p)) && !strings.HasPrefix(p, "/") && !strings.ContainsAny(p, "\\\x00")
		if p == "" || !ok || catalog.ValidateName(db) != nil || !clean {
			t.Errorf("the server touched %q, outside the warehouse's databases", p)
		}
	}
}

// rawAnswer is an answer read off a raw connection.
type rawAnswer struct {
	status int
	body   string
	err    error // the connection failed before an answer came
}

// rawRoundTrip sends req as it is on a new connection and reads one
// answer (or the connection's end).
func rawRoundTrip(addr, req string) rawAnswer {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return rawAnswer{err: err}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return rawAnswer{err: err}
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return rawAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, body: string(b), err: err}
}

// errorCode is the code of a JSON error answer, or "" if the body is not one.
func errorCode(body string) string {
	var e errorBody
	if json.Unmarshal([]byte(body), &e) != nil {
		return ""
	}
	return e.Error.Code
}

// localWarehouse is a local warehouse, root/wh, holding db.users and a
// table named in non-ASCII letters, next to tables a request must never
// reach: root/secret.db/t and root/outside/secret.db/t. It returns the
// warehouse's storage, recorded, and root.
func localWarehouse(t *testing.T) (*recordingStorage, string) {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	for _, dir := range []string{filepath.Join(root, "outside"), root} {
		fs, err := storage.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		mustCreate(t, catalog.New(fs), catalog.Identifier{Database: "secret", Table: "t"})
	}
	fs, err := storage.Open(ctx, filepath.Join(root, "wh"))
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(fs)
	mustCreate(t, cat, catalog.Identifier{Database: "db", Table: "users"})
	mustCreate(t, cat, catalog.Identifier{Database: "ｄｂ", Table: "ünï"})
	return &recordingStorage{Storage: fs}, root
}

// mustCreate creates a table (id BIGINT primary key, v STRING) holding id 1.
func mustCreate(t *testing.T, cat *catalog.Catalog, id catalog.Identifier) {
	t.Helper()
	fields, err := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := cat.CreateTable(context.Background(), id, sc)
	if err != nil {
		t.Fatal(err)
	}
	w := &warehouse{t: t}
	w.commit(tb, spec.RowKindInsert, spec.Row{int64(1), "secret of " + id.String()})
}

// hostileNames are table names a request may put in the URL (as sent, so
// escaped or not) to reach outside the warehouse or confuse the catalog.
var hostileNames = []string{
	"..", "...", "db..", "..db", ".users", "db.", "%2e%2e", "%2E%2E", "db.%2e%2e", "%2e%2e.users",
	"..%2fsecret.t", "..%2Foutside%2Fsecret.t", "%2e%2e%2f%2e%2e%2fsecret.t", "db%2f..%2f..%2fsecret.t",
	"%2fetc%2fpasswd", "%2f", "%5c..%5csecret.t", "..%5c..%5csecret.t", "db.users%2f..%2f..%2f..%2fsecret.t",
	"%252e%252e", "%252e%252e%252fsecret.t", "%c0%ae%c0%ae%c0%afsecret.t", "%ef%bc%8e%ef%bc%8e", "%ef%bc%8fsecret.t",
	"%e2%80%ae", "db.users%e2%80%8b", "db.us%cc%81ers", "%ff%fe", "%", "%2", "%zz", "db%00.users", "db.users%00",
	"db.users%00.txt", "%00", "secret.t%00", "~", "~root", "$HOME", "db.users%20", "%20", "db.users%0d%0aX-Injected:%201",
	"db.users$branch_dev", "db.users$snapshots", "db.users$schemas", "db.users@tag", "db.users;v=1",
	"db.users:alt", "db.users*", "C:", "c:%5cwindows", "secret.t", "outside.t", "wh.db.users", "DB.USERS",
	strings.Repeat("a", 256), "db." + strings.Repeat("t", 256), strings.Repeat("a", 255) + "." + strings.Repeat("b", 255),
	strings.Repeat("%2e", 300), strings.Repeat("x", 4000),
	"\xff\xfe", "db.\xc0\xaf", "db.users\x7f",
}

// Names in the URL can never reach outside the warehouse: every hostile
// name is refused with a JSON 4xx, the outside table is never served, and
// the server reads only inside the warehouse's databases (and writes
// nothing), whether it serves every table or a fixed set.
func TestHostileNames(t *testing.T) {
	for _, fixed := range []bool{false, true} {
		t.Run(fmt.Sprintf("fixed=%v", fixed), func(t *testing.T) {
			fs, _ := localWarehouse(t)
			var opts []Option
			if fixed {
				opts = append(opts, WithTables(catalog.Identifier{Database: "db", Table: "users"}))
			}
			w := &warehouse{t: t, cat: catalog.New(fs)}
			_, hs, logs := w.start(append(opts, WithMaxHeaderBytes(8<<10))...)
			addr := strings.TrimPrefix(hs.URL, "http://")
			body := `{"keys": [1]}`
			check := func(what, target string) {
				t.Helper()
				req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, len(body), body)
				a := rawRoundTrip(addr, req)
				if a.err != nil {
					t.Errorf("%s %q: %v", what, target, a.err)
					return
				}
				code := errorCode(a.body)
				if a.status < 400 || a.status > 499 || code == "" || strings.Contains(a.body, "secret of") {
					t.Errorf("%s %q: %d %s; want a JSON 4xx", what, target, a.status, a.body)
				}
			}
			for _, name := range hostileNames {
				check("name", "/v1/tables/"+name+"/lookup")
			}
			for _, target := range []string{
				"/v1/tables/../../outside/secret.t/lookup", "/v1/tables/db.users/../../secret.t/lookup",
				"/v1/tables/%2e%2e/%2e%2e/secret.t/lookup", "/v1/tables//lookup", "/v1/tables/db.users//lookup",
				"/v1/tables/./db.users/lookup", "/v1/tables/db.users/lookup/", "//v1/tables/secret.t/lookup",
				"http://x/v1/tables/..%2fsecret.t/lookup", "http://x/../v1/tables/secret.t/lookup",
				"/v1/tables/db.users/lookup%00", "/v1/tables/" + strings.Repeat("a", 10<<10) + "/lookup",
			} {
				check("target", target)
			}
			// The real tables are still served, non-ASCII names too.
			for name, want := range map[string]string{"db.users": "secret of db.users", "%ef%bd%84%ef%bd%82.%c3%bcn%c3%af": "secret of ｄｂ.ünï"} {
				if fixed && name != "db.users" {
					continue
				}
				req := fmt.Sprintf("POST /v1/tables/%s/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", name, len(body), body)
				if a := rawRoundTrip(addr, req); a.status != 200 || !strings.Contains(a.body, want) {
					t.Errorf("%s: %d %s %v", name, a.status, a.body, a.err)
				}
			}
			fs.checkInside(t)
			if strings.Contains(logs.String(), "panic") {
				t.Errorf("the server panicked: %s", logs)
			}
		})
	}
}
