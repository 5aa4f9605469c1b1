package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/redis/go-redis/v9"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// Target is a read path under test: point reads by id returning the row in
// encodeRow's form (nil for a miss), one key or a batch. In-process Strata,
// pebble, Redis and the Strata lookup service over HTTP (HTTPTarget)
// implement it.
type Target interface {
	// Name labels the target in reports.
	Name() string
	// Get returns the row of key, or nil when there is none.
	Get(ctx context.Context, key int64) ([]byte, error)
	// GetBatch returns one row (or nil) per key, in order.
	GetBatch(ctx context.Context, keys []int64) ([][]byte, error)
	// Close releases the target (not the data behind it).
	Close() error
}

// rowReader is a target read in process, whose timed reads end, as an
// application's would, with the row as Go values: Strata's decoded row, or
// pebble's value bytes decoded. Target's Get and GetBatch return the rows
// encoded for comparisons, which is the benchmark's work, not timed.
type rowReader interface {
	GetRow(ctx context.Context, key int64) (spec.Row, error)
	GetRows(ctx context.Context, keys []int64) ([]spec.Row, error)
}

// StrataTarget reads a Strata table through a table.Lookup.
type StrataTarget struct {
	name string
	l    *table.Lookup
}

// NewStrataTarget opens a lookup on tb with the given refresh interval.
func NewStrataTarget(ctx context.Context, name string, tb *table.Table, refresh time.Duration) (*StrataTarget, error) {
	l, err := tb.NewLookup(ctx, table.WithRefreshInterval(refresh))
	if err != nil {
		return nil, fmt.Errorf("open lookup: %w", err)
	}
	return &StrataTarget{name: name, l: l}, nil
}

// Name implements Target.
func (s *StrataTarget) Name() string { return s.name }

// Lookup is the lookup the target reads through.
func (s *StrataTarget) Lookup() *table.Lookup { return s.l }

// Get implements Target.
func (s *StrataTarget) Get(ctx context.Context, key int64) ([]byte, error) {
	row, err := s.l.Get(ctx, spec.Row{key})
	if err != nil || row == nil {
		return nil, err
	}
	return encodeRow(row), nil
}

