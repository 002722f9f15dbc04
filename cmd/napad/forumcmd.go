package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/qrcard"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// forum is `napad forum create|list|close|reopen|qr|map` (and the voting
// subcommands), for staff and scripts.
func forum(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("forum needs a subcommand (create, list, close, reopen, qr, phase, set, shortlist, results, helpers, map): %w", errUsage)
	}
	cfg, err := loadConfig(getenv, needs{database: true})
	if err != nil {
		return err
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create", "qr", "list", "close", "reopen":
	case "phase", "set", "shortlist", "results", "helpers":
		return forumVoting(ctx, cfg, sub, args, stdout, stderr)
	case "map":
		return forumMap(ctx, cfg, args, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown forum subcommand %q: %w", sub, errUsage)
	}
	fs := flag.NewFlagSet("forum "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "forum name, e.g. \"8.B – ZŠ Komenského\" (required)")
	school := fs.String("school", "", "school")
	town := fs.String("town", "", "town")
	scope := fs.String("scope", "both", "what ideas are about: school, town or both")
	languages := fs.String("languages", strings.Join(flows.Languages, ","), "languages students may choose, comma-separated")
	closes := fs.String("closes", "", "last day students can send ideas, e.g. 2026-12-15 (in TIMEZONE)")
	out := fs.String("o", "", "file to write the QR code picture (PNG) to")
	previous := fs.String("previous", "", "join code of last year's forum of the same town, which this one follows")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return fmt.Errorf("forum %s: %w", sub, errUsage)
	}
	code := fs.Arg(0)
	if (sub == "close" || sub == "reopen" || sub == "qr") && code == "" {
		return fmt.Errorf("forum %s needs the forum's join code: %w", sub, errUsage)
	}

	var username string
	if sub == "create" || sub == "qr" || sub == "list" {
		if username, err = botUsername(ctx, cfg, getenv); err != nil && cfg.PublicURL == "" {
			return err
		} // without Telegram but with PUBLIC_URL, the links are the web channel's
	}
	link := func(f flows.Forum) string {
		if username == "" {
			return cfg.PublicURL + "/j/" + f.Code
		}
		return telegram.JoinLink(username, f.Code)
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	switch sub {
	case "create":
		if strings.TrimSpace(*name) == "" {
			return fmt.Errorf("forum create needs --name: %w", errUsage)
		}
		spec := flows.ForumSpec{
			Name: strings.TrimSpace(*name), School: strings.TrimSpace(*school), Town: strings.TrimSpace(*town),
			Scope: *scope, Languages: strings.Split(*languages, ","), Previous: *previous,
		}
		var closesAt time.Time
		if *closes != "" {
			day, err := time.ParseInLocation("2006-01-02", *closes, cfg.Location)
			if err != nil {
				return fmt.Errorf("--closes must be a day like 2026-12-15: %w", errUsage)
			}
			closesAt = day.AddDate(0, 0, 1) // closes when its last day ends
		}
		f, err := db.CreateForum(ctx, spec, "", closesAt)
		if err != nil {
			return fmt.Errorf("create forum: %w", err)
		}
		fmt.Fprintf(stdout, "Forum:      %s\nJoin code:  %s\nJoin link:  %s\nShort code: %s (students type %s)\n",
			f.Name, f.Code, link(f), flows.FormatJoinCode(f.ShortCode), flows.JoinCommand(f.ShortCode))
	case "list":
		forums, err := db.AllForums(ctx)
		if err != nil {
			return fmt.Errorf("list forums: %w", err)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "CODE\tSHORT CODE\tNAME\tTOWN\tPHASE\tCLOSES\tJOINED\tWRITING\tSENT\tVOTED\tLINK")
		for _, f := range forums {
			stats, err := db.ForumStats(ctx, f.ID)
			if err != nil {
				return fmt.Errorf("forum %s figures: %w", f.Code, err)
			}
			closesOn := "-"
			if !f.ClosesAt.IsZero() {
				closesOn = f.ClosesAt.In(cfg.Location).Add(-time.Second).Format("2006-01-02")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", f.Code, flows.FormatJoinCode(f.ShortCode), f.Name, f.Town, f.Phase, closesOn,
				stats.Joined, stats.InProgress, stats.Submitted, stats.Voted, link(f))
		}
		return w.Flush()
	case "close", "reopen":
		if err := db.SetForumOpen(ctx, code, sub == "reopen"); err != nil {
			if errors.Is(err, postgres.ErrForumNotFound) {
				return fmt.Errorf("no forum has the join code %q", code)
			}
			return fmt.Errorf("forum %s: %w", sub, err)
		}
		f, _, err := db.ForumByCode(ctx, code)
		if err != nil {
			return fmt.Errorf("forum %s: %w", sub, err)
		}
		fmt.Fprintf(stdout, "Forum %s is now %s.\n", code, f.Phase)
	case "qr":
		if *out == "" {
			return fmt.Errorf("forum qr needs -o FILE.png: %w", errUsage)
		}
		f, found, err := db.ForumByCode(ctx, code)
		if err != nil {
			return fmt.Errorf("forum qr: %w", err)
		}
		if !found {
			return fmt.Errorf("no forum has the join code %q", code)
		}
		target := bot.QRLink(f, link(f), cfg.PublicURL)
		png, err := qrcard.PNG(target, f.Name, flows.JoinCommand(f.ShortCode))
		if err != nil {
			return fmt.Errorf("draw QR code: %w", err)
		}
		if err := os.WriteFile(*out, png, 0o644); err != nil {
			return fmt.Errorf("write QR code: %w", err)
		}
		fmt.Fprintf(stdout, "Wrote %s (%d bytes): %s\n", *out, len(png), target)
	}
	return nil
}

