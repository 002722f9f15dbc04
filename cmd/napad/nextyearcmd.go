package main

import (
	"context"
	"fmt"
	"io"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// answerItemCommand is `napad forum shortlist CODE answer ITEM --status S
// [--answer TEXT --lang L]`: the public answer of the school or town to a
// shortlist item, which next year's forum shows its students.
func answerItemCommand(ctx context.Context, db *postgres.Store, f flows.Forum, itemArg, status, lang, answer string, stdout io.Writer) error {
	if status == "" {
		return fmt.Errorf("shortlist answer needs --status: %w", errUsage)
	}
	if answer != "" && lang == "" {
		lang = f.Languages[0] // as for the item's texts
	}
	items, err := db.Shortlist(ctx, f.ID)
	if err != nil {
		return fmt.Errorf("shortlist answer: %w", err)
	}
	id, err := itemNumbered(items, itemArg)
	if err != nil {
		return err
	}
	if err := db.AnswerShortlistItem(ctx, f.ID, id, status, lang, answer, cliActor); err != nil {
		return fmt.Errorf("shortlist answer: %w", err)
	}
	fmt.Fprintf(stdout, "Item %s answered: %s.\n", itemArg, status)
	return nil
}
