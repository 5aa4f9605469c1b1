package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// The read timeout bounds silence, never a whole transfer (the SDK sets no
// overall timeout for S3, and neither does this): a request attempt fails
// when, for the timeout, its connection takes none of the request's bytes
// (idleWriteConn), the server sends no answer once the request is sent
// (the transport's ResponseHeaderTimeout), or the answer's body brings no
// byte (idleBody). The SDK's own read timeout is a deadline on each read
// of the connection, and one read waits while the request is sent, so an
// upload slower in all than the timeout failed every attempt. (The wait
// for the answer starts when the last of the request is handed to the
// kernel: bytes the server has yet to take from the buffers count as
// silence, which matters only where they take longer than the timeout to
// drain.)

// idleTransport returns the SDK's HTTP client with the timeouts on
// sending and on waiting for an answer of a read timeout d (0: none).
// The configuration loader may still add to its transport (a custom CA
// bundle); an idleClient around it then adds the timeout on response
// bodies.
func idleTransport(d time.Duration) *awshttp.BuildableClient {
	c := awshttp.NewBuildableClient()
	if d <= 0 {
		return c
	}
	return c.WithTransportOptions(func(tr *http.Transport) {
		tr.ResponseHeaderTimeout = d
		dial := tr.DialContext
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleWriteConn{Conn: conn, timeout: d}, nil
		}
	})
}

// idleClient gives the bodies of a client's responses a read timeout.
// Not being a BuildableClient, it also keeps the S3 client from changing
// the transport's dialer (which would drop idleWriteConn).
type idleClient struct {
	client  aws.HTTPClient
	timeout time.Duration
}

// Do implements aws.HTTPClient.
func (c *idleClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.client.Do(req)
	if err != nil || c.timeout <= 0 || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	b := &idleBody{body: resp.Body, timeout: c.timeout}
	b.timer = time.AfterFunc(c.timeout, b.expire)
	b.timer.Stop()
	resp.Body = b
	return resp, nil
}

// idleTimeoutError is an attempt that made no progress for the read
// timeout. Timeout makes the SDK retry it, and S3 retries a body read.
type idleTimeoutError struct {
	what    string
	timeout time.Duration
}

func (e *idleTimeoutError) Error() string {
	return fmt.Sprintf("no byte %s for %v (the read timeout)", e.what, e.timeout)
}

// Timeout reports true: the error is a timeout.
func (*idleTimeoutError) Timeout() bool { return true }

// Temporary reports true: another attempt may succeed.
func (*idleTimeoutError) Temporary() bool { return true }

// idleWriteConn fails a write that the peer takes no byte of for timeout;
// a write that keeps moving, however slowly, goes on.
type idleWriteConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleWriteConn) Write(p []byte) (int, error) {
	done := 0
	for {
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
			return done, err
		}
		n, err := c.Conn.Write(p[done:])
		done += n
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return done, err
		}
		if n == 0 {
			return done, &idleTimeoutError{what: "sent", timeout: c.timeout}
		}
	}
}

// idleBody fails a read of a response body that brings no byte for
// timeout, by closing the body under it (which ends the read and drops the
// connection). Only reads are timed: a caller slow to read is not silence.
type idleBody struct {
	body    io.ReadCloser
	timeout time.Duration
	timer   *time.Timer // runs during a read, then calls expire
	expired atomic.Bool
}

func (b *idleBody) expire() {
	b.expired.Store(true)
	b.body.Close()
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.expired.Load() {
		return 0, b.err()
	}
	b.timer.Reset(b.timeout)
	n, err := b.body.Read(p)
	b.timer.Stop()
	// A body read to its end as the timer fired is whole.
	if err != nil && err != io.EOF && b.expired.Load() {
		err = b.err()
	}
	return n, err
}

func (b *idleBody) err() error { return &idleTimeoutError{what: "received", timeout: b.timeout} }

func (b *idleBody) Close() error {
	b.timer.Stop()
	return b.body.Close()
}
