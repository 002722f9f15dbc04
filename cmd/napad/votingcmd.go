package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/storage/postgres"
)

// cliActor is who the audit log says made a change from the command line.
const cliActor = "cli"

// forumVoting is `napad forum phase|set|shortlist|results`: the school forum after
// its ideas, for staff and scripts.
func forumVoting(ctx context.Context, cfg config, sub string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("forum "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	confirm := fs.Bool("confirm", false, "confirm moving back from results to voting")
	voteOpens := fs.String("vote-opens", "", `first day of voting, e.g. 2026-12-16 (in TIMEZONE), or "none"`)
	voteCloses := fs.String("vote-closes", "", `last day of voting, or "none"`)
	size := fs.Int("shortlist-size", 0, "at most this many shortlist items (1–20)")
	votes := fs.Int("votes", 0, "votes each student has (1–5)")
	title := fs.String("title", "", "the item's title, in the words of staff (merged ideas need one)")
	description := fs.String("description", "", "the item's short description")
	lang := fs.String("lang", "", "the language of --title and --description")
	out := fs.String("o", "", "file to write the results picture (PNG) to")
	previous := fs.String("previous", "", `join code of last year's forum, which this one follows, or "none"`)
	status := fs.String("status", "", "the answer's status: "+strings.Join(flows.ItemStatuses, ", "))
	answer := fs.String("answer", "", "the school's or town's answer, in --lang (up to 500 characters)")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return fmt.Errorf("forum %s: %w", sub, errUsage)
	}
	code := fs.Arg(0)
	if code == "" {
		return fmt.Errorf("forum %s needs the forum's join code: %w", sub, errUsage)
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	f, found, err := db.ForumByCode(ctx, code)
	if err != nil {
		return fmt.Errorf("forum %s: %w", sub, err)
	}
	if !found {
		return fmt.Errorf("no forum has the join code %q", code)
	}

	switch sub {
	case "phase":
		to := fs.Arg(1)
		if !slices.Contains(flows.Phases, to) {
			return fmt.Errorf("forum phase needs one of %s: %w", strings.Join(flows.Phases, ", "), errUsage)
		}
		if _, backwards := flows.PhaseMove(f.Phase, to); backwards && !*confirm {
			return fmt.Errorf("moving %s back to %s lets votes change results students may have seen; add --confirm to do it", code, to)
		}
		if _, err := db.MovePhase(ctx, code, f.Phase, to, cliActor, *confirm); err != nil {
			if errors.Is(err, flows.ErrPhaseMove) {
				return fmt.Errorf("forum %s is %s: it can move on to %s or close (see `napad help`)", code, f.Phase, flows.NextPhase(f.Phase))
			}
			return fmt.Errorf("forum phase: %w", err)
		}
		fmt.Fprintf(stdout, "Forum %s: %s → %s.\n", code, f.Phase, to)
	case "set":
		var set postgres.ForumSettings
		if set.VoteOpensAt, err = cliDay(*voteOpens, cfg.Location, 0); err != nil {
			return err
		}
		if set.VoteClosesAt, err = cliDay(*voteCloses, cfg.Location, 1); err != nil {
			return err
		}
		if *size != 0 {
			set.ShortlistSize = size
		}
		if *votes != 0 {
			set.VotesPerParticipant = votes
		}
		if *previous != "" {
			previousCode := *previous
			if previousCode == "none" {
				previousCode = "" // follows no forum any more
			}
			if err := db.SetPreviousForum(ctx, code, previousCode, cliActor); err != nil {
				return fmt.Errorf("forum set --previous: %w", err)
			}
		}
		if set != (postgres.ForumSettings{}) || *previous == "" {
			if err := db.SetForumSettings(ctx, code, set, cliActor); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "Forum %s updated.\n", code)
	case "shortlist":
		if fs.Arg(1) == "answer" {
			return answerItemCommand(ctx, db, f, fs.Arg(2), *status, *lang, *answer, stdout)
		}
		return shortlistCommand(ctx, db, f, fs.Args()[1:], *lang, *title, *description, stdout)
	case "results":
		return forumResults(ctx, db, f, *out, cfg.Location, stdout)
	case "helpers":
		return forumHelpers(ctx, db, f, stdout)
	}
	return nil
}

// cliDay is a day given on the command line as a time: its start (plus
// days days) in the city; "none" is the zero time (remove the date), ""
// nil (leave it).
func cliDay(day string, loc *time.Location, days int) (*time.Time, error) {
	switch day {
	case "":
		return nil, nil
	case "none":
		return &time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", day, loc)
	if err != nil {
		return nil, fmt.Errorf("%q must be a day like 2026-12-16 or none: %w", day, errUsage)
	}
	t = t.AddDate(0, 0, days)
	return &t, nil
}

// shortlistCommand lists, adds to, removes from or words a forum's
// shortlist; items are named by their number on the list.
func shortlistCommand(ctx context.Context, db *postgres.Store, f flows.Forum, args []string, lang, title, description string, stdout io.Writer) error {
	var text *flows.ItemText
	if title != "" || description != "" {
		text = &flows.ItemText{Title: title, Description: description}
		if lang == "" {
			lang = f.Languages[0]
		}
	}
	items, err := db.Shortlist(ctx, f.ID)
	if err != nil {
		return err
	}
	item := func(arg string) (int64, error) { return itemNumbered(items, arg) }
	switch what := first(args); what {
	case "":
		return printShortlist(ctx, db, f, items, stdout)
	case "add":
		added, err := db.AddToShortlist(ctx, f.ID, args[1:], lang, text, cliActor)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Item %d: %s (%s)\n", added.Position, added.Text(added.Language).Title, strings.Join(added.Ideas, ", "))
	case "remove":
		id, err := item(first(args[1:]))
		if err != nil {
			return err
		}
		if err := db.RemoveFromShortlist(ctx, f.ID, id, cliActor); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Removed.")
	case "text":
		id, err := item(first(args[1:]))
		if err != nil {
			return err
		}
		if text == nil || lang == "" {
			return fmt.Errorf("shortlist text needs --lang and --title: %w", errUsage)
		}
		if err := db.SetItemText(ctx, f.ID, id, lang, *text, cliActor); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Saved.")
	default:
		return fmt.Errorf("unknown shortlist action %q (add, remove, text): %w", what, errUsage)
	}
	return nil
}

// itemNumbered is the id of the shortlist item numbered arg (from 1).
func itemNumbered(items []flows.ShortlistItem, arg string) (int64, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > len(items) {
		return 0, fmt.Errorf("%q is not an item of the shortlist (1 to %d): %w", arg, len(items), errUsage)
	}
	return items[n-1].ID, nil
}

func printShortlist(ctx context.Context, db *postgres.Store, f flows.Forum, items []flows.ShortlistItem, stdout io.Writer) error {
	candidates, err := db.ShortlistCandidates(ctx, f.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Shortlist of %s (%s, %d of at most %d):\n", f.Code, f.Phase, len(items), f.ShortlistSize)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, it := range items {
		var langs []string
		for _, l := range flows.Languages {
			if _, ok := it.Texts[l]; ok {
				langs = append(langs, l)
			}
		}
		fmt.Fprintf(w, "%d\t%s\t[%s]\t%s\n", it.Position, it.Text(it.Language).Title, strings.Join(langs, ","), strings.Join(it.Ideas, ", "))
	}
	_ = w.Flush()
	fmt.Fprintln(stdout, "\nIdeas (visible ones):")
	fmt.Fprintln(w, "REF\tTITLE\tCATEGORY\tPLACE\tSIMILAR\tITEM")
	for _, c := range candidates {
		itemPos := "-"
		for _, it := range items {
			if it.ID == c.ItemID {
				itemPos = strconv.Itoa(it.Position)
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", c.Ref, c.Title, c.Category, c.Place, c.Similar, itemPos)
	}
	return w.Flush()
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// forumHelpers prints how to reach the students who offered to help with
// the forum's chosen items: the item, its rank and what they wrote. Who
// they are is not shown: what they wrote is all they chose to give.
func forumHelpers(ctx context.Context, db *postgres.Store, f flows.Forum, stdout io.Writer) error {
	results, err := db.Results(ctx, f.ID)
	if err != nil {
		return fmt.Errorf("forum helpers: %w", err)
	}
	offers, err := db.HelpOffers(ctx, f.ID)
	if err != nil {
		return fmt.Errorf("forum helpers: %w", err)
	}
	if len(offers) == 0 {
		fmt.Fprintf(stdout, "No one in %s has offered to help yet.\n", f.Code)
		return nil
	}
	lang := forumLanguage(f)
	byItem := map[int64]flows.ItemResult{}
	for _, r := range results {
		byItem[r.Item.ID] = r
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RANK\tITEM\tCONTACT\n")
	for _, o := range offers {
		r := byItem[o.ItemID]
		// One line each: what a student wrote may hold a line break or a tab.
		contact := strings.Join(strings.Fields(o.Contact), " ")
		fmt.Fprintf(tw, "%d\t%s\t%s\n", r.Rank, r.Item.Text(lang).Title, contact)
	}
	return tw.Flush()
}

// forumLanguage is the language a forum's texts are printed in for staff.
func forumLanguage(f flows.Forum) string {
	if len(f.Languages) > 0 {
		return f.Languages[0]
	}
	return flows.Languages[0]
}

// forumResults prints a forum's ranked shortlist with its votes and, with
// -o, writes the results picture for the classroom projector.
func forumResults(ctx context.Context, db *postgres.Store, f flows.Forum, out string, loc *time.Location, stdout io.Writer) error {
	results, err := db.Results(ctx, f.ID)
	if err != nil {
		return fmt.Errorf("forum results: %w", err)
	}
	stats, err := db.ForumStats(ctx, f.ID)
	if err != nil {
		return fmt.Errorf("forum results: %w", err)
	}
	lang := forumLanguage(f)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RANK\tVOTES\tITEM\n")
	for _, r := range flows.Rank(results) {
		fmt.Fprintf(tw, "%d\t%d\t%s\n", r.Rank, r.Votes, r.Item.Text(lang).Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is %s; %d of %d participants voted.\n", f.Code, f.Phase, stats.Voted, stats.Joined)
	if out == "" {
		return nil
	}
	catalog, err := locales.Load()
	if err != nil {
		return err
	}
	png, err := bot.ResultsPicture(catalog, f, results, stats, time.Now().In(loc))
	if err != nil {
		return fmt.Errorf("forum results: %w", err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return fmt.Errorf("write results picture: %w", err)
	}
	fmt.Fprintf(stdout, "Wrote %s (%d bytes).\n", out, len(png))
	return nil
}
