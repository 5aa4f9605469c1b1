package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// EndpointEnv names the environment variable that overrides the S3 endpoint
// (e.g. "http://127.0.0.1:9000" for MinIO) when no WithEndpoint option is
// given. An overridden endpoint is addressed path-style.
const EndpointEnv = "STRATA_S3_ENDPOINT"

// defaultRegion is used when neither an option nor the AWS configuration
// names one; S3-compatible servers generally accept it.
const defaultRegion = "us-east-1"

// S3 stores objects in an S3 (or S3-compatible) bucket under a key prefix.
//
// PutIfAbsent is a conditional PutObject (If-None-Match: *), which S3 and
// MinIO evaluate atomically. Directories exist only as key prefixes.
//
// Requests that fail transiently (5xx answers, throttling such as 503
// SlowDown, timeouts, connection resets, a response body cut short) are
// retried with exponential backoff and jitter, up to a number of attempts
// (WithRetry); an error that persists names the operation, the object's
// s3:// URL and the attempts made. A connection that stays silent for the
// read timeout (WithReadTimeout) fails its attempt, so a stalled server is
// retried, not waited for; a slow transfer that keeps moving is never cut.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string // "" or ends in "/"
	// partSize is the part size of streamed uploads (Create).
	partSize int
	retry    retryPolicy
}

// The defaults of WithRetry and WithReadTimeout.
const (
	DefaultRetryAttempts  = 8
	DefaultRetryBaseDelay = 100 * time.Millisecond
	DefaultRetryMaxDelay  = 10 * time.Second
	DefaultReadTimeout    = 30 * time.Second
)

// retryPolicy is how transient failures are retried, by the SDK for
// requests and by S3 itself for response bodies the SDK has handed over.
type retryPolicy struct {
	attempts  int
	base, max time.Duration
}

