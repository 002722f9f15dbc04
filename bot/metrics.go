package bot

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what the runtime tells Prometheus; channels add theirs to the
// same registry. Labels are small fixed sets: never a chat, a student or a
// forum.
type metrics struct {
	registry    *prometheus.Registry
	submissions *prometheus.CounterVec // result
	deadLetters prometheus.Counter
	broadcasts  *prometheus.CounterVec // kind, result
}

func newMetrics(outboxDepth, outboxDead func() float64) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "napad_submissions_total",
			Help: "Ideas submitted: stored, queued in the outbox (PostgreSQL down), or failed (both down).",
		}, []string{"result"}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "napad_outbox_dead_letters_total",
			Help: "Outbox entries this replica moved aside (unreadable, or failing while PostgreSQL was up).",
		}),
		broadcasts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "napad_broadcast_sent_total",
			Help: "Broadcast messages this replica tried, by kind and result: sent, unreachable (blocked the bot), retry, failed (given up).",
		}, []string{"kind", "result"}),
	}
	m.registry.MustRegister(m.submissions, m.deadLetters, m.broadcasts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if outboxDepth != nil {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "napad_outbox_depth", Help: "Ideas waiting in the Redis outbox for PostgreSQL.",
		}, outboxDepth))
	}
	if outboxDead != nil {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "napad_outbox_dead", Help: "Outbox entries moved aside for a person to look at (outbox:dead in Redis).",
		}, outboxDead))
	}
	return m
}

// Metrics is the registry channels add their metrics to.
func (rt *Runtime) Metrics() prometheus.Registerer { return rt.metrics.registry }

// MetricsHandler serves the metrics in Prometheus' text format.
func (rt *Runtime) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(rt.metrics.registry, promhttp.HandlerOpts{})
}

// outboxDepthFrom reads the outbox length for the gauge, if the store can
// tell it.
func outboxDepthFrom(store OutboxStore) func() float64 {
	return gaugeFrom(store, func(c interface {
		OutboxLen(ctx context.Context) (int64, error)
	}) counter {
		return c.OutboxLen
	})
}

// outboxDeadFrom reads how many outbox entries were moved aside, if the
// store can tell it.
func outboxDeadFrom(store OutboxStore) func() float64 {
	return gaugeFrom(store, func(c interface {
		DeadOutboxLen(ctx context.Context) (int64, error)
	}) counter {
		return c.DeadOutboxLen
	})
}

// broadcastsPendingFrom counts the broadcast messages not sent yet, if the
// store can tell it.
func broadcastsPendingFrom(store BroadcastStore) func() float64 {
	return gaugeFrom(store, func(c interface {
		PendingDeliveries(ctx context.Context) (int64, error)
	}) counter {
		return c.PendingDeliveries
	})
}

// counter is how a store tells a count for a gauge.
type counter func(ctx context.Context) (int64, error)

// gaugeFrom is a gauge of the count method picks, if store has it (it
// satisfies C); nil if not.
func gaugeFrom[C any](store any, pick func(C) counter) func() float64 {
	c, ok := store.(C)
	if !ok {
		return nil
	}
	return gaugeOf(pick(c))
}

func gaugeOf(count func(ctx context.Context) (int64, error)) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return -1 // Redis unreachable: visible, and not mistaken for empty
		}
		return float64(n)
	}
}
