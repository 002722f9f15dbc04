package redis_test

import (
	"slices"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/redis/redistest"
)

// A web chat's transcript is saved only over the version read, and runs
// out with its time to live.
func TestWebTranscriptIsVersioned(t *testing.T) {
	t.Parallel()
	s, url, prefix := redistest.NewWithPrefix(t)
	c := ctx(t)
	const chat = -(1 << 52) - 12345
	if d, v, err := s.WebTranscript(c, chat); err != nil || d != nil || v != 0 {
		t.Fatalf("before any: %q, %d, %v", d, v, err)
	}
	if ok, err := s.SaveWebTranscript(c, chat, []byte("one"), 0, time.Hour); err != nil || !ok {
		t.Fatalf("first save: %v, %v", ok, err)
	}
	d, v, err := s.WebTranscript(c, chat)
	if err != nil || string(d) != "one" || v != 1 {
		t.Fatalf("after the first save: %q, %d, %v", d, v, err)
	}
	if ok, err := s.SaveWebTranscript(c, chat, []byte("two"), v, time.Hour); err != nil || !ok {
		t.Fatalf("second save: %v, %v", ok, err)
	}
	// A writer that read version 1 lost to the one that saved version 2.
	if ok, err := s.SaveWebTranscript(c, chat, []byte("stale"), v, time.Hour); err != nil || ok {
		t.Fatalf("a stale save: %v, %v", ok, err)
	}
	if ok, err := s.SaveWebTranscript(c, chat, []byte("new"), 0, time.Hour); err != nil || ok {
		t.Fatalf("a save as new over an existing one: %v, %v", ok, err)
	}
	if d, v, _ := s.WebTranscript(c, chat); string(d) != "two" || v != 2 {
		t.Fatalf("after the lost saves: %q, %d", d, v)
	}
	key := prefix + "{web:-4503599627382841}"
	if ttl, err := rawClient(t, url).PTTL(c, key).Result(); err != nil || ttl < 59*time.Minute || ttl > time.Hour {
		t.Errorf("time to live %v, %v; want an hour", ttl, err)
	}
	if _, err := s.SaveWebTranscript(c, chat, []byte("x"), 2, 0); err == nil {
		t.Error("a save without a time to live")
	}

	// Files stay with the chat, for their own short time.
	if err := s.PutWebFile(c, chat, "f1", []byte("{\"mydata\":1}"), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if f, found, err := s.WebFile(c, chat, "f1"); err != nil || !found || string(f) != "{\"mydata\":1}" {
		t.Fatalf("file: %q, %v, %v", f, found, err)
	}
	if _, found, err := s.WebFile(c, chat+1, "f1"); err != nil || found {
		t.Fatalf("another chat's file: %v, %v", found, err)
	}
	if got := keys(t, url, prefix); !slices.Equal(got, []string{key, key + ":files"}) {
		t.Errorf("keys %v", got)
	}
	if ttl, err := rawClient(t, url).PTTL(c, key+":files").Result(); err != nil || ttl < 9*time.Minute || ttl > 10*time.Minute {
		t.Errorf("the files' time to live %v, %v; want 10 minutes", ttl, err)
	}

	if err := s.DeleteWebChat(c, chat); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, url, prefix); len(got) != 0 {
		t.Errorf("keys after the chat was deleted: %v", got)
	}
	if _, found, err := s.WebFile(c, chat, "f1"); err != nil || found {
		t.Fatalf("a deleted chat's file: %v, %v", found, err)
	}

	const short = 300 * time.Millisecond
	if ok, err := s.SaveWebTranscript(c, chat, []byte("brief"), 0, short); err != nil || !ok {
		t.Fatal(ok, err)
	}
	time.Sleep(2 * short)
	if d, v, err := s.WebTranscript(c, chat); err != nil || d != nil || v != 0 {
		t.Errorf("after its time ran out: %q, %d, %v", d, v, err)
	}
}

// A resume code stands for one web id: its owner renews it, nobody else
// takes it, and only its owner deletes it.
func TestResumeCodes(t *testing.T) {
	t.Parallel()
	s := redistest.New(t)
	c := ctx(t)
	if id, found, err := s.ResumeCode(c, "K7Q2M9XD3A"); err != nil || found || id != "" {
		t.Fatalf("an unknown code: %q, %v, %v", id, found, err)
	}
	if ok, err := s.SaveResumeCode(c, "K7Q2M9XD3A", "web-a", time.Hour); err != nil || !ok {
		t.Fatalf("a new code: %v, %v", ok, err)
	}
	if ok, err := s.SaveResumeCode(c, "K7Q2M9XD3A", "web-a", time.Hour); err != nil || !ok {
		t.Fatalf("renewed by its owner: %v, %v", ok, err)
	}
	if ok, err := s.SaveResumeCode(c, "K7Q2M9XD3A", "web-b", time.Hour); err != nil || ok {
		t.Fatalf("taken by someone else: %v, %v", ok, err)
	}
	if id, found, err := s.ResumeCode(c, "K7Q2M9XD3A"); err != nil || !found || id != "web-a" {
		t.Fatalf("the code: %q, %v, %v", id, found, err)
	}
	if err := s.DeleteResumeCode(c, "K7Q2M9XD3A", "web-b"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.ResumeCode(c, "K7Q2M9XD3A"); !found {
		t.Fatal("someone else deleted the code")
	}
	if err := s.DeleteResumeCode(c, "K7Q2M9XD3A", "web-a"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.ResumeCode(c, "K7Q2M9XD3A"); found {
		t.Fatal("the code stayed after its owner deleted it")
	}
	if _, err := s.SaveResumeCode(c, "bad{code}", "web-a", time.Hour); err == nil {
		t.Error("a code with braces was saved")
	}
}
