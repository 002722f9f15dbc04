package main

import (
	"context"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// database adapts the PostgreSQL store to the interfaces the bot defines,
// converting the few types that differ.
type database struct{ *postgres.Store }

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

func (d database) RedeemInvite(ctx context.Context, code, participantID string, now time.Time) (string, string, error) {
	town, result, err := d.Store.RedeemInvite(ctx, code, participantID, now)
	return town, result.String(), err
}
