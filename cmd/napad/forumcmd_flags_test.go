package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

// Join codes are random and may start with "-"; flags may come after them,
// and a yes/no flag takes no value.
func TestReorderFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "")
	confirm := fs.Bool("confirm", false, "")
	forum := fs.String("forum", "", "")
	if err := fs.Parse(reorderFlags(fs, []string{"-D9DVU_x", "voting", "--confirm", "--forum", "-abc", "-o=x.png"})); err != nil {
		t.Fatal(err)
	}
	if got := fs.Args(); !slices.Equal(got, []string{"-D9DVU_x", "voting"}) || !*confirm || *forum != "-abc" || *out != "x.png" {
		t.Errorf("args %q confirm %v forum %q o %q", got, *confirm, *forum, *out)
	}
}
