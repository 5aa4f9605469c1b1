package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/stratalake/strata/spec"
)

// demoSummary is what the demo reports at the end. Printed as aligned
// "key: value" lines, or with --json as one object with the same keys in
// the same order; times are in milliseconds (_ms) or seconds (_s).
type demoSummary struct {
	Table              string   `json:"table"`
	Warehouse          string   `json:"warehouse"`
	Seed               uint64   `json:"seed"`
	Interrupted        bool     `json:"interrupted"`
	StreamedS          float64  `json:"streamed_s"`
	ElapsedS           float64  `json:"elapsed_s"`
	RowsWritten        int64    `json:"rows_written"`
	RowsPerS           float64  `json:"rows_per_s"`
	Payments           int64    `json:"payments"`
	Logins             int64    `json:"logins"`
	CreditReports      int64    `json:"credit_reports"`
	LateEvents         int64    `json:"late_events"`
	Users              int64    `json:"users"`
	Commits            int64    `json:"commits"`
	LatestSnapshot     int64    `json:"latest_snapshot"`
	MaintenanceRounds  int64    `json:"maintenance_rounds"`
	Compactions        int64    `json:"compactions"`
	SnapshotsExpired   int64    `json:"snapshots_expired"`
	OrphansDeleted     int64    `json:"orphans_deleted"`
	Lookups            int64    `json:"lookups"`
	LookupP50Ms        float64  `json:"lookup_p50_ms"`
	LookupP99Ms        float64  `json:"lookup_p99_ms"`
	LookupP999Ms       float64  `json:"lookup_p999_ms"`
	FreshnessP50Ms     float64  `json:"freshness_p50_ms"`
	FreshnessP99Ms     float64  `json:"freshness_p99_ms"`
	EventToLookupP50Ms float64  `json:"event_to_lookup_p50_ms"`
	EventToLookupP99Ms float64  `json:"event_to_lookup_p99_ms"`
	ChangesStreamed    int64    `json:"changes_streamed"`
	PaymentsFlagged    int64    `json:"payments_flagged"`
	RiskyUsers         int64    `json:"risky_users"`
	Checks             string   `json:"checks"`
	Next               []string `json:"next"`

	top []spec.Row // the most flagged users, printed in text form
}

