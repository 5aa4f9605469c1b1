package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// A response body that ends before the length its headers announce is a
// transfer that broke, retried like a reset, whether the request was for
// a range or the whole object; only a range the object does not reach is
// the short read GetRange reports as io.ErrUnexpectedEOF (which readers
// take for a damaged file). (A ranged body cut short was that short read,
// not retried: a Parquet file read through a flaky connection was
// reported corrupt.)
func TestS3BodyCutShortIsRetried(t *testing.T) {
	ctx := context.Background()
	object := bytes.Repeat([]byte("0123456789"), 100)
	var cuts atomic.Int64 // answers still to cut short; -1: all of them
	s, requests := stubS3(t, func(w http.ResponseWriter, r *http.Request) {
		body, status := object, http.StatusOK
		if rng := r.Header.Get("Range"); rng != "" {
			var first, last int
			if _, err := fmt.Sscanf(rng, "bytes=%d-%d", &first, &last); err != nil || first >= len(object) {
				t.Errorf("unexpected range %q", rng)
				return
			}
			last = min(last, len(object)-1)
			body, status = object[first:last+1], http.StatusPartialContent
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(object)))
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		if n := cuts.Load(); n != 0 {
			if n > 0 {
				cuts.Add(-1)
			}
			// Half the body, then the server closes the connection (it
			// wrote less than it announced): the client reads an early EOF.
			body = body[:len(body)/2]
		}
		w.Write(body)
	})
	get := func(offset, length int64) func() ([]byte, error) {
		if length < 0 {
			return func() ([]byte, error) { return s.Get(ctx, "obj") }
		}
		return func() ([]byte, error) { return s.GetRange(ctx, "obj", offset, length) }
	}
	for _, tc := range []struct {
		name           string
		cuts           int64
		read           func() ([]byte, error)
		want           []byte // nil: an error
		shortRead      bool   // the error is io.ErrUnexpectedEOF
		wantRequests   int64
		wantErrMessage string
	}{
		{"range-cut-once", 1, get(100, 300), object[100:400], false, 2, ""},
		{"range-to-the-end-cut-once", 1, get(700, 300), object[700:], false, 2, ""},
		{"whole-cut-once", 1, get(0, -1), object, false, 2, ""},
		{"range-cut-always", -1, get(100, 300), nil, false, 2, "cut short after 150 of 300 bytes"},
		{"whole-cut-always", -1, get(0, -1), nil, false, 2, "cut short after 500 of 1000 bytes"},
		{"range-past-end", 0, get(900, 200), nil, true, 1, "past end"},
		{"range-past-end-cut-once", 1, get(900, 200), nil, true, 2, "past end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cuts.Store(tc.cuts)
			before := requests.Load()
			got, err := tc.read()
			if n := requests.Load() - before; n != tc.wantRequests {
				t.Errorf("%d requests, want %d", n, tc.wantRequests)
			}
			if tc.want != nil {
				if err != nil || !bytes.Equal(got, tc.want) {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(tc.want))
				}
				return
			}
			if err == nil {
				t.Fatalf("got %d bytes, want an error", len(got))
			}
			if errors.Is(err, io.ErrUnexpectedEOF) != tc.shortRead {
				t.Errorf("error %v: short read (io.ErrUnexpectedEOF) %v, want %v", err, !tc.shortRead, tc.shortRead)
			}
			if !strings.Contains(err.Error(), tc.wantErrMessage) {
				t.Errorf("error %q does not say %q", err, tc.wantErrMessage)
			}
		})
	}
}
