package faulty

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalake/strata/storage"
)

// Op is a set of storage operations a Rule applies to.
type Op uint16

// The operations. Create is the call that starts an ObjectWriter; Write and
// Close are that writer's calls (Close publishes the object).
const (
	OpGet Op = 1 << iota
	OpGetRange
	OpPut
	OpPutIfAbsent
	OpCreate
	OpWrite
	OpClose
	OpList
	OpDelete
	OpStat

	// OpReads are the calls that read.
	OpReads = OpGet | OpGetRange | OpList | OpStat
	// OpWrites are the calls that change what is stored.
	OpWrites = OpPut | OpPutIfAbsent | OpCreate | OpWrite | OpClose | OpDelete
	// OpAll is every call; a Rule with no Ops means the same.
	OpAll = OpReads | OpWrites
)

var opNames = []string{"get", "get-range", "put", "put-if-absent", "create", "write", "close", "list", "delete", "stat"}

func (o Op) String() string {
	var names []string
	for i, n := range opNames {
		if o&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// Kind is what a fault does to a call.
type Kind uint8

// The kinds of fault; see the package comment.
const (
	Fail Kind = iota
	Slow
	Truncate
	LoseAnswer
	numKinds
)

var kindNames = [numKinds]string{"fail", "slow", "truncate", "lose-answer"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// applies is the set of operations each kind can do something to: a
// truncation needs bytes, a lost answer an effect worth losing.
var applies = [numKinds]Op{
	Fail:       OpAll,
	Slow:       OpAll,
	Truncate:   OpGet | OpGetRange | OpPut | OpPutIfAbsent | OpWrite,
	LoseAnswer: OpAll &^ OpWrite,
}

// Path patterns for the files of a Paimon table, for Rule.Path. A pattern
// is a glob over the whole slash-separated path, where '*' matches any run
// of characters, slashes included, and '?' any one character.
const (
	PatternSnapshot  = "*snapshot/snapshot-*"
	PatternLatest    = "*snapshot/LATEST"
	PatternEarliest  = "*snapshot/EARLIEST"
	PatternManifest  = "*manifest/*" // manifests, manifest lists, index manifests
	PatternData      = "*bucket-*/*" // data and changelog files
	PatternIndex     = "*index/*"    // deletion-vector and HASH index files
	PatternSchema    = "*schema/schema-*"
	PatternTag       = "*tag/tag-*"
	PatternConsumer  = "*consumer/consumer-*"
	PatternChangelog = "*changelog/changelog-*" // long-lived changelog files
)

// ErrInjected is the error of an injected fault whose Rule names none.
var ErrInjected = errors.New("faulty: injected fault")

// Rule chooses calls and the fault they get. A call matches when its
// operation is in Ops (all when zero) and its path (a List's prefix)
// matches Path (all when empty). Of the matching calls, the fault hits the
// Nth one only when Nth > 0, else each with probability Prob when Prob > 0,
// else every one; at most Limit times when Limit > 0. A rule whose Kind
// cannot apply to an operation (a truncated Stat) ignores that operation.
type Rule struct {
	Ops   Op
	Path  string
	Nth   int
	Prob  float64
	Limit int
	Kind  Kind
	// Err is what Fail, LoseAnswer and Truncate return (wrapped in an
	// *Error, so errors.Is sees it): ErrInjected when nil. Use an
	// *os.PathError with syscall.ENOSPC or EACCES for a full disk or a
	// refused permission.
	Err error
	// Delay is how long Slow waits.
	Delay time.Duration
}

// Error is an injected fault's error.
type Error struct {
	Op   Op
	Path string
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	return fmt.Sprintf("faulty: injected %s on %s %s: %v", e.Kind, e.Op, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Storage is a storage.Storage that injects the faults its rules choose
// into the calls it passes to the wrapped storage. It is safe for
// concurrent use, as the wrapped storage is.
type Storage struct {
	inner   storage.Storage
	healthy atomic.Bool
	counts  [numKinds]atomic.Int64

	mu    sync.Mutex
	rng   *rand.Rand
	rules []*ruleState
}

type ruleState struct {
	Rule
	matched, fired int
}

var _ storage.Storage = (*Storage)(nil)

// New wraps s. seed drives the probabilities and the truncation points, so a
// run with the same seed and the same sequence of calls injects the same
// faults.
func New(s storage.Storage, seed uint64, rules ...Rule) *Storage {
	f := &Storage{inner: s, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	f.SetRules(rules...)
	return f
}

// Unwrap returns the wrapped storage.
func (s *Storage) Unwrap() storage.Storage { return s.inner }

// SetRules replaces the rules (with fresh call counts for Nth and Limit)
// and turns the faults on again after Heal.
func (s *Storage) SetRules(rules ...Rule) {
	st := make([]*ruleState, len(rules))
	for i, r := range rules {
		if r.Ops == 0 {
			r.Ops = OpAll
		}
		if r.Err == nil {
			r.Err = ErrInjected
		}
		st[i] = &ruleState{Rule: r}
	}
	s.mu.Lock()
	s.rules = st
	s.mu.Unlock()
	s.healthy.Store(false)
}

// Heal turns every fault off; SetRules turns them on again.
func (s *Storage) Heal() { s.healthy.Store(true) }

// Count returns how many faults of kind were injected.
func (s *Storage) Count(kind Kind) int64 {
	if kind >= numKinds {
		return 0
	}
	return s.counts[kind].Load()
}

// Counts returns the faults injected so far by kind, kinds with none left
// out.
func (s *Storage) Counts() map[Kind]int64 {
	m := map[Kind]int64{}
	for k := range numKinds {
		if n := s.counts[k].Load(); n > 0 {
			m[k] = n
		}
	}
	return m
}

// FormatCounts prints counts as "fail=3 lose-answer=1", kinds in order.
func FormatCounts(counts map[Kind]int64) string {
	kinds := make([]Kind, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	var b strings.Builder
	for _, k := range kinds {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, counts[k])
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// String implements storage.Storage.
func (s *Storage) String() string { return s.inner.String() }

// fault is one injected fault, decided when the call starts.
type fault struct {
	kind  Kind
	err   error
	delay time.Duration
	cut   float64 // where a truncation cuts, as a fraction of the bytes
}

// pick decides whether the call gets a fault: the first rule that fires.
func (s *Storage) pick(op Op, p string) *fault {
	if s.healthy.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if r.Ops&op == 0 || applies[r.Kind]&op == 0 || (r.Path != "" && !Match(r.Path, p)) {
			continue
		}
		r.matched++
		if r.Limit > 0 && r.fired >= r.Limit {
			continue
		}
		switch {
		case r.Nth > 0:
			if r.matched != r.Nth {
				continue
			}
		case r.Prob > 0:
			if s.rng.Float64() >= r.Prob {
				continue
			}
		}
		r.fired++
		s.counts[r.Kind].Add(1)
		return &fault{
			kind:  r.Kind,
			err:   &Error{Op: op, Path: p, Kind: r.Kind, Err: r.Err},
			delay: r.Delay,
			cut:   s.rng.Float64(),
		}
	}
	return nil
}

// wait sleeps for a Slow fault's delay, or until ctx ends.
func (f *fault) wait(ctx context.Context) error {
	t := time.NewTimer(f.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// prefix is the truncated length of n bytes: always shorter, unless empty.
func (f *fault) prefix(n int) int {
	return int(f.cut * float64(n))
}

// do runs a call that returns only an error under fault f (nil: none).
func do(ctx context.Context, f *fault, call func() error) error {
	if f == nil {
		return call()
	}
	switch f.kind {
	case Fail:
		return f.err
	case Slow:
		if err := f.wait(ctx); err != nil {
			return err
		}
		return call()
	case LoseAnswer:
		if err := call(); err != nil {
			return err
		}
		return f.err
	}
	return call()
}

// read runs a call that returns bytes under fault f.
func read(ctx context.Context, f *fault, call func() ([]byte, error)) ([]byte, error) {
	if f != nil && f.kind == Truncate {
		b, err := call()
		if err != nil {
			return b, err
		}
		return b[:f.prefix(len(b))], nil
	}
	var b []byte
	err := do(ctx, f, func() (err error) {
		b, err = call()
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Get implements storage.Storage.
func (s *Storage) Get(ctx context.Context, p string) ([]byte, error) {
	return read(ctx, s.pick(OpGet, p), func() ([]byte, error) { return s.inner.Get(ctx, p) })
}

// GetRange implements storage.Storage.
func (s *Storage) GetRange(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	return read(ctx, s.pick(OpGetRange, p), func() ([]byte, error) { return s.inner.GetRange(ctx, p, offset, length) })
}

// Put implements storage.Storage.
func (s *Storage) Put(ctx context.Context, p string, data []byte) error {
	f := s.pick(OpPut, p)
	if f != nil && f.kind == Truncate {
		if err := s.inner.Put(ctx, p, data[:f.prefix(len(data))]); err != nil {
			return err
		}
		return f.err
	}
	return do(ctx, f, func() error { return s.inner.Put(ctx, p, data) })
}

// PutIfAbsent implements storage.Storage.
func (s *Storage) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	f := s.pick(OpPutIfAbsent, p)
	if f != nil && f.kind == Truncate {
		if err := s.inner.PutIfAbsent(ctx, p, data[:f.prefix(len(data))]); err != nil {
			return err
		}
		return f.err
	}
	return do(ctx, f, func() error { return s.inner.PutIfAbsent(ctx, p, data) })
}

// List implements storage.Storage.
func (s *Storage) List(ctx context.Context, prefix string, recursive bool) ([]storage.FileInfo, error) {
	var infos []storage.FileInfo
	err := do(ctx, s.pick(OpList, prefix), func() (err error) {
		infos, err = s.inner.List(ctx, prefix, recursive)
		return err
	})
	if err != nil {
		return nil, err
	}
	return infos, nil
}

// Delete implements storage.Storage.
func (s *Storage) Delete(ctx context.Context, p string) error {
	return do(ctx, s.pick(OpDelete, p), func() error { return s.inner.Delete(ctx, p) })
}

// Stat implements storage.Storage.
func (s *Storage) Stat(ctx context.Context, p string) (storage.FileInfo, error) {
	var fi storage.FileInfo
	err := do(ctx, s.pick(OpStat, p), func() (err error) {
		fi, err = s.inner.Stat(ctx, p)
		return err
	})
	if err != nil {
		return storage.FileInfo{}, err
	}
	return fi, nil
}

// Create implements storage.Storage. The writer's Write and Close calls
// are matched against the rules too.
func (s *Storage) Create(ctx context.Context, p string) (storage.ObjectWriter, error) {
	var w storage.ObjectWriter
	err := do(ctx, s.pick(OpCreate, p), func() (err error) {
		w, err = s.inner.Create(ctx, p)
		return err
	})
	if err != nil {
		if w != nil {
			w.Abort() // a lost answer: the caller never sees this writer
		}
		return nil, err
	}
	return &writer{ObjectWriter: w, s: s, ctx: ctx, path: p}, nil
}

type writer struct {
	storage.ObjectWriter
	s    *Storage
	ctx  context.Context
	path string
}

func (w *writer) Write(b []byte) (int, error) {
	f := w.s.pick(OpWrite, w.path)
	if f == nil {
		return w.ObjectWriter.Write(b)
	}
	switch f.kind {
	case Fail:
		return 0, f.err
	case Slow:
		if err := f.wait(w.ctx); err != nil {
			return 0, err
		}
	case Truncate:
		n, err := w.ObjectWriter.Write(b[:f.prefix(len(b))])
		if err != nil {
			return n, err
		}
		return n, f.err
	}
	return w.ObjectWriter.Write(b)
}

func (w *writer) Close() error {
	f := w.s.pick(OpClose, w.path)
	if f == nil {
		return w.ObjectWriter.Close()
	}
	switch f.kind {
	case Fail:
		w.ObjectWriter.Abort() // a failed Close publishes nothing
		return f.err
	case Slow:
		if err := f.wait(w.ctx); err != nil {
			w.ObjectWriter.Abort()
			return err
		}
		return w.ObjectWriter.Close()
	}
	return do(w.ctx, f, w.ObjectWriter.Close)
}
