package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/redis"
)

// database adapts the PostgreSQL store to the interfaces the bot defines,
// converting the few types that differ.
type database struct {
	*postgres.Store
	loc *time.Location // the city's, for dates in exports
}

func (d database) CreateForum(ctx context.Context, spec flows.ForumSpec, ownerID string, closesAt time.Time) (flows.Forum, error) {
	key := ""
	if spec.Key != "" {
		key = ownerID + ":" + spec.Key // set-up tags are unique per teacher only
	}
	return d.CreateForumWith(ctx, postgres.ForumSpec{
		Name: spec.Name, School: spec.School, Town: spec.Town, Scope: spec.Scope,
		Languages: spec.Languages, ClosesAt: closesAt, OwnerID: ownerID, CreationKey: key,
	})
}

func (d database) Review(ctx context.Context, dec flows.ReviewDecision, actor string) (bool, error) {
	err := d.Store.Review(ctx, dec, actor)
	if errors.Is(err, postgres.ErrSuggestionNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (d database) Export(ctx context.Context, format string, forumID int64, w io.Writer) (int, error) {
	var filter postgres.ExportFilter
	if forumID != 0 {
		f, found, err := d.ForumByID(ctx, forumID)
		if err != nil || !found {
			return 0, fmt.Errorf("export forum %d (found=%v): %w", forumID, found, err)
		}
		filter.ForumCode = f.Code
	}
	_, written, err := exportIdeas(ctx, d.Store, filter, format, w, d.loc)
	return written, err
}

func (d database) DueNotifications(ctx context.Context, now time.Time, limit int) ([]bot.Notification, error) {
	due, err := d.Store.DueNotifications(ctx, now, limit)
	out := make([]bot.Notification, len(due))
	for i, n := range due {
		out[i] = bot.Notification{
			SuggestionID: n.SuggestionID, ParticipantID: n.ParticipantID, ChatID: n.ChatID, Language: n.Language,
			Reference: n.Reference, Title: n.Title, Status: n.Status, Answer: n.Answer,
		}
	}
	return out, err
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
