package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/faultproxy"
	"github.com/stratalake/strata/internal/miniotest"
	"github.com/stratalake/strata/storage"
)

// retryAttempts is the attempts the tests' S3 client makes.
const retryAttempts = 4

// flakyS3 returns an S3 storage on MinIO behind a fault-injecting proxy,
// with quick retries and a short read timeout.
func flakyS3(t *testing.T) (*storage.S3, *faultproxy.Proxy, string) {
	t.Helper()
	srv := miniotest.Shared(t)
	bucket := miniotest.BucketName(t)
	srv.NewBucket(t, bucket)
	p := faultproxy.Start(t, srv.Endpoint)
	p.Delay = 3 * time.Second
	s, err := storage.NewS3(context.Background(), bucket, "wh",
		storage.WithEndpoint(p.URL), storage.WithRegion(miniotest.Region),
		storage.WithStaticCredentials(srv.AccessKey, srv.SecretKey, ""),
		storage.WithRetry(retryAttempts, 5*time.Millisecond, 20*time.Millisecond),
		storage.WithReadTimeout(300*time.Millisecond),
		storage.WithPartSize(storage.MinPartSize))
	if err != nil {
		t.Fatal(err)
	}
	return s, p, bucket
}

// Every operation survives transient failures of each kind: answered 500
// or 503 SlowDown, stalled past the read timeout, reset before an answer,
// reset halfway through the body, or (for idempotent writes) reset after
// the server acted on it.
func TestS3RetriesTransientFaults(t *testing.T) {
	s, p, _ := flakyS3(t)
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), (storage.MinPartSize+4096)/16)
	if err := s.Put(ctx, "obj", big); err != nil {
		t.Fatal(err)
	}
	type op struct {
		name, method, match string
		body                bool // a response with a body to cut short
		idempotent          bool
		run                 func(i int) error
	}
	ops := []op{
		{"get", "GET", "/wh/obj", true, true, func(int) error {
			got, err := s.Get(ctx, "obj")
			if err == nil && !bytes.Equal(got, big) {
				return fmt.Errorf("got %d bytes, want %d", len(got), len(big))
			}
			return err
		}},
		{"get-range", "GET", "/wh/obj", true, true, func(int) error {
			got, err := s.GetRange(ctx, "obj", 100, 1<<20)
			if err == nil && !bytes.Equal(got, big[100:100+1<<20]) {
				return fmt.Errorf("wrong range bytes")
			}
			return err
		}},
		{"stat", "HEAD", "/wh/obj", false, true, func(int) error {
			fi, err := s.Stat(ctx, "obj")
			if err == nil && fi.Size != int64(len(big)) {
				return fmt.Errorf("size %d", fi.Size)
			}
			return err
		}},
		{"list", "GET", "list-type", true, true, func(int) error {
			infos, err := s.List(ctx, "", true)
			if err == nil && len(infos) == 0 {
				return errors.New("empty listing")
			}
			return err
		}},
		{"put", "PUT", "/wh/put-", false, true, func(i int) error {
			return s.Put(ctx, fmt.Sprintf("put-%d", i), []byte("x"))
		}},
		{"put-if-absent", "PUT", "/wh/pia-", false, false, func(i int) error {
			return s.PutIfAbsent(ctx, fmt.Sprintf("pia-%d", i), []byte("x"))
		}},
		{"delete", "DELETE", "/wh/del-", false, true, func(i int) error {
			k := fmt.Sprintf("del-%d", i)
			if err := s.Put(ctx, k, []byte("x")); err != nil {
				return err
			}
			if err := s.Delete(ctx, k); err != nil {
				return err
			}
			if _, err := s.Stat(ctx, k); !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("still there: %v", err)
			}
			return nil
		}},
		{"upload-part", "PUT", "partNumber=", false, true, func(i int) error {
			return createBig(ctx, s, fmt.Sprintf("mp-%d", i), big)
		}},
		// A completion whose answer is lost is retried into NoSuchUpload:
		// the object's multipart ETag shows it completed.
		{"complete-multipart", "POST", "uploadId=", false, true, func(i int) error {
			return createBig(ctx, s, fmt.Sprintf("mpc-%d", i), big)
		}},
	}
	actions := []faultproxy.Action{faultproxy.InternalError, faultproxy.SlowDown, faultproxy.Delay,
		faultproxy.Reset, faultproxy.ResetBody, faultproxy.LoseAnswer}
	i := 0
	for _, o := range ops {
		for _, a := range actions {
			if (a == faultproxy.ResetBody && !o.body) || (a == faultproxy.LoseAnswer && !o.idempotent) {
				continue
			}
			i++
			t.Run(o.name+"/"+a.String(), func(t *testing.T) {
				p.Clear()
				before := p.Injected()[a]
				// Two faults in a row, then the request passes.
				p.Add(faultproxy.Rule{Method: o.method, Match: o.match, Actions: []faultproxy.Action{a, a}})
				if err := o.run(i); err != nil {
					t.Fatalf("after two %s faults: %v", a, err)
				}
				if got := p.Injected()[a] - before; got != 2 {
					t.Fatalf("%d faults injected, want 2", got)
				}
			})
		}
	}
	t.Logf("faults injected through the proxy: %v", p.Injected())
}

