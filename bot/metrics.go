package bot

import (
	"context"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what the bot tells Prometheus. Labels are small fixed sets:
// never a chat, a student or a forum.
type metrics struct {
	registry    *prometheus.Registry
	updates     *prometheus.CounterVec   // type, outcome
	latency     *prometheus.HistogramVec // type
	apiCalls    *prometheus.CounterVec   // method, code
	retries     *prometheus.CounterVec   // method
	submissions *prometheus.CounterVec   // result
}

// Outcomes of an update, as counted.
const (
	outcomeHandled   = "handled"   // the student was answered
	outcomeDuplicate = "duplicate" // handled before: nothing done
	outcomeRetry     = "retry"     // a store was down: delivered again later
	outcomeLimited   = "limited"   // over the student's rate limit
	outcomeIgnored   = "ignored"   // not for the bot (groups, channels, other types)
	outcomePanic     = "panic"
)

func newMetrics(outboxDepth func() float64) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "napad_updates_total", Help: "Telegram updates handled, by type and outcome.",
		}, []string{"type", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "napad_update_duration_seconds",
			Help:    "Time from receiving an update to having answered it, by type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"type"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "napad_telegram_requests_total",
			Help: "Bot API requests, by method and HTTP status (\"error\": no answer).",
		}, []string{"method", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "napad_telegram_retries_total", Help: "Bot API calls made again after a 429, a 5xx or a network error.",
		}, []string{"method"}),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "napad_submissions_total",
			Help: "Ideas submitted: stored, queued in the outbox (PostgreSQL down), or failed (both down).",
		}, []string{"result"}),
	}
	m.registry.MustRegister(m.updates, m.latency, m.apiCalls, m.retries, m.submissions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if outboxDepth != nil {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "napad_outbox_depth", Help: "Ideas waiting in the Redis outbox for PostgreSQL.",
		}, outboxDepth))
	}
	return m
}

// MetricsHandler serves the metrics in Prometheus' text format.
func (b *Bot) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(b.metrics.registry, promhttp.HandlerOpts{})
}

// updateType names the kind of update, for metrics.
func updateType(u *models.Update) string {
	switch {
	case u.Message != nil:
		return "message"
	case u.CallbackQuery != nil:
		return "callback_query"
	case u.EditedMessage != nil:
		return "edited_message"
	}
	return "other"
}

func (m *metrics) updateDone(u *models.Update, outcome string, took time.Duration) {
	kind := updateType(u)
	m.updates.WithLabelValues(kind, outcome).Inc()
	m.latency.WithLabelValues(kind).Observe(took.Seconds())
}

// outboxDepthFrom reads the outbox length for the gauge, if the store can
// tell it.
func outboxDepthFrom(store OutboxStore) func() float64 {
	counter, ok := store.(interface {
		OutboxLen(ctx context.Context) (int64, error)
	})
	if !ok {
		return nil
	}
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := counter.OutboxLen(ctx)
		if err != nil {
			return -1 // Redis unreachable: visible, and not mistaken for empty
		}
		return float64(n)
	}
}

// apiMethodName is what a Bot API method is called: letters only. A token
// has a colon and digits.
var apiMethodName = regexp.MustCompile(`^[A-Za-z]{1,64}$`)

// countingTransport counts Bot API requests by method and status. The
// method is the last element of the path, so the token never is a label.
type countingTransport struct {
	next  http.RoundTripper
	calls *prometheus.CounterVec
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := path.Base(r.URL.Path)
	if !apiMethodName.MatchString(method) {
		method = "other" // never a path element that could hold the token
	}
	resp, err := t.next.RoundTrip(r)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.calls.WithLabelValues(method, code).Inc()
	return resp, err
}
