package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/storage/postgres"
	redisstore "github.com/healthycities/napad/storage/redis"
)

// keys is `napad keys rotate-contacts`: every stored chat, in PostgreSQL's
// contacts and in the Redis outbox, sealed with the current contact key
// (CONTACT_KEY), so that the keys in CONTACT_OLD_KEYS can go. Audited. It
// fails while some chat needs a key that is not configured.
func keys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "rotate-contacts" {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("keys needs rotate-contacts: %w", errUsage)
	}
	cfg, err := loadConfig(getenv, needs{database: true, redis: true, participantKey: true})
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, postgres.WithContactKeys(cfg.ContactKeys))
	if err != nil {
		return err
	}
	defer db.Close()
	rdb, err := redisstore.Open(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return fmt.Errorf("connect to Redis: %w", err)
	}
	defer rdb.Close()

	contacts, err := db.ResealContacts(ctx, postgres.CLIActor)
	if err != nil {
		return err
	}
	outbox, outboxUnreadable, err := bot.ResealOutbox(ctx, rdb, cfg.ContactKeys)
	if err != nil {
		return err
	}
	if outbox+outboxUnreadable > 0 {
		if err := db.Audit(ctx, postgres.CLIActor, "outbox.seal", "", map[string]any{
			"key_id": cfg.ContactKeys.KeyID(), "resealed": outbox, "unreadable": outboxUnreadable,
		}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Chats sealed with contact key %s: %d contacts (%d of them sealed for the first time), %d outbox entries.\n",
		cfg.ContactKeys.KeyID(), contacts.Plain+contacts.OldKeys, contacts.Plain, outbox)

	sealing, err := db.ContactSealing(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, id := range slices.Sorted(maps.Keys(sealing.ByKey)) {
		if id != cfg.ContactKeys.KeyID() {
			missing = append(missing, fmt.Sprintf("%s (%d contacts)", id, sealing.ByKey[id]))
		}
	}
	if len(missing) > 0 || outboxUnreadable > 0 {
		return fmt.Errorf("chats still sealed with another key: %s; outbox entries that cannot be opened: %d. "+
			"Is a replica still running with the old CONTACT_KEY, or is a key missing from CONTACT_OLD_KEYS? "+
			"Fix that and run this again (chats no key opens stay until their students send another idea)",
			cmp.Or(strings.Join(missing, ", "), "none"), outboxUnreadable)
	}
	fmt.Fprintln(stdout, "No stored chat needs another key: CONTACT_OLD_KEYS can be emptied.")
	return nil
}
