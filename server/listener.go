package server

import (
	"encoding/json"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// refuseWriteTimeout bounds writing the answer to a refused connection,
// so that the accept loop never waits on a client.
const refuseWriteTimeout = 100 * time.Millisecond

// limitListener accepts at most max connections at a time. One more is
// answered 503 too_many_connections, without reading it, and closed; it
// counts in strata_http_connections_refused_total.
type limitListener struct {
	net.Listener
	max     int64
	open    *atomic.Int64 // the server's open connections
	refused prometheus.Counter
	answer  []byte
}

func newLimitListener(ln net.Listener, max int, open *atomic.Int64, refused prometheus.Counter) *limitListener {
	var b errorBody
	b.Error.Code = codeTooManyConnections
	b.Error.Message = "the server has " + strconv.Itoa(max) + " connections open, its most; try again later"
	body, _ := json.Marshal(&b)
	body = append(body, '\n')
	answer := "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\n" +
		"X-Content-Type-Options: nosniff\r\nRetry-After: 1\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	return &limitListener{
		Listener: ln, max: int64(max), open: open, refused: refused,
		answer: append([]byte(answer), body...),
	}
}

// Accept returns the next connection the limit allows.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refused.Inc()
		c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
		c.Write(l.answer)
		c.Close()
	}
}

// limitedConn gives its place back when closed.
type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

// Close closes the connection and frees its place.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
