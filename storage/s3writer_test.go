package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stratalake/strata/internal/miniotest"
	"github.com/stratalake/strata/storage"
)

// Streamed writes that do not publish (Abort, a canceled Close, a failed
// part) leave no multipart upload pending in the bucket; published ones
// spanning several parts read back whole.
func TestS3CreateLeavesNoUpload(t *testing.T) {
	srv := miniotest.Shared(t)
	bucket := miniotest.BucketName(t)
	srv.NewBucket(t, bucket)
	ctx := context.Background()
	s, err := storage.NewS3(ctx, bucket, "wh",
		storage.WithEndpoint(srv.Endpoint),
		storage.WithRegion(miniotest.Region),
		storage.WithStaticCredentials(srv.AccessKey, srv.SecretKey, ""),
		storage.WithPartSize(storage.MinPartSize))
	if err != nil {
		t.Fatal(err)
	}
	client := s3.New(s3.Options{
		Region:       miniotest.Region,
		BaseEndpoint: aws.String(srv.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
	})
	pending := func() int {
		t.Helper()
		out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}
	chunk := make([]byte, 1<<20)
	write := func(w storage.ObjectWriter, mib int) {
		t.Helper()
		for range mib {
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Aborted after two parts were sent.
	w, err := s.Create(ctx, "aborted")
	if err != nil {
		t.Fatal(err)
	}
	write(w, 11)
	if n := pending(); n != 1 {
		t.Fatalf("%d uploads pending while writing, want 1", n)
	}
	w.Abort()
	if n := pending(); n != 0 {
		t.Fatalf("%d uploads pending after Abort", n)
	}

	// Close with a canceled context.
	cctx, cancel := context.WithCancel(ctx)
	if w, err = s.Create(cctx, "canceled"); err != nil {
		t.Fatal(err)
	}
	write(w, 6)
	cancel()
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v, want context.Canceled", err)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d uploads pending after a failed Close", n)
	}

	// A part that fails (the bucket is gone) surfaces from Write, and the
	// writer is finished.
	gone, err := storage.NewS3(ctx, "no-such-bucket-here", "p",
		storage.WithEndpoint(srv.Endpoint),
		storage.WithStaticCredentials(srv.AccessKey, srv.SecretKey, ""))
	if err != nil {
		t.Fatal(err)
	}
	if w, err = gone.Create(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 12 && werr == nil; i++ {
		_, werr = w.Write(chunk)
	}
	if werr == nil {
		t.Fatal("writing 12 MiB to a missing bucket succeeded")
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a failed Write succeeded")
	}
	small, _ := gone.Create(ctx, "y")
	if _, err := small.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := small.Close(); err == nil {
		t.Fatal("Close of a one-part object to a missing bucket succeeded")
	}

	if infos, err := s.List(ctx, "", true); err != nil || len(infos) != 0 {
		t.Fatalf("List = %v, %v; want nothing", infos, err)
	}
}

func TestS3PartSizeOption(t *testing.T) {
	if _, err := storage.NewS3(context.Background(), "b", "p", storage.WithPartSize(storage.MinPartSize-1)); err == nil {
		t.Fatal("a part size below S3's minimum was accepted")
	}
}

// Counting counts streamed bytes once the object is published.
func TestCountingCreate(t *testing.T) {
	ctx := context.Background()
	c := storage.NewCounting(storage.NewMemory())
	for _, publish := range []bool{false, true} {
		w, err := c.Create(ctx, "f")
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("hello "))
		w.Write([]byte("world"))
		if publish {
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			w.Abort()
		}
	}
	if b, o := c.BytesWritten.Load(), c.ObjectsWritten.Load(); b != 11 || o != 1 {
		t.Fatalf("counted %d bytes in %d objects, want 11 in 1", b, o)
	}
}