// summary gathers the run's counters.
func (r *demoRun) summary(latest, risky int64) *demoSummary {
	w := r.writer
	rows := w.rows.Load()
	lookups, lat := r.client.lat.total(0.5, 0.99, 0.999)
	_, fresh := r.fresh.commit.total(0.5, 0.99)
	_, ev := r.fresh.event.total(0.5, 0.99)
	return &demoSummary{
		Table: demoTable.String(), Warehouse: r.e.location(), Seed: r.f.seed,
		StreamedS: round(r.ran.Seconds(), 1), ElapsedS: round(time.Since(r.began).Seconds(), 1),
		RowsWritten: rows, RowsPerS: round(float64(rows)/max(r.ran.Seconds(), 1e-3), 0),
		Payments: w.bySrc[sourcePayment].Load(), Logins: w.bySrc[sourceLogin].Load(),
		CreditReports: w.bySrc[sourceBureau].Load(), LateEvents: w.late.Load(),
		Users: int64(len(w.model.users)), Commits: w.commits.Load(), LatestSnapshot: latest,
		MaintenanceRounds: r.maint.rounds.Load(), Compactions: r.maint.compactions.Load(),
		SnapshotsExpired: r.maint.expired.Load(), OrphansDeleted: r.maint.orphans.Load(),
		Lookups: lookups, LookupP50Ms: msValue(lat[0]), LookupP99Ms: msValue(lat[1]), LookupP999Ms: msValue(lat[2]),
		FreshnessP50Ms: msValue(fresh[0]), FreshnessP99Ms: msValue(fresh[1]),
		EventToLookupP50Ms: msValue(ev[0]), EventToLookupP99Ms: msValue(ev[1]),
		ChangesStreamed: r.follower.changes.Load(), PaymentsFlagged: r.risk.flagged.Load(), RiskyUsers: risky,
	}
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// writeText writes the summary as aligned "key: value" lines, the keys
// those of the JSON form; Next is left to the hints.
func (s *demoSummary) writeText(w io.Writer) {
	v := reflect.ValueOf(s).Elem()
	typ := v.Type()
	width := 0
	for i := range typ.NumField() {
		if k := jsonKey(typ.Field(i)); k != "" {
			width = max(width, len(k))
		}
	}
	for i := range typ.NumField() {
		k := jsonKey(typ.Field(i))
		if k == "" || k == "next" {
			continue
		}
		var val string
		switch f := v.Field(i); f.Kind() {
		case reflect.Float64:
			val = strconv.FormatFloat(f.Float(), 'f', -1, 64)
		default:
			val = fmt.Sprint(f.Interface())
		}
		fmt.Fprintf(w, "%-*s %s\n", width+1, k+":", val)
	}
}

// jsonKey is the field's JSON key, "" for a field not in the JSON form.
func jsonKey(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if !f.IsExported() || tag == "-" {
		return ""
	}
	return tag
}

// writeJSON writes the summary as one JSON object and a newline.
func (s *demoSummary) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// writeTop writes the most flagged users.
func (s *demoSummary) writeTop(w io.Writer) {
	if len(s.top) == 0 {
		return
	}
	fmt.Fprintf(w, "\nrisky users (%s): %d; the most flagged:\n", demoRiskyFilter, s.RiskyUsers)
	fmt.Fprintf(w, "  %8s  %7s  %9s  %14s  %12s  %s\n", "user_id", "flagged", "txn_count", "txn_amount_max", "credit_score", "device_id")
	for _, r := range s.top {
		fmt.Fprintf(w, "  %8v  %7v  %9v  %14v  %12v  %v\n", r[colUser], r[colFlagged], r[colTxns], r[colAmountMax], orNull(r[colScore]), orNull(r[colDevice]))
	}
}

func orNull(v any) any {
	if v == nil {
		return "null"
	}
	return v
}

// nextCommands are the commands to explore the table the demo left.
func (r *demoRun) nextCommands(sample int64) []string {
	prog := demoProg()
	if loc := r.e.location(); loc != "warehouse" {
		prog += " --warehouse " + shellQuote(loc)
	}
	t := demoTable.String()
	return []string{
		fmt.Sprintf("%s scan %s --where %s --limit 10", prog, t, shellQuote(demoRiskyFilter)),
		fmt.Sprintf("%s lookup %s %d", prog, t, sample),
		fmt.Sprintf("%s tail %s --from earliest | head", prog, t),
		fmt.Sprintf("%s snapshots %s", prog, t),
		fmt.Sprintf("%s files %s", prog, t),
		fmt.Sprintf("%s compact %s --full", prog, t),
		fmt.Sprintf("%s serve --tables %s   # then: curl -s localhost:8080/v1/tables/%s/lookup -d '{\"keys\": [%d]}'", prog, t, t, sample),
		sqlCommand(prog, shellQuote("SELECT count(*), avg(credit_score) FROM "+t+" WHERE "+demoRiskyFilter)),
	}
}

// sqlCommand is strata sql with query, which needs a build with DuckDB.
func sqlCommand(prog, query string) string {
	if rest, ok := strings.CutPrefix(prog, "go run "); ok {
		return "go run -tags duckdb_arrow " + rest + " sql " + query
	}
	return prog + " sql " + query + "   # in a build with -tags duckdb_arrow"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=@", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// report prints the summary: text and the commands to try on stdout, or
// with --json the JSON object on stdout and the commands on stderr.
func (r *demoRun) report(s *demoSummary) error {
	sample := int64(1)
	if len(s.top) > 0 {
		sample = s.top[0][colUser].(int64)
	}
	s.Next = r.nextCommands(sample)
	if r.f.json {
		if err := s.writeJSON(r.e.stdout); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(r.e.stdout, "\nsummary:")
		s.writeText(r.e.stdout)
		s.writeTop(r.e.stdout)
	}
	fmt.Fprintf(r.info, "\n%s stays in %s. Try:\n", demoTable, r.e.location())
	for _, c := range s.Next {
		fmt.Fprintf(r.info, "  %s\n", c)
	}
	return nil
}