func createBig(ctx context.Context, s storage.Storage, key string, data []byte) error {
	w, err := s.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	got, err := s.Get(ctx, key)
	if err == nil && !bytes.Equal(got, data) {
		return errors.New("multipart object differs")
	}
	return err
}

// A conditional put whose answer is lost looks, on the SDK's retry, like
// someone else's object (412): PutIfAbsent reports ErrExist, and the
// object holds this caller's bytes (what the table's snapshot publication
// reads back to tell the two apart).
func TestS3LostConditionalPut(t *testing.T) {
	s, p, _ := flakyS3(t)
	ctx := context.Background()
	p.Add(faultproxy.Rule{Method: "PUT", Match: "/wh/snap", Actions: []faultproxy.Action{faultproxy.LoseAnswer}})
	err := s.PutIfAbsent(ctx, "snap", []byte("mine"))
	if !errors.Is(err, storage.ErrExist) {
		t.Fatalf("PutIfAbsent with a lost answer: %v, want ErrExist", err)
	}
	if got, err := s.Get(ctx, "snap"); err != nil || string(got) != "mine" {
		t.Fatalf("object %q, %v", got, err)
	}
	if p.Injected()[faultproxy.LoseAnswer] != 1 {
		t.Fatalf("injected %v", p.Injected())
	}
}

// A failure that persists is returned after the configured attempts,
// naming the operation, the object's s3:// URL and the attempts.
func TestS3PersistentFaultsSurface(t *testing.T) {
	s, p, bucket := flakyS3(t)
	ctx := context.Background()
	if err := s.Put(ctx, "obj", bytes.Repeat([]byte("x"), 10000)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		action     faultproxy.Action
		method, op string
		run        func() error
		cause      string
	}{
		{faultproxy.SlowDown, "GET", "get", func() error { _, err := s.Get(ctx, "obj"); return err }, "SlowDown"},
		{faultproxy.InternalError, "PUT", "put", func() error { return s.Put(ctx, "obj", []byte("y")) }, "InternalError"},
		{faultproxy.Reset, "PUT", "put-if-absent", func() error { return s.PutIfAbsent(ctx, "obj2", []byte("y")) }, "connection reset"},
		{faultproxy.ResetBody, "GET", "get-range", func() error { _, err := s.GetRange(ctx, "obj", 0, 5000); return err }, "connection reset"},
		{faultproxy.Delay, "HEAD", "stat", func() error { _, err := s.Stat(ctx, "obj"); return err }, "timeout"},
	} {
		t.Run(tc.action.String(), func(t *testing.T) {
			p.Clear()
			p.Add(faultproxy.Rule{Method: tc.method, Match: "/wh/obj", Actions: []faultproxy.Action{tc.action}, Repeat: true})
			before := p.Injected()[tc.action]
			err := tc.run()
			if err == nil {
				t.Fatal("succeeded through a persistent fault")
			}
			msg := err.Error()
			for _, want := range []string{
				"storage: " + tc.op + " s3://" + bucket + "/wh/obj",
				fmt.Sprintf("attempts, %d", retryAttempts),
				tc.cause,
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if got := p.Injected()[tc.action] - before; got != retryAttempts {
				t.Errorf("%d attempts reached the proxy, want %d", got, retryAttempts)
			}
		})
	}
	p.Clear()
	// Healthy again, the same storage works.
	if _, err := s.Get(ctx, "obj"); err != nil {
		t.Fatal(err)
	}
}
