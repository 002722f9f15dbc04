package pgtest

import (
	"context"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// What tests do with a store that the program never does.

// CreateForum creates an open forum with default settings and no owner, as
// `napad forum create` does without options.
func CreateForum(ctx context.Context, st *postgres.Store, name, school, town string) (flows.Forum, error) {
	return st.CreateForum(ctx, flows.ForumSpec{Name: name, School: school, Town: town}, "", time.Time{})
}