// delay is the wait before retry number attempt (1 for the first retry):
// base doubled per retry up to max, the upper half of it jittered.
func (r retryPolicy) delay(attempt int) time.Duration {
	d := r.base
	for i := 1; i < attempt && d < r.max; i++ {
		d *= 2
	}
	d = min(d, r.max)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

var _ Storage = (*S3)(nil)

// S3Option configures NewS3.
type S3Option func(*s3Options)

type s3Options struct {
	endpoint    string
	region      string
	creds       aws.CredentialsProvider
	partSize    int
	retry       retryPolicy
	readTimeout time.Duration
}

// WithRetry sets how transiently failing requests are retried: at most
// attempts attempts in all (1: no retries), waiting about base before the
// first retry and twice as long before each next one, up to max. The
// defaults are DefaultRetryAttempts, DefaultRetryBaseDelay and
// DefaultRetryMaxDelay.
func WithRetry(attempts int, base, max time.Duration) S3Option {
	return func(o *s3Options) { o.retry = retryPolicy{attempts: attempts, base: base, max: max} }
}

// WithReadTimeout sets how long a request attempt's connection may stay
// silent before the attempt fails and is retried: taking no byte of the
// request's body (for d to 2d), sending no answer within d once the request
// is sent, or no byte of the answer's body for d. It bounds silence, never
// a whole transfer (the SDK sets no overall timeout for S3): an upload or
// download that keeps moving takes as long as it needs. 0 waits for ever.
// The default is DefaultReadTimeout.
func WithReadTimeout(d time.Duration) S3Option {
	return func(o *s3Options) { o.readTimeout = d }
}

// WithEndpoint sends requests to endpoint (a URL such as
// "http://127.0.0.1:9000") with path-style addressing, as S3-compatible
// servers expect. It takes precedence over STRATA_S3_ENDPOINT.
func WithEndpoint(endpoint string) S3Option {
	return func(o *s3Options) { o.endpoint = endpoint }
}

// WithRegion sets the region, overriding the AWS configuration.
func WithRegion(region string) S3Option {
	return func(o *s3Options) { o.region = region }
}

// WithStaticCredentials uses fixed credentials instead of the default
// credential chain; sessionToken may be empty.
func WithStaticCredentials(accessKey, secretKey, sessionToken string) S3Option {
	return func(o *s3Options) {
		o.creds = credentials.NewStaticCredentialsProvider(accessKey, secretKey, sessionToken)
	}
}

// NewS3 returns an S3 storage for bucket, with all paths under prefix ("" for
// the bucket root). Credentials and region come from the standard AWS chain
// (environment, shared config files, instance roles) unless options say
// otherwise; the region defaults to us-east-1. No request is made until the
// first operation.
func NewS3(ctx context.Context, bucket, prefix string, opts ...S3Option) (*S3, error) {
	if bucket == "" {
		return nil, errors.New("storage: s3: empty bucket name")
	}
	if strings.Contains(bucket, "/") {
		return nil, fmt.Errorf("storage: s3: invalid bucket name %q", bucket)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if err := checkPath(prefix); err != nil {
			return nil, fmt.Errorf("storage: s3 bucket %s: prefix %q: %w", bucket, prefix, err)
		}
		prefix += "/"
	}
	o := s3Options{
		retry:       retryPolicy{attempts: DefaultRetryAttempts, base: DefaultRetryBaseDelay, max: DefaultRetryMaxDelay},
		readTimeout: DefaultReadTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.retry.attempts < 1 || o.retry.base <= 0 || o.retry.max < o.retry.base {
		return nil, fmt.Errorf("storage: s3: invalid retry policy: %d attempts, delays %v to %v", o.retry.attempts, o.retry.base, o.retry.max)
	}
	if o.readTimeout < 0 {
		return nil, fmt.Errorf("storage: s3: negative read timeout %v", o.readTimeout)
	}
	if o.partSize == 0 {
		o.partSize = DefaultPartSize
	}
	if o.partSize < MinPartSize {
		return nil, fmt.Errorf("storage: s3: part size %d is below S3's minimum of %d", o.partSize, MinPartSize)
	}
	if o.endpoint == "" {
		o.endpoint = os.Getenv(EndpointEnv)
	}
	if o.endpoint != "" {
		u, err := url.Parse(o.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("storage: s3: invalid endpoint %q: want http(s)://host[:port] (credentials come from the environment or the AWS configuration)", RedactURL(o.endpoint))
		}
	}

	policy := o.retry
	loadOpts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(idleTransport(o.readTimeout)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = policy.attempts
				so.MaxBackoff = policy.max
				so.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
					return policy.delay(attempt), nil
				})
				// The SDK's default retry quota refuses all retries after a
				// burst of failures, which would turn a flaky stretch into
				// failed commits; the attempts bound each request instead.
				so.RateLimiter = ratelimit.None
			})
		}),
	}
	if o.region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.region))
	}
	if o.creds != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(o.creds))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("storage: s3: loading AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	cfg.HTTPClient = &idleClient{client: cfg.HTTPClient, timeout: o.readTimeout}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		// Checksums only where S3 requires them: S3-compatible servers do
		// not all return them, and the SDK would log each skipped check.
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		so.DisableLogOutputChecksumValidationSkipped = true
		if o.endpoint != "" {
			so.BaseEndpoint = aws.String(o.endpoint)
			so.UsePathStyle = true
		}
	})
	return &S3{client: client, bucket: bucket, prefix: prefix, partSize: o.partSize, retry: o.retry}, nil
}

// wrapErr is the package's wrapErr, naming the object by its s3:// URL
// when the cause is not one of the sentinels (a failure worth locating).
func (s *S3) wrapErr(op, p string, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExist) || errors.Is(err, ErrInvalidPath) {
		return wrapErr(op, p, err)
	}
	return wrapErr(op, "s3://"+s.bucket+"/"+s.key(p), err)
}

// bodyError is a failure to read a response body the SDK had already
// returned: the SDK's retries are over by then, so S3 retries the whole
// call itself.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the response: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// retryBody runs call, again after a bodyError, with the same policy as
// the SDK's retries.
func (s *S3) retryBody(ctx context.Context, call func() ([]byte, error)) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		data, err := call()
		var be *bodyError
		if err == nil || !errors.As(err, &be) || ctx.Err() != nil {
			return data, err
		}
		if attempt >= s.retry.attempts {
			return nil, fmt.Errorf("exceeded maximum number of attempts, %d: %w", attempt, err)
		}
		t := time.NewTimer(s.retry.delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (after %d attempts: %v)", ctx.Err(), attempt, err)
		case <-t.C:
		}
	}
}

// String implements Storage.
func (s *S3) String() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

func (s *S3) key(p string) string { return s.prefix + p }

// Get implements Storage.
func (s *S3) Get(ctx context.Context, p string) ([]byte, error) {
	data, err := s.retryBody(ctx, func() ([]byte, error) { return s.get(ctx, p) })
	return data, s.wrapErr("get", p, err)
}

