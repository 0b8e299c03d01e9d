package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/workflow"
)

type metrics struct {
	received *prometheus.CounterVec
	http     *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry, store docket.Store, svc *workflow.Service) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docket_requests_received_total", Help: "Requests durably received, by channel.",
		}, []string{"channel"}),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "docket_http_request_duration_seconds", Help: "Time to answer API calls, by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
	}
	reg.MustRegister(m.received, m.http, &caseCollector{store: store, svc: svc},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.http.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// caseCollector reads the case figures from the store at each scrape (cached one second), so
// that the overdue gauge is true whichever node answers.
type caseCollector struct {
	store docket.Store
	svc   *workflow.Service

	mu     sync.Mutex
	at     time.Time
	cached *docket.Stats
}

var (
	descOpen    = prometheus.NewDesc("docket_cases_open", "Cases that still owe the requester an answer.", nil, nil)
	descOverdue = prometheus.NewDesc("docket_cases_overdue", "Open cases past their deadline with the clock running. Must be zero.", nil, nil)
	descDueSoon = prometheus.NewDesc("docket_cases_due_soon", "Open cases near their deadline.", nil, nil)
	descPaused  = prometheus.NewDesc("docket_cases_paused", "Open cases whose clock is paused, waiting for the requester.", nil, nil)
	descEmerg   = prometheus.NewDesc("docket_cases_emergency_open", "Open emergency cases.", nil, nil)
	descState   = prometheus.NewDesc("docket_cases", "Cases by state.", []string{"state"}, nil)
	descJobs    = prometheus.NewDesc("docket_jobs_waiting", "Background jobs queued or running.", nil, nil)
	descFailed  = prometheus.NewDesc("docket_jobs_failed", "Background jobs that failed for good.", nil, nil)
	descUp      = prometheus.NewDesc("docket_store_up", "1 when the case figures could be read from the store.", nil, nil)
	descSOR     = prometheus.NewDesc("docket_statements", "Statements of reasons for the EU Transparency Database not yet accepted (pending) and refused.", []string{"state"}, nil)
)

func (c *caseCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOpen, descOverdue, descDueSoon, descPaused, descEmerg, descState, descJobs, descFailed, descUp, descSOR} {
		ch <- d
	}
}

func (c *caseCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cached == nil || time.Since(c.at) > time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := c.store.Stats(ctx, c.svc.Now())
		cancel()
		if err != nil {
			ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
			return
		}
		c.cached, c.at = st, time.Now()
	}
	st := c.cached
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(st.Open))
	ch <- prometheus.MustNewConstMetric(descOverdue, prometheus.GaugeValue, float64(st.Overdue))
	ch <- prometheus.MustNewConstMetric(descDueSoon, prometheus.GaugeValue, float64(st.DueSoon))
	ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, float64(st.Paused))
	ch <- prometheus.MustNewConstMetric(descEmerg, prometheus.GaugeValue, float64(st.Emergencies))
	ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(st.JobsWaiting))
	ch <- prometheus.MustNewConstMetric(descFailed, prometheus.GaugeValue, float64(st.JobsFailed))
	ch <- prometheus.MustNewConstMetric(descSOR, prometheus.GaugeValue, float64(st.StatementsPending), docket.SubmissionPending)
	ch <- prometheus.MustNewConstMetric(descSOR, prometheus.GaugeValue, float64(st.StatementsRefused), docket.SubmissionRefused)
	for _, s := range docket.CaseStates {
		ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, float64(st.ByState[string(s)]), string(s))
	}
}
