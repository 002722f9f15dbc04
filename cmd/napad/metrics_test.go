package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

// metricValue is the value of the series in a Prometheus text exposition,
// summed over series whose labels include all of labels ("" sums all).
func metricValue(t *testing.T, body, name, labels string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	total, found := 0.0, false
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		ok := true
		for _, l := range strings.Split(labels, ",") {
			if l != "" && !strings.Contains(m[1], l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		total, found = total+v, true
	}
	if !found {
		t.Fatalf("no %s{%s} in the metrics", name, labels)
	}
	return total
}

func (a *app) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + a.env["METRICS_ADDR"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

// /metrics counts updates by type and outcome, their latency, Bot API calls
// by method and status, retries, submissions and the outbox, and says
// nothing about any student.
func TestE2EMetrics(t *testing.T) {
	a := newApp(t, true)
	f := a.forum("6.A")
	s := a.student("cs")
	s.toReview(f.Code, flowtest.AnswersIn("cs"))
	// The thank-you takes the summary's place: the edit fails once.
	a.fake.FailNext("editMessageText", 1, 502, "Bad Gateway", 0)
	s.tap("button.submit")
	s.expectCount("submit.thanks", one())
	post := a.fake.InjectRaw(`{"channel_post":{"message_id":1,"date":1,"chat":{"id":-100123,"type":"channel","title":"x"},"text":"hi"}}`)
	deadline := time.Now().Add(waitLong)
	for !slices.Contains(a.fake.DeliveredUpdateIDs(), post) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	body := a.metrics(t)
	if n := metricValue(t, body, "napad_updates_total", `type="other",outcome="ignored"`); n != 1 {
		t.Errorf("%v channel posts ignored, want 1", n)
	}

	// The join link and Submit, and an answer to each question but the
	// language: the phone's language (cs) is one the forum offers, so the
	// bot does not ask it.
	messages, taps := 1, 1
	for _, q := range ideaFlow[questionIndex(flows.StepPrivacy) : len(ideaFlow)-1] {
		if flowtest.AnswerFor(q.step, "cs").Tap != "" {
			taps++
		} else {
			messages++
		}
	}
	if n := metricValue(t, body, "napad_updates_total", `type="message",outcome="handled"`); n != float64(messages) {
		t.Errorf("%v messages handled, want %d", n, messages)
	}
	if n := metricValue(t, body, "napad_updates_total", `type="callback_query",outcome="handled"`); n != float64(taps) {
		t.Errorf("%v taps handled, want %d", n, taps)
	}
	if n := metricValue(t, body, "napad_update_duration_seconds_count", ""); n < float64(messages+taps) {
		t.Errorf("latency observed %v times", n)
	}
	// Every message the student sent is answered with a new message (the
	// welcome and the first question are one), and every tap by editing the
	// tapped message into what comes next (the thank-you too).
	if n := metricValue(t, body, "napad_telegram_requests_total", `method="sendMessage",code="200"`); n != float64(messages) {
		t.Errorf("%v sendMessage calls counted, want %d", n, messages)
	}
	if n := metricValue(t, body, "napad_telegram_requests_total", `method="editMessageText",code="200"`); n != float64(taps) {
		t.Errorf("%v editMessageText calls counted, want %d", n, taps)
	}
	if n := metricValue(t, body, "napad_telegram_requests_total", `method="editMessageText",code="502"`); n != 1 {
		t.Errorf("%v failed editMessageText calls counted, want 1", n)
	}
	// In webhook mode a tap is answered in the webhook's response, not by a
	// request of its own.
	if n := metricValue(t, body, "napad_telegram_requests_total", `method="answerCallbackQuery",code="webhook_reply"`); n != float64(taps) {
		t.Errorf("%v taps answered in the webhook's response, want %d", n, taps)
	}
	if n := len(a.fake.CallsTo("answerCallbackQuery")); n != taps {
		t.Errorf("the fake Bot API carried out %d callback answers, want %d", n, taps)
	}
	if n := metricValue(t, body, "napad_telegram_retries_total", `method="editMessageText"`); n != 1 {
		t.Errorf("%v retries counted, want 1", n)
	}
	if n := metricValue(t, body, "napad_submissions_total", `result="stored"`); n != 1 {
		t.Errorf("%v submissions stored, want 1", n)
	}
	if n := metricValue(t, body, "napad_outbox_depth", ""); n != 0 {
		t.Errorf("outbox depth %v", n)
	}
	for _, secret := range []string{testToken, strconv.FormatInt(s.u.ID(), 10), flowtest.AnswersIn("cs")[flows.StepTitle], "chat"} {
		if strings.Contains(body, secret) {
			t.Errorf("the metrics mention %q", secret)
		}
	}
}

// `napad healthcheck` (the Docker healthcheck) succeeds while the bot on
// METRICS_ADDR is up, and fails when nothing answers there.
func TestHealthcheckCommand(t *testing.T) {
	a := newApp(t, false)
	var out bytes.Buffer
	if err := run(t.Context(), []string{"healthcheck"}, a.getenv, &out, &out); err != nil {
		t.Fatalf("healthcheck with the bot up: %v %s", err, out.String())
	}
	down := map[string]string{}
	for k, v := range a.env {
		down[k] = v
	}
	down["METRICS_ADDR"] = freeAddr(t)
	if err := run(t.Context(), []string{"healthcheck"}, func(k string) string { return down[k] }, &out, &out); err == nil {
		t.Fatal("healthcheck succeeded with nothing listening")
	}
}