func (s *S3) get(ctx context.Context, p string) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(p)),
	})
	if err != nil {
		return nil, mapS3Error(err)
	}
	defer out.Body.Close()
	size := aws.ToInt64(out.ContentLength)
	buf := bytes.NewBuffer(make([]byte, 0, max(size, 0)))
	if n, err := buf.ReadFrom(out.Body); err != nil {
		return nil, bodyErr(err, n, size)
	}
	return buf.Bytes(), nil
}

// GetRange implements Storage.
func (s *S3) GetRange(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	data, err := s.retryBody(ctx, func() ([]byte, error) { return s.getRange(ctx, p, offset, length) })
	return data, s.wrapErr("get-range", p, err)
}

func (s *S3) getRange(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if err := checkRangeArgs(offset, length); err != nil {
		return nil, err
	}
	if length == 0 {
		// An HTTP range cannot be empty; the object must still exist and be
		// long enough.
		fi, err := s.stat(ctx, p)
		if err != nil {
			return nil, err
		}
		if err := checkRange(offset, length, fi.Size); err != nil {
			return nil, err
		}
		return []byte{}, nil
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(p)),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)),
	})
	if err != nil {
		if code, _ := s3ErrorCode(err); code == "InvalidRange" {
			return nil, fmt.Errorf("range [%d, +%d) past end of object: %w", offset, length, io.ErrUnexpectedEOF)
		}
		return nil, mapS3Error(err)
	}
	defer out.Body.Close()
	if out.ContentRange == nil {
		// The server ignored the range and sent the whole object.
		data, err := io.ReadAll(out.Body)
		if err != nil {
			return nil, bodyErr(err, int64(len(data)), aws.ToInt64(out.ContentLength))
		}
		if err := checkRange(offset, length, int64(len(data))); err != nil {
			return nil, err
		}
		return data[offset : offset+length], nil
	}
	// What the server announced, not what arrived, tells a range past the
	// end (cut at the end by the server, not refused) from a transfer that
	// broke, which is retried.
	first, last, size, ok := parseContentRange(aws.ToString(out.ContentRange))
	n := last - first + 1
	if !ok || first != offset || n > length || (out.ContentLength != nil && *out.ContentLength != n) ||
		(n < length && size >= 0 && last != size-1) {
		return nil, fmt.Errorf("range [%d, +%d): unexpected answer: Content-Range %q, Content-Length %d",
			offset, length, aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength))
	}
	buf := make([]byte, n)
	if got, err := io.ReadFull(out.Body, buf); err != nil {
		return nil, bodyErr(err, int64(got), n)
	}
	if n < length {
		return nil, fmt.Errorf("range [%d, +%d) past end of object (%s): %w",
			offset, length, aws.ToString(out.ContentRange), io.ErrUnexpectedEOF)
	}
	return buf, nil
}

// parseContentRange parses "bytes first-last/size"; size is -1 for "*".
func parseContentRange(s string) (first, last, size int64, ok bool) {
	rest, ok0 := strings.CutPrefix(s, "bytes ")
	rng, total, ok1 := strings.Cut(rest, "/")
	a, b, ok2 := strings.Cut(rng, "-")
	if !ok0 || !ok1 || !ok2 {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	first, err1 = strconv.ParseInt(a, 10, 64)
	last, err2 = strconv.ParseInt(b, 10, 64)
	size = -1
	if total != "*" {
		size, err3 = strconv.ParseInt(total, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || first < 0 || last < first || (size >= 0 && last >= size) {
		return 0, 0, 0, false
	}
	return first, last, size, true
}

// bodyErr is the bodyError of a body read that failed after got of want
// bytes (want -1: unknown). A body that ends early is a transfer that
// broke, like a reset: io.ErrUnexpectedEOF, which callers of GetRange take
// for a range past the end, is not in its chain.
func bodyErr(err error, got, want int64) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		if want >= 0 {
			err = fmt.Errorf("body cut short after %d of %d bytes", got, want)
		} else {
			err = fmt.Errorf("body cut short after %d bytes", got)
		}
	}
	return &bodyError{err}
}

// Put implements Storage. A single PutObject replaces the object atomically.
func (s *S3) Put(ctx context.Context, p string, data []byte) error {
	return s.wrapErr("put", p, s.put(ctx, p, data, false))
}

// PutIfAbsent implements Storage.
//
// When the SDK retries a conditional put whose first attempt succeeded but
// whose response was lost, the retry fails with ErrExist although this
// caller wrote the object; callers that need to tell these apart must read
// the object back.
func (s *S3) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	return s.wrapErr("put-if-absent", p, s.put(ctx, p, data, true))
}

