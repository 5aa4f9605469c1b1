package main

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
)

// features is what the demo expects the table to hold for one user after
// the events written so far, computed as Paimon's partial-update engine
// defines it, independently of the table's merge code: each source's
// columns move together, to the values of the event with the latest event
// time (on a tie, the later written); the counters add up every event of
// their source, late ones too.
type features struct {
	login, txn, bureau        bool // the source has written for this user
	loginAt, txnAt, bureauAt  time.Time
	ip, device                string
	logins, txns, flagged     int64
	lastCents, sumCents, maxC int64
	score                     int32
}

// apply folds an event in, as the table merges its record.
func (f *features) apply(ev *demoEvent) {
	switch ev.source {
	case sourceLogin:
		f.logins++
		if !f.login || !ev.at.Before(f.loginAt) {
			f.login, f.loginAt, f.ip, f.device = true, ev.at, ev.ip, ev.device
		}
	case sourcePayment:
		f.txns++
		f.sumCents += ev.cents
		if ev.flagged {
			f.flagged++
		}
		if !f.txn || ev.cents > f.maxC {
			f.maxC = ev.cents
		}
		if !f.txn || !ev.at.Before(f.txnAt) {
			f.txn, f.txnAt, f.lastCents = true, ev.at, ev.cents
		}
	case sourceBureau:
		if !f.bureau || !ev.at.Before(f.bureauAt) {
			f.bureau, f.bureauAt, f.score = true, ev.at, ev.score
		}
	}
}

// row is the table row the features stand for.
func (f *features) row(user int64) spec.Row {
	r := make(spec.Row, demoWidth)
	r[colUser] = user
	if f.login {
		r[colLoginTS], r[colIP], r[colDevice], r[colLogins] = spec.TimestampFromTime(f.loginAt), f.ip, f.device, f.logins
	}
	if f.txn {
		r[colTxnTS], r[colLastAmount], r[colTxns] = spec.TimestampFromTime(f.txnAt), spec.NewDecimal(f.lastCents, 2), f.txns
		r[colAmountSum], r[colAmountMax], r[colFlagged] = spec.NewDecimal(f.sumCents, 2), spec.NewDecimal(f.maxC, 2), f.flagged
	}
	if f.bureau {
		r[colBureauTS], r[colScore] = spec.TimestampFromTime(f.bureauAt), f.score
	}
	return r
}

// demoModel is the expected table: every user's features after the events
// written, applied in the order they were written.
type demoModel struct {
	users map[int64]*features
}

func newDemoModel() *demoModel { return &demoModel{users: map[int64]*features{}} }

func (m *demoModel) apply(ev *demoEvent) {
	f := m.users[ev.user]
	if f == nil {
		f = &features{}
		m.users[ev.user] = f
	}
	f.apply(ev)
}

// row is the user's expected row, nil for a user with no events.
func (m *demoModel) row(user int64) spec.Row {
	if f := m.users[user]; f != nil {
		return f.row(user)
	}
	return nil
}

// ids are the users with features, ascending.
func (m *demoModel) ids() []int64 {
	ids := make([]int64, 0, len(m.users))
	for u := range m.users {
		ids = append(ids, u)
	}
	slices.Sort(ids)
	return ids
}

// risky are the users with a flagged payment, as the demo's batch scan
// (flagged_count > 0) finds them, in ascending order.
func (m *demoModel) risky() []int64 {
	var ids []int64
	for u, f := range m.users {
		if f.flagged > 0 {
			ids = append(ids, u)
		}
	}
	slices.Sort(ids)
	return ids
}

// checkRows compares rows (one per user, any order) with the model, naming
// the first difference; what says where the rows came from.
func (m *demoModel) checkRows(what string, rows map[int64]spec.Row) error {
	for _, u := range m.ids() {
		got, ok := rows[u]
		if !ok {
			return fmt.Errorf("%s: user %d is missing (want %v)", what, u, m.row(u))
		}
		if want := m.row(u); !sameRow(got, want) {
			return fmt.Errorf("%s: user %d is %v, want %v", what, u, got, want)
		}
	}
	if len(rows) != len(m.users) {
		for u, r := range rows {
			if m.users[u] == nil {
				return fmt.Errorf("%s: user %d should not exist: %v", what, u, r)
			}
		}
	}
	return nil
}

// sameRow says whether two rows hold the same values. Values of different
// Go types differ (spec.CompareRows expects the types of one schema and
// would panic on a row read with another).
func sameRow(a, b spec.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != nil && b[i] != nil && reflect.TypeOf(a[i]) != reflect.TypeOf(b[i]) {
			return false
		}
	}
	return spec.CompareRows(a, b) == 0
}

// checkJSON compares a lookup's answer for user (a row as the scan's JSON
// encoder writes it, or null) with the model.
func (m *demoModel) checkJSON(enc *textrow.JSONEncoder, user int64, got []byte) error {
	want := []byte("null")
	if r := m.row(user); r != nil {
		var err error
		if want, err = enc.AppendRow(nil, r); err != nil {
			return err
		}
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("lookup of user %d answered %s, want %s", user, got, want)
	}
	return nil
}
