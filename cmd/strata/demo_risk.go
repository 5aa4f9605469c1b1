package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// The risk rule: a payment is flagged when it comes from a device the
// user's features do not know (or the user has none yet) and is large or
// the user's credit score is low.
const (
	riskLargeCents = 100_000 // 1,000.00
	riskLowScore   = 580
)

// lookupClient looks the demo table's users up through the lookup
// server's HTTP API, as a risk service would.
type lookupClient struct {
	http *http.Client
	url  string
	lat  *latencies
}

func newLookupClient(addr, table string, conns int) *lookupClient {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	return &lookupClient{http: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		url: "http://" + addr + "/v1/tables/" + table + "/lookup", lat: newLatencies()}
}

// lookupAnswer is the server's answer: the snapshot it read and one row
// per key, each as `strata scan --format jsonl` prints it, or null.
type lookupAnswer struct {
	Snapshot int64             `json:"snapshot"`
	Rows     []json.RawMessage `json:"rows"`
}

// get looks users up in one request, timing it: the risk checks' lookups.
func (c *lookupClient) get(ctx context.Context, users ...int64) (lookupAnswer, error) {
	start := time.Now()
	a, err := c.do(ctx, users)
	if err == nil {
		c.lat.add(time.Since(start))
	}
	return a, err
}

// do looks users up in one request.
func (c *lookupClient) do(ctx context.Context, users []int64) (lookupAnswer, error) {
	body := []byte(`{"keys":[`)
	for i, u := range users {
		if i > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendInt(body, u, 10)
	}
	body = append(body, "]}"...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return lookupAnswer{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return lookupAnswer{}, fmt.Errorf("lookup: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return lookupAnswer{}, fmt.Errorf("lookup: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return lookupAnswer{}, fmt.Errorf("lookup: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var a lookupAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("lookup answer: %w", err)
	}
	if len(a.Rows) != len(users) {
		return a, fmt.Errorf("lookup answer: %d rows for %d keys", len(a.Rows), len(users))
	}
	return a, nil
}

// riskFeatures are the features the risk rule reads.
type riskFeatures struct {
	Device *string `json:"device_id"`
	Score  *int32  `json:"credit_score"`
}

// riskChecker checks payments before they are written: it looks the
// user's features up and flags the payment by the risk rule.
type riskChecker struct {
	client           *lookupClient
	fresh            *freshness
	checked, flagged atomic.Int64
}

// check sets ev.flagged.
func (rc *riskChecker) check(ctx context.Context, ev *demoEvent) error {
	a, err := rc.client.get(ctx, ev.user)
	if err != nil {
		return err
	}
	rc.fresh.observed(a.Snapshot)
	var f riskFeatures
	if err := json.Unmarshal(a.Rows[0], &f); err != nil {
		return fmt.Errorf("features of user %d: %w", ev.user, err)
	}
	newDevice := f.Device == nil || *f.Device != ev.device
	lowScore := f.Score != nil && *f.Score < riskLowScore
	ev.flagged = newDevice && (ev.cents >= riskLargeCents || lowScore)
	rc.checked.Add(1)
	if ev.flagged {
		rc.flagged.Add(1)
	}
	return nil
}

// run checks the payments of in and sends them on to out, until in is
// closed.
func (rc *riskChecker) run(ctx context.Context, in <-chan demoEvent, out chan<- demoEvent) error {
	for ev := range in {
		if err := rc.check(ctx, &ev); err != nil {
			return err
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
