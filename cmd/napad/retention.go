package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/healthycities/napad/storage/postgres"
)

// retentionEvery is how often serve applies RETENTION_DAYS.
const retentionEvery = 24 * time.Hour

// retention is `napad retention`: apply RETENTION_DAYS once (e.g. from cron).
func retention(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv, needs{database: true})
	if err != nil {
		return err
	}
	if cfg.RetentionDays == 0 {
		return fmt.Errorf("RETENTION_DAYS is not set: say after how many days ideas lose the link to their author: %w", errUsage)
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := applyRetention(ctx, db, cfg.RetentionDays)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d ideas older than %d days no longer link to their authors.\n", n, cfg.RetentionDays)
	return nil
}

func applyRetention(ctx context.Context, db *postgres.Store, days int) (int, error) {
	n, err := db.ApplyRetention(ctx, time.Now().AddDate(0, 0, -days))
	if err != nil {
		return 0, fmt.Errorf("apply retention: %w", err)
	}
	return n, nil
}

// runRetention applies RETENTION_DAYS now and then daily, until ctx ends.
func runRetention(ctx context.Context, db *postgres.Store, days int, log *slog.Logger) {
	for {
		if n, err := applyRetention(ctx, db, days); err != nil {
			log.Error("retention", "err", err)
		} else if n > 0 {
			log.Info("retention applied", "ideas_detached", n, "days", days)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retentionEvery):
		}
	}
}