// conflictRetries bounds retries of a conditional put that S3 refused with
// 409 ConditionalRequestConflict (a concurrent write of the same key was in
// flight); the retry then either succeeds or sees the winner's 412.
const conflictRetries = 5

func (s *S3) put(ctx context.Context, p string, data []byte, ifAbsent bool) error {
	if err := checkPath(p); err != nil {
		return err
	}
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		in := &s3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(s.key(p)),
			Body:          bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))),
		}
		if ifAbsent {
			in.IfNoneMatch = aws.String("*")
		}
		_, err := s.client.PutObject(ctx, in)
		if err == nil {
			return nil
		}
		code, status := s3ErrorCode(err)
		switch {
		case ifAbsent && (status == http.StatusPreconditionFailed || code == "PreconditionFailed"):
			return ErrExist
		case ifAbsent && (status == http.StatusConflict || code == "ConditionalRequestConflict") && attempt < conflictRetries:
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			backoff *= 2
		default:
			return mapS3Error(err)
		}
	}
}

// Delete implements Storage. S3 reports success for missing keys.
func (s *S3) Delete(ctx context.Context, p string) error {
	return s.wrapErr("delete", p, s.delete(ctx, p))
}

func (s *S3) delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(p)),
	})
	if err != nil {
		err = mapS3Error(err)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
	}
	return err
}

// Stat implements Storage.
func (s *S3) Stat(ctx context.Context, p string) (FileInfo, error) {
	fi, err := s.stat(ctx, p)
	return fi, s.wrapErr("stat", p, err)
}

func (s *S3) stat(ctx context.Context, p string) (FileInfo, error) {
	if err := checkPath(p); err != nil {
		return FileInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(p)),
	})
	if err != nil {
		return FileInfo{}, mapS3Error(err)
	}
	return FileInfo{
		Path:    p,
		Size:    aws.ToInt64(out.ContentLength),
		ModTime: aws.ToTime(out.LastModified),
	}, nil
}

// List implements Storage.
func (s *S3) List(ctx context.Context, prefix string, recursive bool) ([]FileInfo, error) {
	infos, err := s.list(ctx, prefix, recursive)
	return infos, s.wrapErr("list", prefix, err)
}

func (s *S3) list(ctx context.Context, prefix string, recursive bool) ([]FileInfo, error) {
	prefix, err := checkPrefix(prefix)
	if err != nil {
		return nil, err
	}
	keyPrefix := s.prefix
	if prefix != "" {
		keyPrefix += prefix + "/"
	}
	in := &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(keyPrefix),
	}
	if !recursive {
		in.Delimiter = aws.String("/")
	}
	var infos []FileInfo
	pages := s3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, mapS3Error(err)
		}
		for _, obj := range page.Contents {
			p, ok := s.relPath(aws.ToString(obj.Key))
			if !ok {
				continue
			}
			infos = append(infos, FileInfo{
				Path:    p,
				Size:    aws.ToInt64(obj.Size),
				ModTime: aws.ToTime(obj.LastModified),
			})
		}
		for _, cp := range page.CommonPrefixes {
			p, ok := s.relPath(strings.TrimSuffix(aws.ToString(cp.Prefix), "/"))
			if !ok {
				continue
			}
			infos = append(infos, FileInfo{Path: p, IsDir: true})
		}
	}
	sortInfos(infos)
	return infos, nil
}

// relPath turns a key into a path, rejecting keys this package could not
// have written, such as the "dir/" markers some tools create.
func (s *S3) relPath(key string) (string, bool) {
	p, ok := strings.CutPrefix(key, s.prefix)
	if !ok || checkPath(p) != nil {
		return "", false
	}
	return p, true
}

// s3ErrorCode returns the S3 error code and HTTP status of err, if any.
func s3ErrorCode(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// mapS3Error turns missing-key errors into ErrNotFound. A missing bucket is
// deliberately not ErrNotFound: it is a configuration error, not an empty
// table. (HEAD responses carry no body, so there a missing bucket looks like
// a missing key.)
func mapS3Error(err error) error {
	code, status := s3ErrorCode(err)
	switch {
	case code == "NoSuchKey", code == "NotFound":
		return ErrNotFound
	case code == "NoSuchBucket":
		return err
	case status == http.StatusNotFound && code == "":
		return ErrNotFound
	}
	return err
}
