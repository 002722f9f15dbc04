package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Only the webhook faces the internet: /metrics and /readyz answer on
// METRICS_ADDR, not on LISTEN_ADDR. A request whose body never comes and a
// keep-alive connection left idle are cut off instead of held.
func TestHTTPServerLimits(t *testing.T) {
	defer func(r, i time.Duration) { httpReadTimeout, httpIdleTimeout = r, i }(httpReadTimeout, httpIdleTimeout)
	httpReadTimeout, httpIdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	a := newApp(t, true)

	for _, path := range []string{"/metrics", "/readyz"} {
		resp, err := http.Get("http://" + a.env["LISTEN_ADDR"] + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s on LISTEN_ADDR: %d, want 404", path, resp.StatusCode)
		}
		if code := a.getOps(t, path); code != http.StatusOK {
			t.Errorf("%s on METRICS_ADDR: %d", path, code)
		}
	}

	// A POST that announces a body and never sends it.
	conn, err := net.Dial("tcp", a.env["LISTEN_ADDR"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", testSecret)
	if !closedWithin(t, conn, 3*time.Second) {
		t.Error("a request without its body held the connection")
	}

	// A keep-alive connection, idle after one request.
	idle, err := net.Dial("tcp", a.env["LISTEN_ADDR"])
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprint(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if !closedWithin(t, idle, 3*time.Second) {
		t.Error("an idle keep-alive connection was kept")
	}
}

// closedWithin reads from conn until the server closes it (true) or d
// passes. Whatever the server answers first is read past.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) bool {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return false
	}
	return true
}