// forumMapUsage is how `napad forum map` is called.
const forumMapUsage = `napad forum map CODE [--centre LAT,LON --radius KM | --no-area]
                     [--feeling TEXT ...| --no-feelings]`

// forumMap is `napad forum map CODE`: the forum's town on the emotional
// map (a centre and a radius) and its own feelings (up to three, each
// --feeling in the order of their buttons), audited; without changes it
// shows them.
func forumMap(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("forum map", flag.ContinueOnError)
	fs.SetOutput(stderr)
	centre := fs.String("centre", "", "the middle of the forum's town on the map: LAT,LON, e.g. 50.028,15.200")
	radius := fs.Float64("radius", 0, fmt.Sprintf("how far the town reaches from --centre, in km (up to %d)", postgres.MaxMapRadiusKm))
	noArea := fs.Bool("no-area", false, "remove the forum's area")
	var feelings feelingList
	fs.Var(&feelings, "feeling", fmt.Sprintf("a feeling of the forum's own, beside the standard ones (repeat: up to %d)", flows.MaxOwnFeelings))
	noFeelings := fs.Bool("no-feelings", false, "remove the forum's own feelings")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return fmt.Errorf("forum map: %w", errUsage)
	}
	code := fs.Arg(0)
	if code == "" || fs.NArg() > 1 {
		return fmt.Errorf("%s: %w", forumMapUsage, errUsage)
	}
	var area *flows.MapArea
	switch {
	case *noArea && (*centre != "" || *radius != 0):
		return fmt.Errorf("forum map: --no-area goes without --centre and --radius: %w", errUsage)
	case *noArea:
		area = &flows.MapArea{}
	case (*centre == "") != (*radius == 0):
		return fmt.Errorf("forum map: --centre and --radius go together: %w", errUsage)
	case *centre != "":
		lat, lon, err := parseCentre(*centre)
		if err != nil {
			return fmt.Errorf("forum map: %v: %w", err, errUsage)
		}
		area = &flows.MapArea{Lat: lat, Lon: lon, RadiusKm: *radius}
	}
	var own []string // nil: as they are
	switch {
	case *noFeelings && len(feelings) > 0:
		return fmt.Errorf("forum map: --no-feelings goes without --feeling: %w", errUsage)
	case *noFeelings:
		own = []string{}
	case len(feelings) > 0:
		own = feelings
	}

	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if area != nil || own != nil {
		if err := db.SetForumMap(ctx, code, area, own, postgres.CLIActor); err != nil {
			if errors.Is(err, postgres.ErrForumNotFound) {
				return fmt.Errorf("no forum has the join code %q", code)
			}
			return fmt.Errorf("forum map: %w", err)
		}
	}
	f, found, err := db.ForumByCode(ctx, code)
	if err != nil {
		return fmt.Errorf("forum map: %w", err)
	}
	if !found {
		return fmt.Errorf("no forum has the join code %q", code)
	}
	fmt.Fprintf(stdout, "Forum:         %s\n", f.Name)
	if f.Area.Set() {
		fmt.Fprintf(stdout, "Area:          %s,%s, %s km around\n", formatFloat(f.Area.Lat), formatFloat(f.Area.Lon), formatFloat(f.Area.RadiusKm))
	} else {
		fmt.Fprintln(stdout, "Area:          none")
	}
	if len(f.Feelings) > 0 {
		fmt.Fprintf(stdout, "Own feelings:  %s\n", strings.Join(f.Feelings, " | "))
	} else {
		fmt.Fprintln(stdout, "Own feelings:  none")
	}
	return nil
}

// parseCentre reads "LAT,LON"; the store checks the ranges.
func parseCentre(s string) (lat, lon float64, err error) {
	a, b, ok := strings.Cut(s, ",")
	if ok {
		lat, err = strconv.ParseFloat(strings.TrimSpace(a), 64)
	}
	if ok && err == nil {
		lon, err = strconv.ParseFloat(strings.TrimSpace(b), 64)
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("--centre must be LAT,LON like 50.028,15.200, not %q", s)
	}
	return lat, lon, nil
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// feelingList collects repeated --feeling flags. A feeling may hold a
// comma, so each flag is one feeling.
type feelingList []string

func (l *feelingList) String() string { return strings.Join(*l, " | ") }

func (l *feelingList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// reorderFlags lets flags follow positional arguments ("qr CODE -o x.png"),
// which the flag package alone does not allow. Only fs's own flags move: a
// join code may start with "-" too.
func reorderFlags(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if !strings.HasPrefix(a, "-") || f == nil {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		boolean, _ := f.Value.(interface{ IsBoolFlag() bool })
		if !strings.Contains(a, "=") && (boolean == nil || !boolean.IsBoolFlag()) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	// "--" ends the flags, so that a join code starting with "-" stays one.
	return append(append(flags, "--"), rest...)
}
