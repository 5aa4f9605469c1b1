package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stratalake/strata/spec"
)

// demoSource is the feed an event of the demo comes from; each feed sets
// its own sequence group of the feature table.
type demoSource uint8

const (
	sourceLogin   demoSource = iota // the login stream: IP and device
	sourcePayment                   // the payments stream: counters, last amount, flags
	sourceBureau                    // the credit bureau's feed: credit score
)

// demoEvent is one generated event. At is its event time, the value of
// its group's sequence field; Born is when the generator made it (a late
// event's At lies before its Born).
type demoEvent struct {
	source     demoSource
	user       int64
	at, born   time.Time
	late       bool
	ip, device string // login: where from; payment: the paying device
	cents      int64  // payment amount in cents
	score      int32  // bureau: credit score
	flagged    bool   // payment: set by the risk check
}

// The demo table's columns, in order; each sequence group's ordering field
// comes first, then the fields it protects.
const demoColumns = "user_id BIGINT NOT NULL, " +
	"login_ts TIMESTAMP(3), last_ip STRING, device_id STRING, login_count BIGINT, " +
	"txn_ts TIMESTAMP(3), last_amount DECIMAL(12, 2), txn_count BIGINT, txn_amount_sum DECIMAL(18, 2), " +
	"txn_amount_max DECIMAL(12, 2), flagged_count BIGINT, " +
	"bureau_ts TIMESTAMP(3), credit_score INT"

// Column positions of demoColumns.
const (
	colUser = iota
	colLoginTS
	colIP
	colDevice
	colLogins
	colTxnTS
	colLastAmount
	colTxns
	colAmountSum
	colAmountMax
	colFlagged
	colBureauTS
	colScore
	demoWidth
)

// demoOptions are the demo table's options: partial-update with a sequence
// group per source, the counters aggregated inside the payments group,
// changelog from lookups, and compaction and expiration left to the
// maintenance job.
func demoOptions() *spec.StringMap {
	return spec.NewStringMap(
		"bucket", "4",
		"merge-engine", "partial-update",
		"fields.login_ts.sequence-group", "last_ip,device_id,login_count",
		"fields.login_count.aggregate-function", "sum",
		"fields.txn_ts.sequence-group", "last_amount,txn_count,txn_amount_sum,txn_amount_max,flagged_count",
		"fields.txn_count.aggregate-function", "sum",
		"fields.txn_amount_sum.aggregate-function", "sum",
		"fields.txn_amount_max.aggregate-function", "max",
		"fields.flagged_count.aggregate-function", "sum",
		"fields.bureau_ts.sequence-group", "credit_score",
		"changelog-producer", "lookup",
		"write-only", "true",
		"snapshot.num-retained.min", "10",
		"snapshot.num-retained.max", "30",
		"consumer.expiration-time", "1 h",
	)
}

// row is the event as the partial-update record its feed writes: its own
// group's columns set, every other column null.
func (ev *demoEvent) row() spec.Row {
	r := make(spec.Row, demoWidth)
	r[colUser] = ev.user
	ts := spec.TimestampFromTime(ev.at)
	switch ev.source {
	case sourceLogin:
		r[colLoginTS], r[colIP], r[colDevice], r[colLogins] = ts, ev.ip, ev.device, int64(1)
	case sourcePayment:
		amount := spec.NewDecimal(ev.cents, 2)
		r[colTxnTS], r[colLastAmount], r[colTxns] = ts, amount, int64(1)
		r[colAmountSum], r[colAmountMax], r[colFlagged] = spec.NewDecimal(ev.cents, 2), spec.NewDecimal(ev.cents, 2), int64(0)
		if ev.flagged {
			r[colFlagged] = int64(1)
		}
	case sourceBureau:
		r[colBureauTS], r[colScore] = ts, ev.score
	}
	return r
}

// generator makes the demo's events: a population of users, each with a
// home IP and a current device, who log in, pay, and get credit reports.
type generator struct {
	rng     *rand.Rand
	ips     []string
	devices []string
	made    int64
}

func newGenerator(seed uint64, users int) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(seed, 0x5eed)), ips: make([]string, users), devices: make([]string, users)}
	for u := range users {
		g.ips[u], g.devices[u] = g.ip(), g.device()
	}
	return g
}

func (g *generator) ip() string {
	return fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
}

func (g *generator) device() string { return fmt.Sprintf("fp-%08x", g.rng.Uint32()) }

// next makes the event generated at now: 70% payments, 25% logins, 5%
// credit reports. Some logins (a phone that was offline) and reports (a
// bureau's correction) arrive late, with an event time in the past.
func (g *generator) next(now time.Time) demoEvent {
	g.made++
	u := g.rng.IntN(len(g.ips))
	ev := demoEvent{user: int64(u) + 1, at: now, born: now}
	switch p := g.rng.IntN(100); {
	case p < 70:
		ev.source, ev.cents, ev.device = sourcePayment, g.amount(), g.devices[u]
		if g.rng.IntN(100) < 3 { // a card used from somebody else's device
			ev.device = g.device()
		}
	case p < 95:
		ev.source = sourceLogin
		if g.rng.IntN(100) < 5 { // a new phone
			g.devices[u] = g.device()
		}
		ev.device, ev.ip = g.devices[u], g.ips[u]
		if g.rng.IntN(100) < 20 {
			ev.ip = g.ip()
		}
		if g.rng.IntN(100) < 3 {
			ev.late, ev.at = true, now.Add(-time.Duration(1+g.rng.IntN(600))*time.Second)
		}
	default:
		ev.source, ev.score = sourceBureau, g.score()
		if g.rng.IntN(100) < 20 {
			ev.late, ev.at = true, now.Add(-time.Duration(1+g.rng.IntN(3600))*time.Second)
		}
	}
	ev.at = ev.at.Truncate(time.Millisecond) // TIMESTAMP(3)
	return ev
}

// score is a credit score: about 700 on average, 7% below 580, within
// 300..850.
func (g *generator) score() int32 {
	return int32(min(850, max(300, 700+80*g.rng.NormFloat64())))
}

// backfill makes the events that load user's features before the stream
// starts: a login from the current device and a credit report, from the
// last weeks.
func (g *generator) backfill(user int64, now time.Time) [2]demoEvent {
	u := user - 1
	ago := func(days int) time.Time {
		return now.Add(-time.Duration(1+g.rng.Int64N(int64(days)*24*3600)) * time.Second).Truncate(time.Millisecond)
	}
	return [2]demoEvent{
		{source: sourceLogin, user: user, at: ago(30), born: now, ip: g.ips[u], device: g.devices[u]},
		{source: sourceBureau, user: user, at: ago(90), born: now, score: g.score()},
	}
}

// amount is a payment amount in cents: mostly small, 5% of 1,000.00 or more.
func (g *generator) amount() int64 {
	switch p := g.rng.IntN(100); {
	case p < 80:
		return 100 + g.rng.Int64N(9_900)
	case p < 95:
		return 10_000 + g.rng.Int64N(90_000)
	}
	return 100_000 + g.rng.Int64N(400_000)
}

// run generates events at rate per second, from now until ctx ends or
// limit events (0: no limit) were made, sending payments to payments (for
// the risk check) and the others to direct. It closes neither channel.
func (g *generator) run(ctx context.Context, rate, limit int64, payments, direct chan<- demoEvent) {
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for limit <= 0 || g.made < limit {
		due := int64(time.Since(start).Seconds() * float64(rate))
		if limit > 0 {
			due = min(due, limit)
		}
		for g.made < due {
			ev := g.next(time.Now())
			out := direct
			if ev.source == sourcePayment {
				out = payments
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}
