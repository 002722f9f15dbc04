package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
)

// staffCommand is `napad export` and `napad status`, the staff's tools for
// the ideas themselves.
func staffCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if args[0] == "export" {
		return exportCommand(ctx, args[1:], getenv, stdout, stderr)
	}
	return statusCommand(ctx, args[1:], getenv, stdout, stderr)
}

// exportCommand is `napad export`: ideas to an XLSX, CSV or GeoJSON file.
func exportCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "xlsx, csv or geojson; json with --what shortlist (default: from the -o file's extension)")
	what := fs.String("what", "ideas", "ideas (an XLSX has the shortlist on a second sheet), or shortlist: the shortlists with their votes and ranks, as csv or json")
	out := fs.String("o", "", "file to write (required)")
	forumCode := fs.String("forum", "", "only the forum with this join code")
	town := fs.String("town", "", "only forums in this town (exactly as stored)")
	from := fs.String("from", "", "only ideas received on or after this day, e.g. 2026-01-01 (in TIMEZONE)")
	to := fs.String("to", "", "only ideas received on or before this day, e.g. 2026-12-31 (in TIMEZONE)")
	status := fs.String("status", "", "only ideas with this status: "+strings.Join(flows.Statuses, ", "))
	category := fs.String("category", "", "only ideas in this category: "+strings.Join(flows.Categories, ", "))
	includeHidden := fs.Bool("include-hidden", false, "also export ideas staff hid (abusive, off topic, personal data)")
	withTime := fs.Bool("time", false, "give the time each idea came, not only the day (it can tell who sent it)")
	lang := fs.String("lang", "", "language of the headers, statuses and categories: "+strings.Join(flows.Languages, ", ")+" (default: STAFF_LANGUAGE, or cs)")
	// No reorderFlags: export takes no positional arguments, and a boolean
	// flag would swallow the argument after it.
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("export: %w", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export: unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	if *out == "" {
		return fmt.Errorf("export needs -o FILE: %w", errUsage)
	}
	if *format == "" {
		*format = formatFromName(*out)
	}
	*format = strings.ToLower(*format)
	switch *what {
	case "ideas":
	case "shortlist":
		if *format != "csv" && *format != "json" {
			return fmt.Errorf("export --what shortlist needs --format csv or json (or an -o file ending in .csv or .json): %w", errUsage)
		}
	default:
		return fmt.Errorf("--what must be ideas or shortlist: %w", errUsage)
	}
	if *lang != "" && !export.IsLanguage(*lang) {
		return fmt.Errorf("--lang must be one of %s: %w", strings.Join(flows.Languages, ", "), errUsage)
	}
	if *what == "ideas" && !export.IsFormat(*format) {
		return fmt.Errorf("export needs --format %s (or an -o file ending in .xlsx, .csv or .geojson): %w",
			strings.Join(flows.ExportFormats, "|"), errUsage)
	}
	cfg, err := loadConfig(getenv, needs{database: true})
	if err != nil {
		return err
	}
	if *lang == "" {
		*lang = cfg.StaffLanguage
	}
	filter := postgres.ExportFilter{
		ForumCode: strings.TrimSpace(*forumCode), Town: strings.TrimSpace(*town),
		Status: *status, Category: *category, IncludeHidden: *includeHidden,
	}
	if *status != "" && !slices.Contains(flows.Statuses, *status) {
		return fmt.Errorf("--status must be one of %s: %w", strings.Join(flows.Statuses, ", "), errUsage)
	}
	if *category != "" && !slices.Contains(flows.Categories, *category) {
		return fmt.Errorf("--category must be one of %s: %w", strings.Join(flows.Categories, ", "), errUsage)
	}
	if *from != "" {
		if filter.From, err = time.ParseInLocation(time.DateOnly, *from, cfg.Location); err != nil {
			return fmt.Errorf("--from must be a day like 2026-01-01: %w", errUsage)
		}
	}
	if *to != "" {
		day, err := time.ParseInLocation(time.DateOnly, *to, cfg.Location)
		if err != nil {
			return fmt.Errorf("--to must be a day like 2026-12-31: %w", errUsage)
		}
		filter.To = day.AddDate(0, 0, 1) // the whole last day counts
	}
	if !filter.From.IsZero() && !filter.To.IsZero() && !filter.From.Before(filter.To) {
		return fmt.Errorf("--from must not be after --to: %w", errUsage)
	}

	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if *what == "shortlist" {
		return exportShortlists(ctx, db, filter, *format, *out, stdout)
	}

	seen, written, err := writeExport(ctx, db, filter, *format, *out, cfg.Location,
		export.WithTime(*withTime), export.WithLanguage(*lang))
	if errors.Is(err, postgres.ErrForumNotFound) {
		return fmt.Errorf("no forum has the join code %q", filter.ForumCode)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	hidden := ""
	if !filter.IncludeHidden {
		hidden = ", hidden ideas left out"
	}
	if *format == "geojson" && seen > written {
		fmt.Fprintf(stdout, "Wrote %d ideas to %s (%s; %d without a place left out%s).\n",
			written, *out, *format, seen-written, hidden)
	} else {
		fmt.Fprintf(stdout, "Wrote %d ideas to %s (%s%s).\n", written, *out, *format, hidden)
	}
	return nil
}

// writeExport streams the ideas into a temporary file next to name and
// renames it into place only when complete, so a failed export never
// leaves a truncated file that looks finished. The file is readable by its
// owner only: it holds minors' own words.
func writeExport(ctx context.Context, db *postgres.Store, filter postgres.ExportFilter, format, name string,
	loc *time.Location, opts ...export.Option) (seen, written int, err error) {
	err = writeFileWhole(name, func(w io.Writer) error {
		seen, written, err = exportIdeas(ctx, db, filter, format, w, loc, opts...)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return seen, written, nil
}

// writeFileWhole has write fill a temporary file next to name and renames
// it into place only when complete, readable by its owner only.
func writeFileWhole(name string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// exportShortlists is `napad export --what shortlist`: the shortlists of
// one forum, a town's or all, with their votes and ranks, as CSV (one
// table: a CSV file cannot hold the ideas too) or JSON. Counts only: no
// participant appears. Of filter, only the forum and the town apply.
func exportShortlists(ctx context.Context, db *postgres.Store, filter postgres.ExportFilter, format, name string, stdout io.Writer) error {
	shortlists, err := db.ExportShortlists(ctx, filter)
	if errors.Is(err, postgres.ErrForumNotFound) {
		return fmt.Errorf("no forum has the join code %q", filter.ForumCode)
	}
	if err != nil {
		return fmt.Errorf("export shortlist: %w", err)
	}
	var items int
	err = writeFileWhole(name, func(w io.Writer) error {
		if format == "json" {
			items, err = export.WriteResultsJSON(w, shortlists)
		} else {
			items, err = export.WriteShortlistCSV(w, shortlists)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("export shortlist: %w", err)
	}
	fmt.Fprintf(stdout, "Wrote %d shortlist items of %d forums to %s (%s).\n", items, len(shortlists), name, format)
	return nil
}

// exportIdeas writes the ideas matching filter to w in format; seen counts
// the ideas read, written those in the file (GeoJSON leaves out ideas
// without a place). Used by `napad export` and by /export in the chat.
// Dates are days unless opts hold export.WithTime(true); an export that
// includes hidden ideas says which are hidden, and why.
func exportIdeas(ctx context.Context, db *postgres.Store, filter postgres.ExportFilter, format string, w io.Writer,
	loc *time.Location, opts ...export.Option) (seen, written int, err error) {
	opts = append(opts, export.WithHidden(filter.IncludeHidden))
	ew, err := export.New(format, w, loc, opts...)
	if err != nil {
		return 0, 0, err
	}
	if x, ok := ew.(*export.XLSXWriter); ok {
		// A workbook holds the shortlists too, on their own sheet.
		shortlists, err := db.ExportShortlists(ctx, filter)
		if err != nil {
			_ = x.Close()
			return 0, 0, err
		}
		x.SetShortlist(append([]export.ForumShortlist{}, shortlists...))
	}
	err = db.ExportIdeas(ctx, filter, func(r export.Row) error {
		seen++
		return ew.Write(r)
	})
	if cerr := ew.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, err
	}
	return seen, ew.Count(), nil
}

// formatFromName guesses the format from a file name's extension.
func formatFromName(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		return "xlsx"
	case ".csv":
		return "csv"
	case ".geojson":
		return "geojson"
	case ".json":
		return "json"
	}
	return ""
}

// refList collects --ref values: the flag may be repeated, and each value
// may hold several references separated by commas or spaces.
type refList []string

func (r *refList) String() string { return strings.Join(*r, ",") }

func (r *refList) Set(v string) error {
	for _, ref := range strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ' ' }) {
		ref = postgres.NormalizeReference(ref)
		if !slices.Contains(*r, ref) {
			*r = append(*r, ref)
		}
	}
	return nil
}

// statusCommand is `napad status set|hide|unhide`. Every change is audited
// with the actor "cli".
func statusCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("status needs a subcommand (set, hide, unhide): %w", errUsage)
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "set", "hide", "unhide":
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown status subcommand %q: %w", sub, errUsage)
	}
	fs := flag.NewFlagSet("status "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var refs refList
	fs.Var(&refs, "ref", "reference of an idea, like N-7K2Q; repeat it or separate several with commas")
	status := fs.String("status", "", "the new status: "+strings.Join(flows.Statuses, ", "))
	answer := fs.String("answer", "", "answer for the students (empty keeps the current one; not_feasible and duplicate need one)")
	reason := fs.String("reason", "", "why it is hidden: "+strings.Join(flows.HideReasons, ", "))
	participant := fs.String("participant", "", "status hide: every idea of the student with this pseudonym (as exports show it)")
	// Every flag here takes a value, so flags may follow references.
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return fmt.Errorf("status %s: %w", sub, errUsage)
	}
	// References may also come as plain arguments.
	for _, a := range fs.Args() {
		_ = refs.Set(a)
	}
	if *participant != "" && (sub != "hide" || len(refs) > 0) {
		return fmt.Errorf("--participant goes with status hide, instead of --ref: %w", errUsage)
	}
	if len(refs) == 0 && *participant == "" {
		return fmt.Errorf("status %s needs --ref N-XXXX: %w", sub, errUsage)
	}
	switch {
	case sub == "set" && !slices.Contains(flows.Statuses, *status):
		return fmt.Errorf("status set needs --status, one of %s: %w", strings.Join(flows.Statuses, ", "), errUsage)
	case sub == "hide" && !slices.Contains(flows.HideReasons, *reason):
		return fmt.Errorf("status hide needs --reason, one of %s: %w", strings.Join(flows.HideReasons, ", "), errUsage)
	}
	db, _, err := openConfiguredDatabase(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()

	if *participant != "" {
		hidden, err := db.HideAllOf(ctx, *participant, *reason, postgres.CLIActor)
		if errors.Is(err, postgres.ErrIdeaNotFound) {
			return fmt.Errorf("no idea to hide has a student whose pseudonym starts with %q (give at least 8 characters); nothing changed", *participant)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Hid %s of %s (%s): %s\n", ideas(len(hidden)), *participant, *reason, strings.Join(hidden, ", "))
		return nil
	}

	// Check every reference first, so a typo in a bulk change changes nothing
	// rather than half of the ideas.
	var unknown []string
	for _, ref := range refs {
		if _, found, err := db.IdeaByReference(ctx, ref); err != nil {
			return fmt.Errorf("status %s: %w", sub, err)
		} else if !found {
			unknown = append(unknown, ref)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("no idea has the reference %s; nothing changed", strings.Join(unknown, ", "))
	}

	already := 0
	for i, ref := range refs {
		var err error
		switch sub {
		case "set":
			var before postgres.StatusChange
			before, _, err = db.SetStatus(ctx, ref, *status, *answer, postgres.CLIActor)
			if before.Status == *status {
				already++
			}
		case "hide":
			err = db.Hide(ctx, ref, *reason, postgres.CLIActor)
		case "unhide":
			err = db.Unhide(ctx, ref, postgres.CLIActor)
		}
		if errors.Is(err, postgres.ErrAnswerNeeded) {
			return fmt.Errorf("%s has no answer for the student: %s needs one, give --answer (%d of %d changed before it)",
				ref, *status, i, len(refs))
		}
		if err != nil {
			return fmt.Errorf("status %s %s (%d of %d changed before it): %w", sub, ref, i, len(refs), err)
		}
	}
	switch sub {
	case "set":
		note := ""
		if already > 0 {
			note = fmt.Sprintf(" (%d already had it)", already)
		}
		fmt.Fprintf(stdout, "Set %s to %s%s: %s\n", ideas(len(refs)), *status, note, strings.Join(refs, ", "))
	case "hide":
		fmt.Fprintf(stdout, "Hid %s (%s): %s\n", ideas(len(refs)), *reason, strings.Join(refs, ", "))
	case "unhide":
		fmt.Fprintf(stdout, "Unhid %s: %s\n", ideas(len(refs)), strings.Join(refs, ", "))
	}
	return nil
}

func ideas(n int) string {
	if n == 1 {
		return "1 idea"
	}
	return fmt.Sprintf("%d ideas", n)
}
