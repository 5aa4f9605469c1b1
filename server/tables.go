package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

const (
	// openTimeout bounds opening a table and its lookup.
	openTimeout = time.Minute
	// refreshTimeout bounds one refresh.
	refreshTimeout = time.Minute
	// refreshLogEvery is how often a table that keeps failing to refresh
	// is logged again.
	refreshLogEvery = 30 * time.Second
	// maxOpening bounds the tables being opened at a time.
	maxOpening = 16
)

// errUnknownTable marks a table the server does not serve.
var errUnknownTable = errors.New("unknown table")

// errClosed: the server is closed.
var errClosed = errors.New("server closed")

// served is one table being served: its lookup, the parser of its keys,
// the encoder of its rows.
type served struct {
	id     catalog.Identifier
	name   string
	table  *table.Table
	lookup *table.Lookup
	keys   *textrow.KeyParser
	rows   *textrow.JSONEncoder

	// the metrics every answered lookup records, looked up once
	latencyOK prometheus.Observer // strata_lookup_request_duration_seconds{table, code="200"}
	keysObs   prometheus.Observer // strata_lookup_keys{table}

	// the refresher's: the commit time of the served snapshot
	servedID     int64
	servedMillis int64
}

// entry is a table being opened or open.
type entry struct {
	ready chan struct{} // closed once t or err is set
	t     *served
	err   error
}

// tables holds the served tables and runs their refreshers.
type tables struct {
	s     *Server
	cat   *catalog.Catalog
	fixed bool // only the configured tables

	ctx    context.Context // the refreshers' and openers' lifetime
	cancel context.CancelFunc
	wg     sync.WaitGroup

	opening chan struct{} // a slot per table being opened, up to maxOpening

	mu     sync.Mutex
	closed bool
	m      map[catalog.Identifier]*entry
	// names maps the names URLs give open tables ("db.table", and
	// "table" in the default database) to them, read without a lock;
	// copied on write, under mu, when a table opens; nil once closed.
	names atomic.Pointer[map[string]*served]
}

func newTables(s *Server, cat *catalog.Catalog) *tables {
	ctx, cancel := context.WithCancel(context.Background())
	return &tables{
		s: s, cat: cat, fixed: len(s.cfg.tables) > 0, ctx: ctx, cancel: cancel,
		opening: make(chan struct{}, maxOpening), m: map[catalog.Identifier]*entry{},
	}
}

