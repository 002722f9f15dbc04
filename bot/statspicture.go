package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/healthycities/napad/bot/statschart"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// StatsPicture draws the staff's overview for a phone, in lang: the ideas
// by category, then by status, with what was counted, the day and the
// totals on it. The bot sends it with /stats; `napad stats -o` writes it
// to a file.
func StatsPicture(catalog *locales.Catalog, lang string, s flows.Stats, day time.Time) ([]byte, error) {
	texts := &pictureTexts{catalog: catalog, lang: lang}
	render := texts.render
	count := func(n int) string { return render(flows.Msg{Key: "stats.picture_count", Data: map[string]any{"N": n}}) }
	scope := render(flows.Msg{Key: "stats.picture_all_forums"})
	if s.Forum != nil {
		scope = s.Forum.Name
	}
	t := s.Total
	chart := statschart.Chart{
		Title:      render(flows.Msg{Key: "stats.picture_title"}),
		Subtitle:   render(flows.Msg{Key: "stats.picture_subtitle", Data: map[string]any{"Scope": scope, "Day": day}}),
		Summary:    render(flows.Msg{Key: "stats.picture_summary", Data: map[string]any{"Ideas": t.Ideas, "Submitters": t.Submitters, "Joined": t.Joined}}),
		PartsTitle: render(flows.Msg{Key: "stats.picture_statuses"}),
	}
	for _, n := range t.Categories() {
		chart.Bars = append(chart.Bars, statschart.Bar{Label: render(flows.Msg{Key: "cat." + n.Key}), Count: n.N, Value: count(n.N)})
	}
	for _, n := range t.Statuses() {
		chart.Parts = append(chart.Parts, statschart.Bar{Label: render(flows.Msg{Key: "stats.status." + n.Key}), Count: n.N, Value: count(n.N)})
	}
	if t.Hidden > 0 {
		chart.Footer = render(flows.Msg{Key: "stats.picture_hidden", Data: map[string]any{"N": t.Hidden}})
	}
	if texts.err != nil {
		return nil, fmt.Errorf("stats picture: %w", texts.err)
	}
	png, err := statschart.PNG(chart)
	if err != nil {
		return nil, fmt.Errorf("stats picture: %w", err)
	}
	return png, nil
}

func (rt *Runtime) loadStats(ctx context.Context, e flows.LoadStats) (flows.Input, bool) {
	stats, err := rt.stores.Staff.Stats(ctx, e.ForumID)
	if err != nil {
		return rt.failed("loading the overview failed", fmt.Errorf("forum %d: %w", e.ForumID, err))
	}
	return outcome(flows.StatsLoaded{Stats: stats})
}

func (rt *Runtime) makeStatsPicture(e flows.MakeStatsPicture) (flows.Input, bool) {
	day := rt.now()
	png, err := StatsPicture(rt.catalog, e.Lang, e.Stats, day)
	if err != nil {
		return rt.failed("drawing the overview picture failed", err)
	}
	return outcome(flows.StatsPictureMade{File: flows.File{Name: "napad-stats-" + day.Format(time.DateOnly) + ".png", Data: png}})
}
