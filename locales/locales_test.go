package locales_test

import (
	"testing"

	"github.com/healthycities/napad/locales"
)

func TestLoad(t *testing.T) {
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Languages()); got != 4 {
		t.Fatalf("languages = %v", c.Languages())
	}
}
