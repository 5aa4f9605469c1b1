package server

import (
	"strings"
	"testing"
	"time"
)

// The limits are small in these tests and the bounds on how long the
// server takes to enforce them generous (seconds over a limit of 300 ms),
// so that a loaded machine cannot fail them; each test checks that what
// it waits for is the limit, not another timeout or the client's end.

// slack is how late a limit may be enforced.
const slack = 5 * time.Second

// A request's time is bounded: a lookup whose table is slow to open is
// answered 500 after the write timeout, while the open goes on; once it
// is done the table is served.
func TestRequestTimeBounded(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	const timeout = 300 * time.Millisecond
	_, hs, logs := w.start(WithTimeouts(0, timeout, 0))
	entered, release := w.fs.hold("/schema/")
	defer release()
	start := time.Now()
	r := lookup(t, hs.URL, "db.users", `{"keys": [1]}`)
	took := time.Since(start)
	<-entered
	wantError(t, r, 500, codeInternal, "opening table db.users failed")
	if took < timeout || took > timeout+slack {
		t.Errorf("answered after %v, want about %v", took, timeout)
	}
	release()
	eventually(t, "the table to be served", func() bool { return lookup(t, hs.URL, "db.users", `{"keys": [1]}`).status == 200 })
	if !strings.Contains(logs.String(), "deadline exceeded") {
		t.Errorf("the log does not say why: %s", logs)
	}
}
