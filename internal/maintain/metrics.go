package maintain

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratalake/strata/table"
)

// metrics are the job's Prometheus metrics; a nil *metrics counts nothing.
type metrics struct {
	steps    *prometheus.CounterVec   // by table, step, outcome
	seconds  *prometheus.HistogramVec // by step
	expired  *prometheus.CounterVec   // snapshots, by table
	deleted  *prometheus.CounterVec   // files, by table and kind
	lastDone *prometheus.GaugeVec     // by table and step: unix seconds of the last success
}

func newMetrics() *metrics {
	return &metrics{
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_maintain_steps_total",
			Help: "Maintenance steps run, by table, step (compact, expire, orphans) and outcome (ok, error)."},
			[]string{"table", "step", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "strata_maintain_step_seconds",
			Help: "Duration of successful maintenance steps.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)},
			[]string{"step"}),
		expired: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_maintain_snapshots_expired_total",
			Help: "Snapshots expired."}, []string{"table"}),
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_maintain_files_deleted_total",
			Help: "Files deleted, by kind (data, changelog, manifest, index, orphan)."}, []string{"table", "kind"}),
		lastDone: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "strata_maintain_last_success_timestamp_seconds",
			Help: "Unix time of each step's last success."}, []string{"table", "step"}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.steps, m.seconds, m.expired, m.deleted, m.lastDone} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) done(tbl, step string, d time.Duration) {
	if m == nil {
		return
	}
	m.steps.WithLabelValues(tbl, step, "ok").Inc()
	m.seconds.WithLabelValues(step).Observe(d.Seconds())
	m.lastDone.WithLabelValues(tbl, step).SetToCurrentTime()
}

func (m *metrics) failed(tbl, step string) {
	if m != nil {
		m.steps.WithLabelValues(tbl, step, "error").Inc()
	}
}

func (m *metrics) expiredRun(tbl string, r table.ExpireResult) {
	if m == nil {
		return
	}
	m.expired.WithLabelValues(tbl).Add(float64(r.To - r.From))
	m.deleted.WithLabelValues(tbl, "data").Add(float64(r.DataFiles))
	m.deleted.WithLabelValues(tbl, "changelog").Add(float64(r.ChangelogFiles))
	m.deleted.WithLabelValues(tbl, "manifest").Add(float64(r.Manifests))
	m.deleted.WithLabelValues(tbl, "index").Add(float64(r.IndexFiles))
}

func (m *metrics) orphanRun(tbl string, r table.OrphanResult) {
	if m != nil {
		m.deleted.WithLabelValues(tbl, "orphan").Add(float64(len(r.Orphans)))
	}
}
