package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/storage/postgres"
)

// statsCommand is `napad stats`: the staff's overview, as /stats gives it
// in the chat. It prints who took part per forum and in all, then the
// ideas by category, scope and status (of all forums, or of --forum), and
// with -o writes the overview's picture, its texts in --lang.
func statsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	forumCode := fs.String("forum", "", "only the forum with this join code")
	out := fs.String("o", "", "also write the overview's picture (PNG) to this file")
	// STAFF_LANGUAGE is read here the simple way until the configuration
	// has it for every staff command.
	lang := fs.String("lang", cmp.Or(strings.TrimSpace(getenv("STAFF_LANGUAGE")), "cs"), "the picture's language: "+strings.Join(flows.Languages, ", ")+
		" (default: STAFF_LANGUAGE, else cs)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("stats: %w", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("stats: unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	if !slices.Contains(flows.Languages, *lang) {
		return fmt.Errorf("--lang (or STAFF_LANGUAGE) must be one of %s: %w", strings.Join(flows.Languages, ", "), errUsage)
	}
	db, cfg, err := openConfiguredDatabase(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()

	var forumID int64
	if code := strings.TrimSpace(*forumCode); code != "" {
		f, found, err := db.ForumByCode(ctx, code)
		if err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		if !found {
			return fmt.Errorf("no forum has the join code %q", code)
		}
		forumID = f.ID
	}
	stats, err := db.Stats(ctx, forumID)
	if errors.Is(err, postgres.ErrForumNotFound) {
		return fmt.Errorf("no forum has the join code %q", *forumCode)
	}
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	if err := printStats(stdout, stats); err != nil {
		return err
	}
	if *out == "" {
		return nil
	}
	catalog, err := locales.Load()
	if err != nil {
		return err
	}
	png, err := bot.StatsPicture(catalog, *lang, stats, time.Now().In(cfg.Location))
	if err != nil {
		return err
	}
	if err := writeFileWhole(*out, func(w io.Writer) error { _, err := w.Write(png); return err }); err != nil {
		return fmt.Errorf("write the overview's picture: %w", err)
	}
	fmt.Fprintf(stdout, "Wrote %s (%d bytes).\n", *out, len(png))
	return nil
}

// printStats writes the overview as two plain tables: who took part, per
// forum (most ideas first) and in all; and the ideas by category, scope and
// status (those some idea has), as the chat shows them.
func printStats(w io.Writer, s flows.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FORUM\tNAME\tJOINED\tSENT AN IDEA\tIDEAS\tHIDDEN")
	row := func(code, name string, b flows.StatsBlock) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", code, name, b.Joined, b.Submitters, b.Ideas, b.Hidden)
	}
	if s.Forum != nil {
		row(s.Forum.Code, s.Forum.Name, s.Total)
	} else {
		for _, f := range s.Forums {
			row(f.Forum.Code, f.Forum.Name, f.StatsBlock)
		}
		// A student in several forums is counted once here.
		row("all", fmt.Sprintf("%d forums", len(s.Forums)), s.Total)
	}
	fmt.Fprintln(tw, "\nBY\tVALUE\tIDEAS (hidden ones not counted)")
	for _, by := range []struct {
		what   string
		counts []flows.Tally
	}{
		{"category", s.Total.Categories()},
		{"scope", s.Total.Scopes()},
		{"status", s.Total.Statuses()},
	} {
		for _, c := range by.counts {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", by.what, c.Key, c.N)
		}
	}
	return tw.Flush()
}
