package pgtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// What tests do with a store that the program never does.

// databases holds the URL of each store NewStore opened, for the helpers
// that read the database directly.
var databases sync.Map // *postgres.Store -> string

// query runs fn on a connection of its own to st's database.
func query(ctx context.Context, st *postgres.Store, fn func(*pgx.Conn) error) error {
	dbURL, ok := databases.Load(st)
	if !ok {
		return errors.New("pgtest: the store was not opened by NewStore")
	}
	conn, err := connect(ctx, dbURL.(string))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}

// CreateForum creates an open forum with default settings and no owner, as
// `napad forum create` does without options.
func CreateForum(ctx context.Context, st *postgres.Store, name, school, town string) (flows.Forum, error) {
	return st.CreateForum(ctx, flows.ForumSpec{Name: name, School: school, Town: town}, "", time.Time{})
}

// IdeasByForum returns every idea of a forum as stored, oldest first.
func IdeasByForum(ctx context.Context, st *postgres.Store, forumID int64) ([]postgres.StoredIdea, error) {
	var refs []string
	err := query(ctx, st, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT reference FROM suggestions WHERE forum_id = $1 ORDER BY id`, forumID)
		if err != nil {
			return err
		}
		refs, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgtest: ideas by forum: %w", err)
	}
	ideas := make([]postgres.StoredIdea, 0, len(refs))
	for _, ref := range refs {
		idea, found, err := st.IdeaByReference(ctx, ref)
		if err != nil || !found {
			return nil, fmt.Errorf("pgtest: ideas by forum: %s (found=%v): %w", ref, found, err)
		}
		ideas = append(ideas, idea)
	}
	return ideas, nil
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // participant id, or postgres.CLIActor
	Action string
	Target string // an idea's reference, for changes to ideas
	Before json.RawMessage
	After  json.RawMessage
}

// AuditLog returns the newest limit entries of the audit log, newest first.
func AuditLog(ctx context.Context, st *postgres.Store, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("pgtest: audit log: limit must be positive, got %d", limit)
	}
	var entries []AuditEntry
	err := query(ctx, st, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `
			SELECT id, at, actor, action, target, before, after
			FROM audit_log
			ORDER BY id DESC
			LIMIT $1`, limit)
		if err != nil {
			return err
		}
		entries, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
			var e AuditEntry
			var before, after []byte
			err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &before, &after)
			e.Before, e.After = before, after
			return e, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgtest: audit log: %w", err)
	}
	return entries, nil
}
