package main

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// `napad stats` prints who took part and the ideas by category, scope and
// status, hidden ones apart, of all forums or one; -o writes the picture.
func TestStatsCommand(t *testing.T) {
	c := newExportCLI(t) // Kolín: 2 ideas; Bergen: 1, and 1 hidden
	spaces := regexp.MustCompile(`[ \t]+`)
	lines := func(out string) []string {
		var ls []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			ls = append(ls, strings.TrimSpace(spaces.ReplaceAllString(l, " ")))
		}
		return ls
	}
	has := func(out string, want ...string) {
		t.Helper()
		got := lines(out)
		for _, w := range want {
			found := false
			for _, l := range got {
				found = found || l == w
			}
			if !found {
				t.Errorf("no line %q in:\n%s", w, out)
			}
		}
	}

	out := c.run("stats")
	has(out,
		"FORUM NAME JOINED SENT AN IDEA IDEAS HIDDEN",
		c.kolin.Code+" "+c.kolin.Name+" 2 2 2 0",
		c.bergen.Code+" "+c.bergen.Name+" 2 2 1 1",
		"all 2 forums 4 4 3 1",
		"category school 1", "category transport 1", "category environment 1", "category misc 0",
		"scope both 3", "scope school 0", "status new 3",
	)
	if strings.Index(out, c.kolin.Code) > strings.Index(out, c.bergen.Code) {
		t.Errorf("the forum with more ideas is not first:\n%s", out)
	}

	out = c.run("stats", "--forum", c.bergen.Code, "-o", filepath.Join(c.dir, "bergen.png"), "--lang", "nb")
	has(out, c.bergen.Code+" "+c.bergen.Name+" 2 2 1 1", "category environment 1", "category misc 0", "status new 1")
	if strings.Contains(out, c.kolin.Code) || strings.Contains(out, "all ") || strings.Contains(out, "category school 1") {
		t.Errorf("one forum's overview shows others:\n%s", out)
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "bergen.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil || img.Bounds() != image.Rect(0, 0, 1080, 1350) {
		t.Fatalf("the picture: %v, %v", err, img)
	}
	if !strings.Contains(out, "Wrote "+filepath.Join(c.dir, "bergen.png")) {
		t.Errorf("output: %s", out)
	}

	// STAFF_LANGUAGE is the picture's language when --lang is not given.
	c.env["STAFF_LANGUAGE"] = "xx"
	if _, err := c.try("stats", "-o", filepath.Join(c.dir, "x.png")); !errors.Is(err, errUsage) {
		t.Errorf("STAFF_LANGUAGE=xx: %v, want a usage error", err)
	}
	delete(c.env, "STAFF_LANGUAGE")
	for _, args := range [][]string{{"stats", "extra"}, {"stats", "--lang", "de"}} {
		if _, err := c.try(args...); !errors.Is(err, errUsage) {
			t.Errorf("napad %v: %v, want a usage error", args, err)
		}
	}
	if _, err := c.try("stats", "--forum", "NoSuchForumCode1"); err == nil || !strings.Contains(err.Error(), "NoSuchForumCode1") {
		t.Errorf("an unknown forum: %v", err)
	}
}
