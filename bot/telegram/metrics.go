package telegram

import (
	"net/http"
	"path"
	"regexp"
	"strconv"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are what the Telegram channel tells Prometheus, beside the
// runtime's. Labels are small fixed sets: never a chat, a student or a forum.
type metrics struct {
	updates  *prometheus.CounterVec   // type, outcome
	latency  *prometheus.HistogramVec // type
	apiCalls *prometheus.CounterVec   // method, code
	retries  *prometheus.CounterVec   // method
}

// Outcomes of an update, as counted: the runtime's (handled, duplicate,
// retry) and the channel's own.
const (
	outcomeLimited = "limited" // over the student's rate limit
	outcomeIgnored = "ignored" // not for the bot (groups, channels, other types)
	outcomePanic   = "panic"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
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
	}
	reg.MustRegister(m.updates, m.latency, m.apiCalls, m.retries)
	return m
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
