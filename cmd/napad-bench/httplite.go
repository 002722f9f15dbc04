package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// A minimal HTTP/1.1 server and client. On a 2-core machine the bench
// shares with the bot, Redis and PostgreSQL, net/http's per-request
// goroutine hand-offs, background reads and allocations cost the bench
// about as much CPU as the system calls themselves; these do one read and
// one write per exchange on kept-alive connections and reuse their buffers.
// They speak the subset the bot's Go HTTP client and server use:
// Content-Length or chunked bodies, keep-alive, Connection: close.
//
// Measured against net/http for both (docs/BENCHMARKS.md, "net/http vs
// hand-written HTTP"): in closed loop on the 2-core machine, net/http took
// the bench ~0.09 ms more CPU per update (+50 %) and cost the bot 8-22 % of
// its updates/s; the bot's own CPU per update did not change.

var errMalformed = errors.New("malformed HTTP message")

// httpMessage is the head of a request or response as far as it matters.
type httpMessage struct {
	line          []byte // request line or status line, without CRLF (valid until the next read)
	contentType   []byte // copied
	contentLength int64  // -1 if absent
	chunked       bool
	close         bool
}

// readHead reads the start line and the headers.
func readHead(br *bufio.Reader, m *httpMessage, ctBuf []byte) error {
	line, err := readLine(br)
	if err != nil {
		return err
	}
	m.line = append(m.line[:0], line...)
	m.contentType = ctBuf[:0]
	m.contentLength = -1
	m.chunked, m.close = false, false
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			return errMalformed
		}
		name, value := line[:i], bytes.TrimSpace(line[i+1:])
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, ok := parseInt(value)
			if !ok || n < 0 {
				return errMalformed
			}
			m.contentLength = n
		case asciiEqualFold(name, "Content-Type"):
			m.contentType = append(m.contentType, value...)
		case asciiEqualFold(name, "Transfer-Encoding"):
			m.chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case asciiEqualFold(name, "Connection"):
			m.close = asciiEqualFold(value, "close")
		}
	}
}

func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errMalformed
		}
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c, d := b[i], s[i]
		if c|0x20 != d|0x20 {
			return false
		}
	}
	return true
}

