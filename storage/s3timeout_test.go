package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalake/strata/storage"
)

// stubReadTimeout is the read timeout of the storage stubS3 returns.
const stubReadTimeout = time.Second

// stubS3 returns an S3 storage (bucket "b", no prefix, two attempts, a read
// timeout of stubReadTimeout) on an HTTP server answering every request
// with h, and the number of requests the server got. The server's
// connections keep a fixed receive buffer of 1 MiB, so that what the
// client has sent but the handler has not read stays below a few MiB.
func stubS3(t *testing.T, h http.HandlerFunc) (*storage.S3, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	stop := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// A handler that has not read the whole request does not hear of
		// the client hanging up: the end of the test stops it.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		h(w, r.WithContext(ctx))
	}))
	srv.Listener = smallBufListener{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // before srv.Close, which waits for the handlers
	s, err := storage.NewS3(context.Background(), "b", "",
		storage.WithEndpoint(srv.URL), storage.WithRegion("us-east-1"),
		storage.WithStaticCredentials("key", "secret", ""),
		storage.WithRetry(2, time.Millisecond, time.Millisecond),
		storage.WithReadTimeout(stubReadTimeout))
	if err != nil {
		t.Fatal(err)
	}
	return s, &requests
}

type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(1 << 20)
	}
	return c, err
}

// waitForHangUp is a server that went silent: it answers nothing until the
// client gives up.
func waitForHangUp(r *http.Request) { <-r.Context().Done() }

// The read timeout is how long a connection may stay silent, not a bound
// on a whole transfer: an upload or download that keeps moving, slower in
// all than the timeout, succeeds in one attempt, and a server that goes
// silent before its answer, inside its body or while the request's body is
// sent fails each attempt after about the timeout. (The timeout was the
// SDK's per-connection read deadline, which also ran while the request was
// sent: an upload taking longer than the timeout, such as an 8 MiB part on
// a slow link, failed every attempt.)
func TestS3ReadTimeoutIsIdleTimeout(t *testing.T) {
	ctx := context.Background()
	// A slow transfer is pieces pieces with a pause after each: longer in
	// all than the read timeout, never silent for more than a tenth of it
	// (a margin for a busy machine).
	const pause = stubReadTimeout / 10
	const piece, pieces = 64 << 10, 16
	object := bytes.Repeat([]byte("0123456789abcdef"), 16<<20/16)

	t.Run("slow-upload", func(t *testing.T) {
		t.Parallel()
		var got atomic.Int64
		s, requests := stubS3(t, func(w http.ResponseWriter, r *http.Request) {
			// The first pieces slowly, then the rest at once: 15 MiB, more
			// than the client's and the server's buffers hold, so the client
			// is still sending when the server turns fast. (Only then does
			// the wait for the answer start; data still in the buffers is
			// silence to the client.)
			buf := make([]byte, piece)
			var n int64
			for range pieces {
				k, err := io.ReadFull(r.Body, buf)
				n += int64(k)
				if err != nil {
					break
				}
				time.Sleep(pause)
			}
			k, _ := io.Copy(io.Discard, r.Body)
			got.Store(n + k)
			w.Header().Set("ETag", `"stub"`)
		})
		start := time.Now()
		if err := s.Put(ctx, "obj", object); err != nil {
			t.Fatalf("slow but steady upload: %v", err)
		}
		if n := got.Load(); n != int64(len(object)) {
			t.Fatalf("server read %d bytes, want %d", n, len(object))
		}
		if n := requests.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		t.Logf("upload took %v with a read timeout of %v", time.Since(start), stubReadTimeout)
	})

	t.Run("slow-download", func(t *testing.T) {
		t.Parallel()
		s, requests := stubS3(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(pieces*piece))
			for i := range pieces {
				w.Write(object[i*piece : (i+1)*piece])
				w.(http.Flusher).Flush()
				time.Sleep(pause)
			}
		})
		got, err := s.Get(ctx, "obj")
		if err != nil {
			t.Fatalf("slow but steady download: %v", err)
		}
		if !bytes.Equal(got, object[:pieces*piece]) {
			t.Fatalf("got %d bytes, not the object's first %d", len(got), pieces*piece)
		}
		if n := requests.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
	})

	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		run  func(s *storage.S3) error
	}{
		{"silent-before-answer", func(w http.ResponseWriter, r *http.Request) { waitForHangUp(r) },
			func(s *storage.S3) error { _, err := s.Get(ctx, "obj"); return err }},
		{"silent-in-body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(2*piece))
			w.Write(object[:piece])
			w.(http.Flusher).Flush()
			waitForHangUp(r)
		}, func(s *storage.S3) error { _, err := s.Get(ctx, "obj"); return err }},
		{"silent-in-range-body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(2*piece))
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", 2*piece-1, len(object)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(object[:piece])
			w.(http.Flusher).Flush()
			waitForHangUp(r)
		}, func(s *storage.S3) error { _, err := s.GetRange(ctx, "obj", 0, 2*piece); return err }},
		{"silent-while-sending", func(w http.ResponseWriter, r *http.Request) {
			io.CopyN(io.Discard, r.Body, piece)
			waitForHangUp(r)
		}, func(s *storage.S3) error { return s.Put(ctx, "obj", object) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, requests := stubS3(t, tc.h)
			start := time.Now()
			err := tc.run(s)
			took := time.Since(start)
			var timeout interface{ Timeout() bool }
			if err == nil || !errors.As(err, &timeout) || !timeout.Timeout() {
				t.Fatalf("against a silent server: %v, want a timeout", err)
			}
			if n := requests.Load(); n != 2 {
				t.Errorf("%d requests, want 2 (each attempt timing out)", n)
			}
			if took > 10*stubReadTimeout {
				t.Errorf("two attempts took %v with a read timeout of %v", took, stubReadTimeout)
			}
		})
	}
}
