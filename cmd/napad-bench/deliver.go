package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// job is one update to POST to the bot's webhook.
type job struct {
	s    *slot
	body *bytes.Buffer
}

// deliverer POSTs updates to the webhook like Telegram does: over at most
// max_connections connections at once (what the bot asked for in
// setWebhook), with the secret token header, again after a failure.
type deliverer struct {
	p       *population
	url     *url.URL
	secret  string
	jobs    chan job
	wg      sync.WaitGroup
	workers []*workerStats
	fatal   func(error)
	retryUp time.Duration // give an update up after failing this long
	client  *http.Client  // for https webhooks; http ones use liteClient
	posted  atomic.Int64  // first deliveries so far
	// onReply gets every webhook answer with a body, which may carry a Bot
	// API call ("method") that Telegram would carry out.
	onReply func(contentType string, answer []byte)
}

type workerStats struct {
	posts, retries, netErrors int64
	status                    map[int]int64 // non-200 answers
	resp                      []uint32      // µs from POST to the webhook's answer
	lastErr                   error
}

func newDeliverer(p *population, webhookURL, secret string, conns int, retryUp time.Duration, fatal func(error)) (*deliverer, error) {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook URL %q is not an http(s) URL", webhookURL)
	}
	d := &deliverer{
		p:       p,
		url:     u,
		secret:  secret,
		jobs:    make(chan job, len(p.slots)+64),
		fatal:   fatal,
		retryUp: retryUp,
	}
	if u.Scheme == "https" {
		t := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
		d.client = &http.Client{Transport: t, Timeout: 60 * time.Second}
	}
	p.enqueue = func(j job) {
		select {
		case d.jobs <- j:
		default:
			// Cannot happen: each student has at most one update queued.
			go func() { d.jobs <- j }()
		}
	}
	for range conns {
		w := &workerStats{status: map[int]int64{}, resp: make([]uint32, 0, 1024)}
		d.workers = append(d.workers, w)
		d.wg.Add(1)
		go d.work(w)
	}
	return d, nil
}

// close stops the workers once the queue is empty.
func (d *deliverer) close() {
	close(d.jobs)
	d.wg.Wait()
	if d.client != nil {
		d.client.CloseIdleConnections()
	}
}

// poster posts an update and returns the webhook's status, and the type and
// body of its answer (valid until the next call).
type poster func(body []byte) (status int, contentType string, answer []byte, err error)

// newPoster makes the poster of one worker, with a connection and a buffer
// of its own.
func (d *deliverer) newPoster() poster { return newWebhookPoster(d.url, d.secret, d.client) }

// newWebhookPoster posts to the webhook at u with the secret token: over a
// hand-written HTTP/1.1 connection of its own, or with client (https).
func newWebhookPoster(u *url.URL, secret string, client *http.Client) poster {
	if client == nil {
		return newLiteClient(u.Host, u.RequestURI(), [][2]string{
			{"Content-Type", "application/json"},
			{"X-Telegram-Bot-Api-Secret-Token", secret},
		}, 60*time.Second).post
	}
	hdr := http.Header{
		"Content-Type":                    {"application/json"},
		"X-Telegram-Bot-Api-Secret-Token": {secret},
	}
	raw := u.String()
	var answer bytes.Buffer
	return func(body []byte) (int, string, []byte, error) {
		req, err := http.NewRequest(http.MethodPost, raw, bytes.NewReader(body))
		if err != nil {
			return 0, "", nil, fmt.Errorf("webhook request: %w", err)
		}
		req.Header = hdr
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		answer.Reset()
		_, _ = answer.ReadFrom(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Content-Type"), answer.Bytes(), nil
	}
}

func (d *deliverer) work(w *workerStats) {
	defer d.wg.Done()
	post := d.newPoster()
	for j := range d.jobs {
		d.deliver(w, post, j)
		d.p.bodies.Put(j.body)
	}
}

func (d *deliverer) deliver(w *workerStats, post poster, j job) {
	if d.p.stopping.Load() {
		return // the run is over: what is still queued is not sent
	}
	body := j.body.Bytes()
	first := d.p.now()
	j.s.postAt.Store(int64(first))
	d.posted.Add(1)
	w.posts++
	backoff := 100 * time.Millisecond
	for {
		start := d.p.now()
		status, contentType, answer, err := post(body)
		if err == nil && status == http.StatusOK {
			w.resp = append(w.resp, micros(d.p.now()-start))
			if len(answer) > 0 && d.onReply != nil {
				d.onReply(contentType, answer)
			}
			return
		}
		if err != nil {
			w.netErrors++
			w.lastErr = err
		} else {
			w.status[status]++
			switch status {
			case http.StatusUnauthorized, http.StatusForbidden:
				d.fatal(fmt.Errorf("the webhook refused the secret token (HTTP %d): give the bot the WEBHOOK_SECRET the bench uses", status))
				return
			case http.StatusNotFound, http.StatusMethodNotAllowed:
				d.fatal(fmt.Errorf("no webhook at %s (HTTP %d)", d.url.Redacted(), status))
				return
			}
		}
		if d.p.stopping.Load() || d.p.now()-first > d.retryUp {
			return // the conversation is lost; the watchdog says so
		}
		// Telegram delivers it again, a little later each time.
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
		w.retries++
	}
}

// stats sums the workers' counts.
func (d *deliverer) stats() (posts, retries, netErrors int64, status map[int]int64, resp []uint32, lastErr error) {
	status = map[int]int64{}
	for _, w := range d.workers {
		posts += w.posts
		retries += w.retries
		netErrors += w.netErrors
		for k, v := range w.status {
			status[k] += v
		}
		resp = append(resp, w.resp...)
		if w.lastErr != nil {
			lastErr = w.lastErr
		}
	}
	return
}
