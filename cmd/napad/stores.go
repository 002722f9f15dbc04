package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/redis"
)

// database is the PostgreSQL store with the city's time zone, which exports
// need for their dates, and the staff's language (STAFF_LANGUAGE), for an
// export asked for without one; the store satisfies the bot's other ports
// itself.
type database struct {
	*postgres.Store
	loc  *time.Location
	lang string
}

func (d database) Export(ctx context.Context, format string, forumID int64, lang string, w io.Writer) (int, error) {
	if !export.IsLanguage(lang) {
		lang = d.lang
	}
	var filter postgres.ExportFilter
	title := ""
	if forumID != 0 {
		f, found, err := d.ForumByID(ctx, forumID)
		if err != nil || !found {
			return 0, fmt.Errorf("export forum %d (found=%v): %w", forumID, found, err)
		}
		filter.ForumCode, title = f.Code, f.Name
	}
	if slices.Contains(flows.PinFormats, format) {
		return exportPins(ctx, d.Store, filter, format, title, w, d.loc, export.WithLanguage(lang))
	}
	_, written, err := exportIdeas(ctx, d.Store, filter, format, w, d.loc, export.WithLanguage(lang))
	return written, err
}

// conversations adapts the Redis store's turns to the bot's interface.
type conversations struct{ *redis.Store }

func (c conversations) Begin(ctx context.Context, key string, updateID int64) (bot.ConversationTurn, error) {
	turn, err := c.Store.Begin(ctx, key, updateID)
	if err != nil {
		return nil, err
	}
	return turn, nil
}
