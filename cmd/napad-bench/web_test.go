package main

import (
	"strings"
	"testing"
)

const webDatabase = "napad_bench_web_test"

// Eight students in browsers against `napad serve` without a Telegram
// token: each opens the demo forum's join link and answers page by page,
// and PostgreSQL holds exactly eight new ideas, from eight students.
func TestWebStudents(t *testing.T) {
	const n = 8
	r, out := runWithSpawnedBot(t, webDatabase, "-mode", "web", "-students", "8", "-think", "20ms", "-ramp", "400ms",
		"-photo-size", "320x240", "-stall", "15s", "-timeout", "60s")
	wr := r.Web
	if wr == nil {
		t.Fatal("no web results")
	}
	if r.IdeasConfirmed != n || r.IdeasLost != 0 || r.StudentsCompleted != n {
		t.Errorf("%d confirmed, %d lost, %d students finished; want %d, 0, %d (lost: %v)", r.IdeasConfirmed, r.IdeasLost,
			r.StudentsCompleted, n, n, r.LostWhy)
	}
	if r.IdeasStored == nil || *r.IdeasStored != n || *r.IdeaAuthors != n || *r.Duplicates != 0 {
		t.Errorf("%v new ideas stored from %v students, %v duplicates; want %d, %d, 0",
			deref(r.IdeasStored), deref(r.IdeaAuthors), deref(r.Duplicates), n, n)
	}
	// Each action is a post and the page it redirects to (the join link
	// too: GET /j/<code>, then /c); at least joining, one question and
	// sending, at most one per question.
	if r.Updates < n*3 || r.Updates > n*updatesPerIdea || wr.Requests != 2*r.Updates || wr.RequestLatency.N != int(wr.Requests) ||
		r.ReplyLatency.N != int(r.Updates) || wr.ByRequest["GET /c"].N != int(r.Updates) || wr.ByRequest["GET /j/{code}"].N != n {
		t.Errorf("%d actions, %d requests (%d timed), by request %+v; want %d..%d actions, two requests each",
			r.Updates, wr.Requests, wr.RequestLatency.N, wr.ByRequest, n*3, n*updatesPerIdea)
	}
	if wr.Errors != 0 || wr.Reopened != 0 || len(r.Problems) > 0 || r.Actions["photo"] == 0 || wr.ByRequest["POST /c/photo"].N == 0 {
		t.Errorf("%d errors (%v), %d reopened, problems %v, actions %v", wr.Errors, wr.Status, wr.Reopened, r.Problems, r.Actions)
	}
	if r.Bot == nil || r.Bot.CPUSeconds <= 0 || r.Redis == nil || r.Postgres == nil || wr.RequestsPerS <= 0 || wr.PageKB <= 0 {
		t.Errorf("not measured: bot %+v, Redis %+v, PostgreSQL %+v, %.0f requests/s, %.1f KB a page", r.Bot, r.Redis, r.Postgres,
			wr.RequestsPerS, wr.PageKB)
	}
	for _, text := range []string{"requests/s", "p99", "POST /c", "ideas in PostgreSQL", "pages"} {
		if !strings.Contains(out.String(), text) {
			t.Errorf("the table lacks %q", text)
		}
	}
}

// The bench finds the demo forum in what `napad serve` prints.
func TestDemoLine(t *testing.T) {
	out := "{\"level\":\"INFO\"}\n\nNápad is running. Open http://localhost:8080 in a browser; the demo forum: http://localhost:8080/j/0_nzQPlnP7cJzPfN\n\n"
	m := demoLine.FindStringSubmatch(out)
	if m == nil || m[1] != "0_nzQPlnP7cJzPfN" {
		t.Errorf("demo forum from the output: %q", m)
	}
	if m := demoLink.FindStringSubmatch(`<a class="big" href="/j/0_nzQ-x?web=1">`); m == nil || m[1] != "0_nzQ-x" {
		t.Errorf("demo forum from the home page: %q", m)
	}
}
