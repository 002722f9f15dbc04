package bot

import (
	"context"
	"time"

	"github.com/healthycities/napad/flows"
)

// ConversationStore keeps each student's live conversation as an opaque,
// versioned blob. Save succeeds only if nobody saved since the version that
// was loaded, so two updates can never overwrite each other.
type ConversationStore interface {
	Load(ctx context.Context, key string) (data []byte, version int64, err error)
	Save(ctx context.Context, key string, expectedVersion int64, data []byte, ttl time.Duration) (saved bool, err error)
}

// ForumStore finds the forum behind a join code.
type ForumStore interface {
	ForumByCode(ctx context.Context, code string) (forum flows.Forum, found bool, err error)
}

// IdeaStore stores finished ideas durably, once per draft however often asked.
type IdeaStore interface {
	Submit(ctx context.Context, s flows.Submission) (reference string, err error)
}