// GetBatch implements Target with one Lookup.GetBatch.
func (s *StrataTarget) GetBatch(ctx context.Context, keys []int64) ([][]byte, error) {
	rows, err := s.GetRows(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	for i, r := range rows {
		if r != nil {
			out[i] = encodeRow(r)
		}
	}
	return out, nil
}

// GetRow is Get's row, not encoded.
func (s *StrataTarget) GetRow(ctx context.Context, key int64) (spec.Row, error) {
	return s.l.Get(ctx, spec.Row{key})
}

// GetRows is one Lookup.GetBatch of keys.
func (s *StrataTarget) GetRows(ctx context.Context, keys []int64) ([]spec.Row, error) {
	ks := make([]spec.Row, len(keys))
	for i, k := range keys {
		ks[i] = spec.Row{k}
	}
	res, err := s.l.GetBatch(ctx, ks)
	if err != nil {
		return nil, err
	}
	return res.Rows, nil
}

// Close implements Target.
func (s *StrataTarget) Close() error { return s.l.Close() }

// PebbleTarget reads a pebble DB: the in-process key-value baseline.
type PebbleTarget struct{ db *pebble.DB }

// NewPebbleTarget reads db (which the caller keeps and closes).
func NewPebbleTarget(db *pebble.DB) *PebbleTarget { return &PebbleTarget{db: db} }

// Name implements Target.
func (p *PebbleTarget) Name() string { return "pebble" }

// Get implements Target; the value is copied out, as a caller keeping it
// must.
func (p *PebbleTarget) Get(_ context.Context, key int64) ([]byte, error) {
	v, closer, err := p.db.Get(pebbleKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pebble get %d: %w", key, err)
	}
	out := bytes.Clone(v)
	return out, closer.Close()
}

// GetBatch implements Target as one Get per key.
func (p *PebbleTarget) GetBatch(ctx context.Context, keys []int64) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, err := p.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// GetRow is Get with the value decoded into the row's Go values.
func (p *PebbleTarget) GetRow(_ context.Context, key int64) (spec.Row, error) {
	v, closer, err := p.db.Get(pebbleKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pebble get %d: %w", key, err)
	}
	row, err := decodeRow(v)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	return row, err
}

// GetRows is one GetRow per key.
func (p *PebbleTarget) GetRows(ctx context.Context, keys []int64) ([]spec.Row, error) {
	out := make([]spec.Row, len(keys))
	for i, k := range keys {
		r, err := p.GetRow(ctx, k)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// Close implements Target; the DB stays open.
func (p *PebbleTarget) Close() error { return nil }

// RedisTarget reads Redis over loopback: GET and MGET.
type RedisTarget struct{ c *redis.Client }

// NewRedisTarget connects to addr with up to conns connections.
func NewRedisTarget(addr string, conns int) *RedisTarget {
	return &RedisTarget{c: redis.NewClient(&redis.Options{Addr: addr, PoolSize: conns, MinIdleConns: conns,
		DisableIdentity: true, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})}
}

// redisKey is the Redis key of an id: its decimal form.
func redisKey(id int64) string { return strconv.FormatInt(id, 10) }

// Name implements Target.
func (r *RedisTarget) Name() string { return "redis" }

// Get implements Target with GET.
func (r *RedisTarget) Get(ctx context.Context, key int64) ([]byte, error) {
	v, err := r.c.Get(ctx, redisKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis GET %d: %w", key, err)
	}
	return v, nil
}

// GetBatch implements Target with one MGET.
func (r *RedisTarget) GetBatch(ctx context.Context, keys []int64) ([][]byte, error) {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = redisKey(k)
	}
	vals, err := r.c.MGet(ctx, ks...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis MGET: %w", err)
	}
	out := make([][]byte, len(keys))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out, nil
}

// Close implements Target.
func (r *RedisTarget) Close() error { return r.c.Close() }

// load writes the rows with MSETs of 1,000 keys, 16 of them pipelined per
// round trip (one MSET per round trip left the load waiting on loopback).
func (r *RedisTarget) load(ctx context.Context, ds *dataset, progress func(string)) error {
	const per, depth = 1000, 16
	pipe := r.c.Pipeline()
	args := make([]any, 0, 2*per)
	queued := 0
	exec := func() error {
		if queued == 0 {
			return nil
		}
		_, err := pipe.Exec(ctx)
		queued = 0
		return err
	}
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		pipe.MSet(ctx, args...)
		args = make([]any, 0, 2*per) // the pipeline keeps the last slice until Exec
		if queued++; queued == depth {
			return exec()
		}
		return nil
	}
	err := ds.generate(func(i int, id int64, row spec.Row) error {
		args = append(args, redisKey(id), encodeRow(row))
		if len(args) == 2*per {
			if err := flush(); err != nil {
				return err
			}
		}
		if (i+1)%1_000_000 == 0 {
			progress(fmt.Sprintf("redis: %d/%d rows", i+1, ds.rows))
		}
		return nil
	})
	if err == nil {
		if err = flush(); err == nil {
			err = exec()
		}
	}
	if err != nil {
		return fmt.Errorf("load redis: %w", err)
	}
	return nil
}

// usedMemory is Redis's INFO used_memory, in bytes.
func (r *RedisTarget) usedMemory(ctx context.Context) (int64, error) {
	info, err := r.c.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("redis INFO: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO memory: no used_memory")
}

// RedisServer is a redis-server the benchmark started on a free loopback
// port, without persistence.
type RedisServer struct {
	Addr string
	cmd  *exec.Cmd
	log  string
	done chan error
	stop sync.Once
	err  error
}

// StartRedis starts bin (a redis-server) with its files under dir and
// waits until it answers PING.
func StartRedis(ctx context.Context, bin, dir string) (*RedisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &RedisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: filepath.Join(dir, "redis.log"),
		done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", dir, "--logfile", s.log)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := c.Ping(ctx).Err(); err == nil {
			return s, nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("redis-server exited (%v): %s", err, s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			return nil, fmt.Errorf("redis-server on %s did not answer: %s", s.Addr, s.logTail())
		}
	}
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5 s) and waits
// for it. Stopping again returns the first Stop's result.
func (s *RedisServer) Stop() error {
	s.stop.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
			s.err = fmt.Errorf("redis-server did not stop on SIGTERM; killed")
		}
	})
	return s.err
}

func (s *RedisServer) logTail() string { return logTail(s.log) }

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
