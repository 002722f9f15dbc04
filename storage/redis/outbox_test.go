package redis_test

import (
	"context"
	"testing"

	"github.com/healthycities/napad/storage/redis/redistest"
)

func TestOutbox(t *testing.T) {
	st := redistest.New(t)
	ctx := context.Background()
	if err := st.PutOutbox(ctx, "d1", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := st.PutOutbox(ctx, "d1", []byte(`{"a":2}`)); err != nil { // the same draft again: replaced
		t.Fatal(err)
	}
	if err := st.PutOutbox(ctx, "d2", []byte("\x00bin")); err != nil {
		t.Fatal(err)
	}
	items, err := st.Outbox(ctx, 10)
	if err != nil || len(items) != 2 || string(items["d1"]) != `{"a":2}` || string(items["d2"]) != "\x00bin" {
		t.Fatalf("outbox %q, %v", items, err)
	}
	if err := st.DeleteOutbox(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if n, err := st.OutboxLen(ctx); err != nil || n != 1 {
		t.Errorf("length %d, %v", n, err)
	}
}
