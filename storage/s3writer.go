package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	// DefaultPartSize is the part size of S3 multipart uploads: a writer
	// holds at most one part in memory.
	DefaultPartSize = 8 << 20
	// MinPartSize is S3's smallest part but the last.
	MinPartSize = 5 << 20
	// abortTimeout bounds the request that aborts a multipart upload.
	abortTimeout = 30 * time.Second
)

// WithPartSize sets the part size of streamed uploads (Create), at least
// MinPartSize; objects that fit in one part are sent with one PutObject.
func WithPartSize(n int) S3Option {
	return func(o *s3Options) { o.partSize = n }
}

// Create implements Storage. The object is buffered up to one part; a larger
// one becomes a multipart upload, completed on Close and aborted on Abort or
// on any error, so no upload is left pending (short of a crash, which S3
// lifecycle rules for incomplete uploads clean up).
func (s *S3) Create(ctx context.Context, p string) (ObjectWriter, error) {
	if err := checkPath(p); err != nil {
		return nil, s.wrapErr("create", p, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, s.wrapErr("create", p, err)
	}
	return &s3Writer{s: s, ctx: ctx, path: p}, nil
}

// s3Writer is S3's ObjectWriter.
type s3Writer struct {
	s        *S3
	ctx      context.Context
	path     string
	buf      []byte // the part being filled
	uploadID string // "" until the first part is sent
	parts    []types.CompletedPart
	done     bool
}

func (w *s3Writer) Write(b []byte) (int, error) {
	if w.done {
		return 0, w.s.wrapErr("create", w.path, errWriterDone)
	}
	size := w.s.partSize
	if w.buf == nil {
		w.buf = make([]byte, 0, min(size, max(len(b), 64<<10)))
	}
	n := 0
	for len(b) > 0 {
		// A full part is sent only once more bytes follow, so that the last
		// part is never empty and a one-part object is a plain PutObject.
		if len(w.buf) == size {
			if err := w.sendPart(); err != nil {
				w.Abort()
				return n, w.s.wrapErr("create", w.path, err)
			}
		}
		k := min(len(b), size-len(w.buf))
		w.buf = append(w.buf, b[:k]...)
		b, n = b[k:], n+k
	}
	return n, nil
}

func (w *s3Writer) sendPart() error {
	if w.uploadID == "" {
		out, err := w.s.client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String(w.s.bucket),
			Key:    aws.String(w.s.key(w.path)),
		})
		if err != nil {
			return mapS3Error(err)
		}
		w.uploadID = aws.ToString(out.UploadId)
	}
	num := int32(len(w.parts) + 1)
	out, err := w.s.client.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket:        aws.String(w.s.bucket),
		Key:           aws.String(w.s.key(w.path)),
		UploadId:      aws.String(w.uploadID),
		PartNumber:    aws.Int32(num),
		Body:          bytes.NewReader(w.buf),
		ContentLength: aws.Int64(int64(len(w.buf))),
	})
	if err != nil {
		return fmt.Errorf("part %d: %w", num, mapS3Error(err))
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
	// Grow to a full part at once: a writer that needed one part will
	// likely need more.
	if cap(w.buf) < w.s.partSize {
		w.buf = make([]byte, 0, w.s.partSize)
	}
	w.buf = w.buf[:0]
	return nil
}

func (w *s3Writer) Close() error {
	if w.done {
		return w.s.wrapErr("create", w.path, errWriterDone)
	}
	if w.uploadID == "" {
		w.done = true
		err := w.s.put(w.ctx, w.path, w.buf, false)
		w.buf = nil
		return w.s.wrapErr("create", w.path, err)
	}
	err := w.sendPart()
	if err == nil {
		_, err = w.s.client.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          aws.String(w.s.bucket),
			Key:             aws.String(w.s.key(w.path)),
			UploadId:        aws.String(w.uploadID),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
		})
		if err != nil {
			err = w.completedAfterAll(err)
		}
	}
	if err != nil {
		w.Abort()
		return w.s.wrapErr("create", w.path, err)
	}
	w.done, w.buf = true, nil
	return nil
}

// completedAfterAll settles a CompleteMultipartUpload that failed with
// NoSuchUpload: when the SDK retried a completion whose answer was lost,
// the upload is gone because it completed. The object is ours if its ETag
// is the multipart ETag of our parts (the MD5 of their MD5s, "-" and their
// count); then Close succeeded, as the contract wants, instead of failing
// with the object published.
func (w *s3Writer) completedAfterAll(err error) error {
	if code, _ := s3ErrorCode(err); code != "NoSuchUpload" {
		return mapS3Error(err)
	}
	want, ok := multipartETag(w.parts)
	if !ok {
		return mapS3Error(err)
	}
	out, herr := w.s.client.HeadObject(w.ctx, &s3.HeadObjectInput{
		Bucket: aws.String(w.s.bucket),
		Key:    aws.String(w.s.key(w.path)),
	})
	if herr != nil || strings.Trim(aws.ToString(out.ETag), `"`) != want {
		return mapS3Error(err)
	}
	w.uploadID = "" // nothing left to abort
	return nil
}

// multipartETag is the ETag S3 gives an object completed from parts, or
// false when a part's ETag is not an MD5 (as with SSE-KMS).
func multipartETag(parts []types.CompletedPart) (string, bool) {
	h := md5.New()
	for _, p := range parts {
		b, err := hex.DecodeString(strings.Trim(aws.ToString(p.ETag), `"`))
		if err != nil || len(b) != md5.Size {
			return "", false
		}
		h.Write(b)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts)), true
}

// Abort implements ObjectWriter. The abort request outlives a canceled
// context, so that canceling a write does not leave its upload behind.
func (w *s3Writer) Abort() {
	if w.done {
		return
	}
	w.done, w.buf = true, nil
	if w.uploadID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), abortTimeout)
	defer cancel()
	// Best effort: a failed abort leaves an upload that lifecycle rules
	// for incomplete uploads remove; there is nobody to report it to.
	_, _ = w.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(w.s.bucket),
		Key:      aws.String(w.s.key(w.path)),
		UploadId: aws.String(w.uploadID),
	})
}
