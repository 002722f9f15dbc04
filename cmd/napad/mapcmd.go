package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
)

// mapCommand is `napad map CODE -o FILE.html`: a forum's emotional map as
// one page to open in a browser (all forums with CODE "all"); with an -o
// ending in .geojson or .csv, its pins as data.
func mapCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("map", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "file to write: .html (the map page), .geojson or .csv (required)")
	lang := fs.String("lang", cmp.Or(strings.TrimSpace(getenv("STAFF_LANGUAGE")), "cs"), "language of the page: "+strings.Join(flows.Languages, ", "))
	includeHidden := fs.Bool("include-hidden", false, "also the pins staff hid (never on the page)")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return fmt.Errorf("map: %w", errUsage)
	}
	if fs.NArg() != 1 || *out == "" {
		return fmt.Errorf("map needs a forum's join code (or all) and -o FILE: %w", errUsage)
	}
	format := map[string]string{".html": "map", ".geojson": "pinsgeojson", ".csv": "pinscsv"}[strings.ToLower(filepath.Ext(*out))]
	if format == "" {
		return fmt.Errorf("map: -o must end in .html, .geojson or .csv: %w", errUsage)
	}
	if !slices.Contains(flows.Languages, *lang) {
		return fmt.Errorf("--lang (or STAFF_LANGUAGE) must be one of %s: %w", strings.Join(flows.Languages, ", "), errUsage)
	}
	db, cfg, err := openConfiguredDatabase(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	filter := postgres.ExportFilter{IncludeHidden: *includeHidden}
	title := ""
	if code := fs.Arg(0); code != "all" {
		f, found, err := db.ForumByCode(ctx, code)
		if err != nil {
			return fmt.Errorf("map: %w", err)
		}
		if !found {
			return fmt.Errorf("no forum has the join code %q", code)
		}
		filter.ForumCode, title = f.Code, f.Name
	}
	var n int
	err = writeFileWhole(*out, func(w io.Writer) error {
		n, err = exportPins(ctx, db, filter, format, title, w, cfg.Location, export.WithLanguage(*lang))
		return err
	})
	if err != nil {
		return fmt.Errorf("map: %w", err)
	}
	fmt.Fprintf(stdout, "Wrote %s: %d pins.\n", *out, n)
	return nil
}

// exportPins writes the pins filter selects in format: the map page
// (titled title, "" for all forums), GeoJSON or CSV. The page never shows
// hidden pins.
func exportPins(ctx context.Context, db *postgres.Store, filter postgres.ExportFilter, format, title string, w io.Writer,
	loc *time.Location, opts ...export.Option) (int, error) {
	if format == "map" {
		filter.IncludeHidden = false
	}
	var pins []export.PinRow
	if err := db.ExportPins(ctx, filter, func(p export.PinRow) error { pins = append(pins, p); return nil }); err != nil {
		return 0, err
	}
	opts = append(opts, export.WithHidden(filter.IncludeHidden), export.WithLocation(loc))
	switch format {
	case "map":
		return len(pins), export.WriteMapPage(w, title, pins, opts...)
	case "pinsgeojson":
		return export.WritePinsGeoJSON(w, pins, opts...)
	case "pinscsv":
		return export.WritePinsCSV(w, pins, opts...)
	}
	return 0, fmt.Errorf("no pin format %q", format)
}
