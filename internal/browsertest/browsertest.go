// Package browsertest starts the real headless Chromium the page tests run
// in (the map page, the web channel), with no network but loopback and
// files. A test that needs it fails, never skips, when there is no
// browser: only a browser shows whether a page works.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// FindChromium is the browser to run: $CHROME_PATH, or Chromium or Chrome
// on PATH.
func FindChromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium or Chrome found (CHROME_PATH, or chromium on PATH): install Debian's chromium: apt-get install chromium")
	return ""
}

// Start starts the browser with a window of width×height, for at most
// timeout; it stops when the test ends. The context it returns is its
// first tab.
func Start(t testing.TB, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	exe := FindChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // the tests run as root
		chromedp.Headless,
		chromedp.WindowSize(width, height),
		// No network: a request to anything but loopback or a file fails
		// at once (loopback goes around the proxy).
		chromedp.ProxyServer("127.0.0.1:9"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return browser
}

// ScreenshotDir is where a test saves its screenshots:
// $NAPAD_SCREENSHOT_DIR, else a temporary directory.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NAPAD_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}
