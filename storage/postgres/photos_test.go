package postgres_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/postgres"
)

func TestWebPhotos(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	photos := st.Photos()
	jpeg := []byte("\xff\xd8 not really a jpeg \xff\xd9")

	if err := photos.Put(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa", jpeg); err != nil {
		t.Fatal(err)
	}
	// A retried upload changes nothing.
	if err := photos.Put(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa", []byte("other")); err != nil {
		t.Fatal(err)
	}
	got, found, err := photos.Get(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa")
	if err != nil || !found || !bytes.Equal(got, jpeg) {
		t.Fatalf("Get = %q, %v, %v; want the first photo", got, found, err)
	}
	if _, found, err := photos.Get(ctx, "bbbbbbbbbbbbbbbbbbbbbbbb"); err != nil || found {
		t.Fatalf("Get of a photo never stored: found %v, %v", found, err)
	}
	if err := photos.Put(ctx, "../../etc/passwd", jpeg); err == nil {
		t.Error("an id that is not a token was stored")
	}
	if err := photos.Put(ctx, "cccccccccccccccccccccccc", nil); err == nil {
		t.Error("an empty photo was stored")
	}

	if err := photos.Delete(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa", "never-stored-0000000000"); err != nil {
		t.Fatal(err)
	}
	if _, found, err := photos.Get(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa"); err != nil || found {
		t.Fatalf("a deleted photo: found %v, %v", found, err)
	}
	if err := photos.Delete(ctx); err != nil {
		t.Fatal(err)
	}

	// Old photos go unless an idea has them; new ones stay for the ideas
	// still being written.
	forum := newForum(t, st)
	for _, id := range []string{"old-unused-0000000000", "old-of-an-idea-000000", "new-unused-0000000000"} {
		if err := photos.Put(ctx, id, jpeg); err != nil {
			t.Fatal(err)
		}
	}
	idea := submission(forum.ID, "d-photo")
	idea.PhotoFileID = postgres.WebPhotoPrefix + "old-of-an-idea-000000"
	if _, err := st.Submit(ctx, idea); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	if _, err := conn.Exec(ctx, `UPDATE web_photos SET created_at = now() - interval '40 days' WHERE id LIKE 'old-%'`); err != nil {
		t.Fatal(err)
	}
	if _, err := photos.DeleteUnused(ctx, time.Time{}); err == nil {
		t.Error("DeleteUnused without a cutoff deleted")
	}
	n, err := photos.DeleteUnused(ctx, time.Now().Add(-30*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DeleteUnused = %d, %v; want 1", n, err)
	}
	for id, want := range map[string]bool{"old-unused-0000000000": false, "old-of-an-idea-000000": true, "new-unused-0000000000": true} {
		if _, found, err := photos.Get(ctx, id); err != nil || found != want {
			t.Errorf("%s: found %v (%v), want %v", id, found, err, want)
		}
	}
}