// readBody reads the body into buf (reused) and returns it.
func readBody(br *bufio.Reader, m *httpMessage, buf []byte, limit int64) ([]byte, error) {
	buf = buf[:0]
	if m.chunked {
		for {
			line, err := readLine(br)
			if err != nil {
				return buf, err
			}
			if i := bytes.IndexByte(line, ';'); i >= 0 {
				line = line[:i]
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			if err != nil || n < 0 || int64(len(buf))+n > limit {
				return buf, errMalformed
			}
			if n == 0 {
				for { // trailers
					line, err := readLine(br)
					if err != nil {
						return buf, err
					}
					if len(line) == 0 {
						return buf, nil
					}
				}
			}
			start := len(buf)
			buf = append(buf, make([]byte, n)...)
			if _, err := io.ReadFull(br, buf[start:]); err != nil {
				return buf, err
			}
			if _, err := readLine(br); err != nil {
				return buf, err
			}
		}
	}
	n := max(m.contentLength, 0)
	if n > limit {
		return buf, errMalformed
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(br, buf)
	return buf, err
}

// liteServer serves HTTP/1.1 on a listener with a handler that appends the
// response body to b and returns the status.
type liteServer struct {
	ln      net.Listener
	handle  func(b []byte, method, target, contentType, body []byte) ([]byte, int)
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
	wg      sync.WaitGroup
}

func (s *liteServer) serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		if s.conns == nil {
			s.conns = map[net.Conn]struct{}{}
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.conn(c)
	}
}

func (s *liteServer) close() {
	s.mu.Lock()
	s.closing = true
	_ = s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

const maxBody = 64 << 20

func (s *liteServer) conn(c net.Conn) {
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	br := bufio.NewReaderSize(c, 16<<10)
	var (
		m     httpMessage
		ctBuf = make([]byte, 0, 128)
		body  = make([]byte, 0, 8<<10)
		resp  = make([]byte, 0, 8<<10)
		out   = make([]byte, 0, 8<<10)
	)
	for {
		err := readHead(br, &m, ctBuf)
		if err != nil {
			if errors.Is(err, errMalformed) {
				_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		ctBuf = m.contentType
		method, rest, ok := bytes.Cut(m.line, []byte(" "))
		target, _, ok2 := bytes.Cut(rest, []byte(" "))
		if !ok || !ok2 {
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			return
		}
		if body, err = readBody(br, &m, body, maxBody); err != nil {
			return
		}
		var status int
		resp, status = s.handle(resp[:0], method, target, m.contentType, body)
		out = append(out[:0], "HTTP/1.1 "...)
		out = strconv.AppendInt(out, int64(status), 10)
		out = append(out, ' ')
		out = append(out, reasonPhrase(status)...)
		out = append(out, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		out = strconv.AppendInt(out, int64(len(resp)), 10)
		if m.close {
			out = append(out, "\r\nConnection: close"...)
		}
		out = append(out, "\r\n\r\n"...)
		out = append(out, resp...)
		if _, err := c.Write(out); err != nil || m.close {
			return
		}
		// Keep buffers from growing for ever after one huge upload.
		if cap(body) > 1<<20 {
			body = make([]byte, 0, 8<<10)
		}
	}
}

func reasonPhrase(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 404:
		return "Not Found"
	case 409:
		return "Conflict"
	case 429:
		return "Too Many Requests"
	}
	return "Status"
}

// liteClient POSTs to one http:// URL over one kept-alive connection.
type liteClient struct {
	addr, host, path string
	head             []byte // the request head up to Content-Length's value
	conn             net.Conn
	br               *bufio.Reader
	out              []byte
	m                httpMessage
	ctBuf, discard   []byte
	timeout          time.Duration
}

func newLiteClient(host, path string, headers [][2]string, timeout time.Duration) *liteClient {
	c := &liteClient{addr: host, host: host, path: path, timeout: timeout}
	if _, _, err := net.SplitHostPort(host); err != nil {
		c.addr = net.JoinHostPort(host, "80")
	}
	h := []byte("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: napad-bench\r\n")
	for _, kv := range headers {
		h = append(h, kv[0]+": "+kv[1]+"\r\n"...)
	}
	c.head = append(h, "Content-Length: "...)
	return c
}

// post sends body and returns the response status, and the type and body
// of the answer (valid until the next call). A connection the server closed
// while idle is replaced once, before any answer was read.
func (c *liteClient) post(body []byte) (int, string, []byte, error) {
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil
		status, err := c.exchange(body)
		if err == nil {
			contentType := ""
			if len(c.discard) > 0 {
				contentType = string(c.m.contentType)
			}
			return status, contentType, c.discard, nil
		}
		c.drop()
		var ne net.Error
		if !reused || attempt > 0 || errors.As(err, &ne) && ne.Timeout() {
			return 0, "", nil, err
		}
	}
}

func (c *liteClient) exchange(body []byte) (int, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, fmt.Errorf("connect to the webhook: %w", err)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 4<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	if c.timeout > 0 {
		_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	}
	c.out = append(c.out[:0], c.head...)
	c.out = strconv.AppendInt(c.out, int64(len(body)), 10)
	c.out = append(c.out, "\r\n\r\n"...)
	c.out = append(c.out, body...)
	if _, err := c.conn.Write(c.out); err != nil {
		return 0, fmt.Errorf("send to the webhook: %w", err)
	}
	if err := readHead(c.br, &c.m, c.ctBuf); err != nil {
		return 0, fmt.Errorf("read the webhook's answer: %w", err)
	}
	c.ctBuf = c.m.contentType
	status := 0
	if f := bytes.Fields(c.m.line); len(f) >= 2 {
		n, ok := parseInt(f[1])
		if !ok {
			return 0, errMalformed
		}
		status = int(n)
	}
	if c.m.contentLength < 0 && !c.m.chunked {
		c.m.close = true // the body runs to the end of the connection
		c.m.contentLength = 0
	}
	var err error
	if c.discard, err = readBody(c.br, &c.m, c.discard, maxBody); err != nil {
		return 0, fmt.Errorf("read the webhook's answer: %w", err)
	}
	if c.m.close {
		c.drop()
	}
	return status, nil
}

func (c *liteClient) drop() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

// parseInt reads a decimal integer without allocating.
func parseInt(v []byte) (int64, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0, false
	}
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, len(v) > 0
}
