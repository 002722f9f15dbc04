package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own messages (failed dials and the like) to
// the program's structured log instead of plain lines on stderr.
func SetLogger(l *slog.Logger) { goredis.SetLogger(slogPrinter{l}) }

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.l.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