// get returns the served table id, opening it on first use (once, however
// many requests ask at the same time). A failed open is forgotten, so a
// later request tries again. Unknown tables are errors wrapping
// errUnknownTable.
func (tb *tables) get(ctx context.Context, id catalog.Identifier) (*served, error) {
	e, err := tb.entry(ctx, id)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.ready:
		return e.t, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// entry returns the entry of table id, starting its open if there is
// none. The table opens on its own goroutine, so that the request that
// asked first waits no longer than its deadline, as others do; at most
// maxOpening tables open at a time, so that requests naming many tables
// (most of them missing, say) cannot pile up opens that outlive them. Close
// does not wait for an open: it ends with the server's context.
func (tb *tables) entry(ctx context.Context, id catalog.Identifier) (*entry, error) {
	slot := false
	for {
		tb.mu.Lock()
		if tb.closed {
			tb.mu.Unlock()
			if slot {
				<-tb.opening
			}
			return nil, errClosed
		}
		e, ok := tb.m[id]
		switch {
		case ok || (tb.fixed && !slices.Contains(tb.s.cfg.tables, id)):
			tb.mu.Unlock()
			if slot {
				<-tb.opening
			}
			if e == nil {
				return nil, fmt.Errorf("%w: %s is not served", errUnknownTable, id)
			}
			return e, nil
		case slot:
			e = &entry{ready: make(chan struct{})}
			tb.m[id] = e
			tb.mu.Unlock()
			go tb.finishOpen(id, e)
			return e, nil
		}
		tb.mu.Unlock()
		select {
		case tb.opening <- struct{}{}:
			slot = true // look again: another request may have started the open
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// finishOpen opens the table of entry e, publishes the outcome, starts
// the refresher and gives back its opening slot.
func (tb *tables) finishOpen(id catalog.Identifier, e *entry) {
	defer func() { <-tb.opening }()
	ctx, cancel := context.WithTimeout(tb.ctx, openTimeout)
	t, err := tb.openRecovered(ctx, id)
	cancel()
	tb.mu.Lock()
	if err == nil && tb.closed {
		t.lookup.Close()
		t, err = nil, errClosed
	}
	if err != nil {
		delete(tb.m, id)
	} else {
		tb.wg.Add(1)
		go tb.refreshLoop(t)
		tb.name(t)
	}
	e.t, e.err = t, err
	close(e.ready)
	tb.mu.Unlock()
}

// openRecovered is openTable with a panic turned into its error: the open
// runs on a goroutine of its own, where a panic would end the process.
func (tb *tables) openRecovered(ctx context.Context, id catalog.Identifier) (t *served, err error) {
	defer func() {
		if v := recover(); v != nil {
			t, err = nil, fmt.Errorf("panic opening %s: %v\n%s", id, v, debug.Stack())
		}
	}()
	return tb.openTable(ctx, id)
}

// byName returns the open table a URL names as "db.table" (or "table" in
// the default database), or nil: then tables.get decides.
func (tb *tables) byName(name []byte) *served {
	if m := tb.names.Load(); m != nil {
		return (*m)[string(name)]
	}
	return nil
}

// name adds t to names; the caller holds mu.
func (tb *tables) name(t *served) {
	m := map[string]*served{}
	if old := tb.names.Load(); old != nil {
		maps.Copy(m, *old)
	}
	m[t.name] = t
	if t.id.Database == catalog.DefaultDatabase {
		m[t.id.Table] = t
	}
	tb.names.Store(&m)
}

// openTable opens a table and its lookup at the latest snapshot.
func (tb *tables) openTable(ctx context.Context, id catalog.Identifier) (*served, error) {
	t, err := tb.cat.GetTable(ctx, id)
	if errors.Is(err, spec.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s does not exist", errUnknownTable, id)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", id, err)
	}
	if len(t.Schema().PrimaryKeys) == 0 {
		return nil, fmt.Errorf("%w: %s has no primary key", errUnknownTable, id)
	}
	l, err := t.NewLookup(ctx, table.WithRefreshInterval(0)) // the server's refresher follows snapshots
	if err != nil {
		return nil, fmt.Errorf("open lookup of %s: %w", id, err)
	}
	st := &served{
		id: id, name: id.String(), table: t, lookup: l,
		keys: textrow.NewKeyParser(l.KeyFields()),
		rows: textrow.NewJSONEncoder(io.Discard, t.Schema().Fields),
	}
	st.latencyOK = tb.s.m.latency.WithLabelValues(st.name, "200")
	st.keysObs = tb.s.m.keys.WithLabelValues(st.name)
	latest, err := t.Snapshots().Latest(ctx)
	if err == nil {
		err = tb.observe(ctx, st, latest)
	}
	if err != nil {
		tb.s.log.Warn("snapshot lag unknown", "table", st.name, "err", err)
	}
	tb.s.log.Info("serving table", "table", st.name, "snapshot", l.Snapshot())
	return st, nil
}

// open lists the open tables.
func (tb *tables) open() []*served {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []*served
	for _, e := range tb.m {
		select {
		case <-e.ready:
			if e.t != nil {
				out = append(out, e.t)
			}
		default:
		}
	}
	return out
}

// close stops the refreshers and closes the lookups.
func (tb *tables) close() error {
	tb.mu.Lock()
	tb.closed = true
	tb.names.Store(nil)
	tb.mu.Unlock()
	tb.cancel()
	tb.wg.Wait()
	var errs []error
	for _, t := range tb.open() {
		if err := t.lookup.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close lookup of %s: %w", t.name, err))
		}
	}
	return errors.Join(errs...)
}

// refreshLoop refreshes a table every interval until the server closes,
// logging failures (the first, then every refreshLogEvery while they last,
// and the recovery) without ever stopping.
func (tb *tables) refreshLoop(t *served) {
	defer tb.wg.Done()
	every := tb.s.cfg.refresh
	if every <= 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	failures, lastLog := 0, time.Time{}
	for {
		select {
		case <-tb.ctx.Done():
			return
		case <-tick.C:
		}
		err := tb.refresh(t)
		switch {
		case err != nil && tb.ctx.Err() != nil:
			return // closing
		case err != nil:
			failures++
			tb.s.m.refreshFailures.WithLabelValues(t.name).Inc()
			if failures == 1 || time.Since(lastLog) >= refreshLogEvery {
				tb.s.log.Error("refresh failed; serving the last snapshot", "table", t.name,
					"snapshot", t.lookup.Snapshot(), "failures", failures, "err", err)
				lastLog = time.Now()
			}
		case failures > 0:
			tb.s.log.Info("refresh recovered", "table", t.name, "snapshot", t.lookup.Snapshot(), "failures", failures)
			failures = 0
		}
	}
}

// refresh moves a table's lookup to the latest snapshot, when it serves
// another (a newer one, or after a rollback an older one), and updates its
// snapshot and lag gauges.
func (tb *tables) refresh(t *served) error {
	ctx, cancel := context.WithTimeout(tb.ctx, refreshTimeout)
	defer cancel()
	start := time.Now()
	defer func() { tb.s.m.refreshDuration.WithLabelValues(t.name).Observe(time.Since(start).Seconds()) }()
	latest, err := t.table.Snapshots().Latest(ctx)
	if err != nil {
		return fmt.Errorf("latest snapshot of %s: %w", t.name, err)
	}
	var rerr error
	if latest != nil && !t.lookup.Serves(latest) {
		if _, err := t.lookup.Refresh(ctx); err != nil {
			rerr = fmt.Errorf("refresh %s: %w", t.name, err)
		}
	}
	if err := tb.observe(ctx, t, latest); err != nil && rerr == nil {
		rerr = err
	}
	return rerr
}

// observe sets a table's snapshot gauge, and its lag gauge: the latest
// snapshot's commit time minus the served snapshot's (with nothing served
// yet, the latest snapshot's age).
func (tb *tables) observe(ctx context.Context, t *served, latest *spec.Snapshot) error {
	id := t.lookup.Snapshot()
	tb.s.m.snapshot.WithLabelValues(t.name).Set(float64(id))
	if latest == nil {
		tb.s.m.lag.WithLabelValues(t.name).Set(0)
		return nil
	}
	if id != t.servedID {
		switch id {
		case 0:
			t.servedMillis = 0
		case latest.ID:
			t.servedMillis = latest.TimeMillis
		default:
			snap, err := t.table.Snapshots().Get(ctx, id)
			if err != nil {
				return fmt.Errorf("snapshot %d of %s: %w", id, t.name, err)
			}
			t.servedMillis = snap.TimeMillis
		}
		t.servedID = id
	}
	lag := latest.TimeMillis - t.servedMillis
	if id == 0 {
		lag = time.Now().UnixMilli() - latest.TimeMillis
	}
	tb.s.m.lag.WithLabelValues(t.name).Set(float64(max(lag, 0)) / 1000)
	return nil
}
