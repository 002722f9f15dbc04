package flows_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// FuzzHandle feeds the conversation arbitrary stored states and inputs: it
// must never panic, never change the state it was given, and every reply
// must render in every language. The seeds run in `make test`; explore with
// `go test ./flows -fuzz FuzzHandle -fuzztime 60s`.
func FuzzHandle(f *testing.F) {
	catalog, err := locales.Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct {
		state string
		kind  int
		text  string
	}{
		{`{}`, kindText, "hello"},
		{`{"l":"cs","fi":7,"fn":"8.B","s":"title","d":"100","a":{"scope":{"t":"school"}},"ok":true}`, kindText, "Lavičky"},
		{`{"l":"en","fi":7,"s":"review","d":"100","a":{"scope":{"t":"town"},"improve":{"t":"x"},"title":{"t":"y"}},"ok":true}`, kindTap, "100|rev|submit"},
		{`{"l":"uk","fi":7,"s":"cat","d":"5","ok":true}`, kindTap, "5|cat|misc"},
		{`{"l":"nb","fi":7,"s":"place","d":"5","p":"cancel","ok":true}`, kindTap, "5|cf|yes"},
		{`{"l":"en","su":{"s":"flangs","t":"9","l":["cs"]}}`, kindTap, "9|fl|cs"},
		{`{"l":"en","fi":1,"s":"bogus","p":"nonsense"}`, kindCommand, "new"},
		{`{"l":"xx","fi":-1,"s":"done","r":"N-AAAA"}`, kindMedia, ""},
		{`{"l":"cs","cl":{"i":3,"n":"F"},"p":"closing"}`, kindText, "31.2.2026"},
		{`{"l":"en","p":"delete"}`, kindTap, "|del|yes"},
		{`{"l":"cs","rvw":"N-7K2Q","dc":{"s":"not_feasible","i":true},"p":"staffanswer"}`, kindText, "Nejde to."},
		{`{"l":"uk","rvw":"N-7K2Q","p":"duplicate"}`, kindTap, "|rv|N-7K2Q:cancel"},
		{`{"l":"en","p":"idearef"}`, kindText, "n-7k2q"},
		{`{"l":"cs","fi":7,"s":"age","d":"5"}`, kindTap, "5|age|13-14"},
	} {
		f.Add(seed.state, seed.kind, seed.text, 50.1, 14.4)
	}
	f.Fuzz(func(t *testing.T, stateJSON string, kind int, text string, lat, lon float64) {
		var st flows.State
		if json.Unmarshal([]byte(stateJSON), &st) != nil {
			return
		}
		before, _ := json.Marshal(st)
		if kind < 0 {
			kind = -kind
		}
		in := flows.Input{What: userInput(kind, text, lat, lon), EventID: "77",
			Actor: flows.Actor{Role: []string{"", "teacher", "staff"}[len(text)%3]},
			// Deployments with and without an age rule.
			Age: []flows.AgeRule{{}, {Min: 15, AskBand: true}, {Min: 13}}[kind%3]}
		res := flows.Handle(st, in, clock)
		after, _ := json.Marshal(st)
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("Handle changed its input state:\n%s\n%s", before, after)
		}
		if _, err := json.Marshal(res.State); err != nil {
			t.Fatalf("result state does not encode: %v", err)
		}
		for _, r := range res.Replies {
			for _, lang := range flows.Languages {
				if _, err := catalog.Render(lang, links(r.Text)); err != nil {
					t.Fatalf("reply %q does not render in %s: %v", r.Text.Key, lang, err)
				}
				for _, row := range r.Buttons {
					for _, b := range row {
						if len(b.Data) > 64 {
							t.Fatalf("button data over 64 bytes: %q", b.Data)
						}
						if _, err := catalog.Render(lang, links(b.Label)); err != nil {
							t.Fatalf("button %q does not render in %s: %v", b.Label.Key, lang, err)
						}
					}
				}
			}
		}
	})
}

// The kinds of input a fuzzed case sends: what students and teachers can
// send (the others carry what the bot itself looked up).
const (
	kindText = iota
	kindTap
	kindLocation
	kindPhoto
	kindMedia
	kindCommand
	kindJoin
	kindEdited
	kindFile
	userKinds
)

func userInput(kind int, text string, lat, lon float64) flows.Happened {
	switch kind % userKinds {
	case kindText:
		return flows.Text{Text: text}
	case kindTap:
		return flows.Tap{Data: text}
	case kindLocation:
		return flows.Location{Lat: lat, Lon: lon}
	case kindPhoto:
		return flows.PhotoSent{FileID: text}
	case kindMedia:
		return flows.Media{Kind: text}
	case kindCommand:
		return flows.CommandSent{Name: text, Arg: text}
	case kindFile:
		return flows.FileSent{FileID: text, Name: text, Size: int64(lat)}
	case kindJoin:
		return flows.JoinLinkOpened{Found: len(text)%2 == 0, Forum: flows.Forum{ID: int64(len(text)), Name: text, Phase: flows.PhaseCollecting, Languages: []string{"cs"}}}
	}
	return flows.Edited{}
}
