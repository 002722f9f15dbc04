package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/healthycities/napad/bot/resultchart"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// ResultsPicture draws a forum's ranked results for a classroom projector:
// labelled in the forum's language (the first it offers), with its name,
// the day and the turnout on it. The bot sends it to the teacher; `napad
// forum results -o` writes it to a file.
func ResultsPicture(catalog *locales.Catalog, f flows.Forum, results []flows.ItemResult, stats flows.ForumStats, day time.Time) ([]byte, error) {
	lang := "cs"
	if len(f.Languages) > 0 {
		lang = f.Languages[0]
	}
	texts := &pictureTexts{catalog: catalog, lang: lang}
	render := texts.render
	chart := resultchart.Chart{
		Title:    render(flows.Msg{Key: "results.picture_title"}),
		Subtitle: render(flows.Msg{Key: "results.picture_subtitle", Data: map[string]any{"Forum": f.Name, "Day": day}}),
		Footer:   render(flows.Msg{Key: "results.picture_turnout", Data: map[string]any{"Voted": stats.Voted, "Joined": stats.Joined}}),
	}
	ranked := flows.Rank(results)
	if more := len(ranked) - resultchart.MaxBars; more > 0 {
		// A shortlist may be longer than a projected picture can hold: the
		// picture shows the top and says where the rest is.
		ranked = ranked[:resultchart.MaxBars]
		chart.Footer += "   " + render(flows.Msg{Key: "results.picture_more", Data: map[string]any{"Count": more}})
	}
	for _, r := range ranked {
		votes := r.Votes
		chart.Bars = append(chart.Bars, resultchart.Bar{
			Label: r.Item.Text(lang).Title,
			Votes: votes,
			Value: render(flows.Msg{Key: "results.picture_votes", Count: &votes}),
		})
	}
	if texts.err != nil {
		return nil, fmt.Errorf("results picture: %w", texts.err)
	}
	png, err := resultchart.PNG(chart)
	if err != nil {
		return nil, fmt.Errorf("results picture of forum %d: %w", f.ID, err)
	}
	return png, nil
}

// pictureTexts renders the texts of a picture in one language, keeping the
// first failure: a picture missing a text is not sent.
type pictureTexts struct {
	catalog *locales.Catalog
	lang    string
	err     error
}

func (p *pictureTexts) render(m flows.Msg) string {
	s, err := p.catalog.Render(p.lang, m)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("texts in %s: %w", p.lang, err)
	}
	return s
}

func (rt *Runtime) makeResultsPicture(ctx context.Context, e flows.MakeResultsPicture) (flows.Input, bool) {
	card, found, err := rt.card(ctx, e.ForumID)
	if err != nil || !found {
		return rt.failed("loading a forum failed", fmt.Errorf("forum %d (found=%v): %w", e.ForumID, found, err))
	}
	results, err := rt.stores.Voting.Results(ctx, e.ForumID)
	if err != nil {
		return rt.failed("loading results failed", err)
	}
	png, err := ResultsPicture(rt.catalog, card.Forum, results, card.Stats, rt.now())
	if err != nil {
		return rt.failed("drawing the results picture failed", err)
	}
	return outcome(flows.ResultsPictureMade{Forum: card.Forum, File: flows.File{Name: "results-" + card.Forum.Code + ".png", Data: png}})
}
