package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own messages (failed dials and the like), and
// the package's few warnings, to the program's structured log instead of
// plain lines on stderr.
func SetLogger(l *slog.Logger) {
	goredis.SetLogger(slogPrinter{l})
	logger.Store(l)
}

var logger atomic.Pointer[slog.Logger]

func warn(ctx context.Context, msg string, args ...any) {
	l := logger.Load()
	if l == nil {
		l = slog.Default()
	}
	l.WarnContext(ctx, msg, args...)
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.l.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
