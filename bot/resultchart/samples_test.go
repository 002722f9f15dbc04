package resultchart

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Realistic charts, used by the tests and written out by TestWriteSamples.

func czech() Chart {
	items := []struct {
		label string
		votes int
	}{
		{"Pítko na školním dvoře", 12},
		{"Lavičky v parku u nádraží", 9},
		{"Více zeleně před školou", 9},
		{"Bezpečný přechod u školy", 7},
		{"Stojany na kola a koloběžky u hlavního vchodu", 6},
		{"Venkovní učebna na zahradě", 4},
		{"Koše na tříděný odpad ve všech třídách", 3},
		{"Delší přestávka na oběd", 2},
		{"Hřiště na streetball za tělocvičnou", 1},
		{"Osvětlení cesty ze zastávky", 0},
	}
	c := Chart{
		Title:    "Výsledky hlasování",
		Subtitle: "8.B – ZŠ Komenského, Žďár nad Sázavou · 15. 12. 2026",
		Footer:   "Hlasovalo 28 z 30 žáků",
	}
	for _, it := range items {
		c.Bars = append(c.Bars, Bar{Label: it.label, Votes: it.votes, Value: czechVotes(it.votes)})
	}
	return c
}

func czechVotes(n int) string {
	switch {
	case n == 1:
		return "1 hlas"
	case n >= 2 && n <= 4:
		return strconv.Itoa(n) + " hlasy"
	}
	return strconv.Itoa(n) + " hlasů"
}

func ukrainian() Chart {
	return Chart{
		Title:    "Результати голосування",
		Subtitle: "7-А клас, школа № 5, Київ · 15.12.2026",
		Bars: []Bar{
			{Label: "Їдальня з ґанком і новими столами", Votes: 14, Value: "14 голосів"},
			{Label: "Євроремонт спортзалу", Votes: 11, Value: "11 голосів"},
			{Label: "Інтернет у бібліотеці", Votes: 8, Value: "8 голосів"},
			{Label: "Ґрафіті-стіна на подвір’ї", Votes: 4, Value: "4 голоси"},
			{Label: "Велопарковка біля входу", Votes: 2, Value: "2 голоси"},
			{Label: "Тиха кімната для читання", Votes: 1, Value: "1 голос"},
		},
		Footer: "Проголосували 26 з 29 учнів",
	}
}

func norwegian() Chart {
	labels := []string{
		"Flere benker og bord i skolegården, slik at vi kan spise ute når været er fint",
		"Trygg gangfelt med lys ved krysset mellom Storgata og skoleveien om vinteren",
		"Et eget rom for lekser og stillelesing som er åpent etter skoletid hver dag",
		"Sykkelstativ med tak ved hovedinngangen, og plass til sparkesykler også",
		"Mer grønt: trær, blomster og en liten kjøkkenhage bak gymsalen",
		"Vannfontene i skolegården som virker hele året, også når det er kaldt",
		"Bedre belysning på stien gjennom parken fra bussholdeplassen til skolen",
		"Ungdomsklubb på fredager med musikk, spill og noe å spise for alle",
		"Søppelkasser for kildesortering i alle klasserom og i kantina",
		"Lengre lunsjpause slik at alle rekker å spise og være ute litt",
		"Skaterampe og basketballkurv på den gamle asfaltplassen ved Østre Åsen",
		"Gratis frukt i friminuttene for alle elever på ungdomstrinnet",
	}
	votes := []int{11, 10, 8, 8, 6, 5, 4, 3, 3, 2, 1, 0}
	c := Chart{
		Title:    "Resultater fra avstemningen",
		Subtitle: "9C – Østre Åsen skole, Ålesund · 15.12.2026",
		Footer:   "27 av 29 elever stemte",
	}
	for i, l := range labels {
		v := strconv.Itoa(votes[i]) + " stemmer"
		if votes[i] == 1 {
			v = "1 stemme"
		}
		c.Bars = append(c.Bars, Bar{Label: l, Votes: votes[i], Value: v})
	}
	return c
}

// TestWriteSamples writes the sample charts for looking at:
//
//	RESULTCHART_SAMPLES=/work/chart-samples go test -run TestWriteSamples ./bot/resultchart/
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("RESULTCHART_SAMPLES")
	if dir == "" {
		t.Skip("RESULTCHART_SAMPLES not set")
	}
	many := norwegian()
	many.Title = "15 forslag"
	for i := range 3 {
		many.Bars = append(many.Bars, Bar{Label: "Forslag nummer " + strconv.Itoa(13+i) + " med en ganske lang tittel som må kuttes et sted", Value: "0 stemmer"})
	}
	one := czech()
	one.Bars = one.Bars[:1]
	for name, c := range map[string]Chart{"cs-10": czech(), "uk-6": ukrainian(), "nb-12": norwegian(), "nb-15": many, "cs-1": one} {
		b, err := PNG(c)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, lo, _ := render(c)
		t.Logf("%s: %d bytes, labels %d px, rows %d px", path, len(b), lo.labelSize, lo.pitch)
	}
}
