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
		{`{}`, int(flows.InputText), "hello"},
		{`{"l":"cs","fi":7,"fn":"8.B","s":"title","d":"100","a":{"scope":{"t":"school"}},"ok":true}`, int(flows.InputText), "Lavičky"},
		{`{"l":"en","fi":7,"s":"review","d":"100","a":{"scope":{"t":"town"},"improve":{"t":"x"},"title":{"t":"y"}},"ok":true}`, int(flows.InputButton), "100|rev|submit"},
		{`{"l":"uk","fi":7,"s":"cat","d":"5","ok":true}`, int(flows.InputButton), "5|cat|misc"},
		{`{"l":"nb","fi":7,"s":"place","d":"5","p":"cancel","ok":true}`, int(flows.InputButton), "5|cf|yes"},
		{`{"l":"en","su":{"s":"flangs","t":"9","l":["cs"]}}`, int(flows.InputButton), "9|fl|cs"},
		{`{"l":"en","fi":1,"s":"bogus","p":"nonsense"}`, int(flows.InputCommand), "new"},
		{`{"l":"xx","fi":-1,"s":"done","r":"N-AAAA"}`, int(flows.InputMedia), ""},
		{`{"l":"cs","cl":{"i":3,"n":"F"},"p":"closing"}`, int(flows.InputText), "31.2.2026"},
		{`{"l":"en","p":"delete"}`, int(flows.InputButton), "|del|yes"},
	} {
		f.Add(seed.state, seed.kind, seed.text, 50.1, 14.4)
	}
	f.Fuzz(func(t *testing.T, stateJSON string, kind int, text string, lat, lon float64) {
		var st flows.State
		if json.Unmarshal([]byte(stateJSON), &st) != nil {
			return
		}
		before, _ := json.Marshal(st)
		// What students and teachers can send; the other kinds carry what the
		// bot itself looked up.
		userKinds := []flows.InputKind{flows.InputText, flows.InputButton, flows.InputLocation, flows.InputPhoto,
			flows.InputMedia, flows.InputCommand, flows.InputJoin, flows.InputEdited}
		if kind < 0 {
			kind = -kind
		}
		in := flows.Input{Kind: userKinds[kind%len(userKinds)], Text: text, Lat: lat, Lon: lon, EventID: "77",
			PhotoID: text, Arg: text, Actor: flows.Actor{Role: []string{"", "teacher", "staff"}[len(text)%3]},
			Join: flows.JoinResult{Found: len(text)%2 == 0, Forum: flows.Forum{ID: int64(len(text)), Name: text, Open: true, Languages: []string{"cs"}}}}
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
