package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// runInput runs napad with input on its standard input.
func (c *exportCLI) runInput(input string, args ...string) (string, error) {
	var out bytes.Buffer
	err := runWith(context.Background(), args, func(k string) string { return c.env[k] }, strings.NewReader(input), &out, &out)
	return out.String(), err
}

// editExport exports the ideas as XLSX (in English: STAFF_LANGUAGE=en),
// sets cells of the ideas' sheet, by English header and the seed key of
// the idea's row, and saves the workbook as name.
func (c *exportCLI) editExport(name string, cells map[[2]string]string) string {
	c.t.Helper()
	path := filepath.Join(c.dir, name)
	c.run("export", "-o", path)
	f, err := excelize.OpenFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	sheet := export.IdeasSheetName("en")
	rows, err := f.GetRows(sheet)
	if err != nil {
		c.t.Fatal(err)
	}
	for at, v := range cells {
		col := slices.Index(rows[0], at[0])
		row := slices.IndexFunc(rows, func(r []string) bool { return r[0] == c.refs[at[1]] })
		name, err := excelize.CoordinatesToCellName(col+1, row+1)
		if err != nil || col < 0 || row < 0 {
			c.t.Fatalf("no cell %v", at)
		}
		if err := f.SetCellValue(sheet, name, v); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// `napad import` shows the changes, asks, applies them when told to, and
// says so; the same file again has nothing to change.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	bench, trees := c.refs["bench"], c.refs["trees"]
	path := c.editExport("decided.xlsx", map[[2]string]string{
		{"Status", "bench"}: "Selected",
		{"Status", "trees"}: "Not feasible", {"Answer to the student", "trees"}: "Na to nemáme rozpočet.",
	})
	preview := "decided.xlsx: 3 ideas, 2 changes: 1 selected, 1 not feasible\n" +
		"  row 2  " + bench + "  “Lavičky na dvoře”: new → selected\n" +
		"  row 4  " + trees + "  “=HYPERLINK(\"x\")”: new → not feasible; answer (none) → “Na to nemáme rozpočet.”\n"

	out, err := c.runInput("n\n", "import", path)
	if err != nil || out != preview+"Apply? [y/N] Nothing changed.\n" {
		t.Errorf("answered no: %v\n%s", err, out)
	}
	if s := c.stored(bench); s.status != "new" {
		t.Errorf("bench changed without a yes: %s", s.status)
	}

	out, err = c.runInput("y\n", "import", path)
	if err != nil || out != preview+"Apply? [y/N] Applied 2 changes; the students are told.\n" {
		t.Errorf("answered yes: %v\n%s", err, out)
	}
	if s := c.stored(bench); s.status != "selected" || s.answer != "" {
		t.Errorf("bench: %s %q", s.status, s.answer)
	}
	if s := c.stored(trees); s.status != "not_feasible" || s.answer != "Na to nemáme rozpočet." {
		t.Errorf("trees: %s %q", s.status, s.answer)
	}
	entries, err := pgtest.AuditLog(t.Context(), c.db, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Actor != postgres.CLIActor || e.Action != postgres.ActionSetStatus {
			t.Errorf("audit entry %+v", e)
		}
	}

	out = c.run("import", "--yes", path)
	if want := "decided.xlsx: 3 ideas, nothing to change: statuses and answers are as in the database.\n"; out != want {
		t.Errorf("again: %q, want %q", out, want)
	}
}

// --yes applies without asking, also when the flag follows the file.
func TestImportCommandYes(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	path := c.editExport("yes.xlsx", map[[2]string]string{{"Status", "bus"}: "In progress"})
	out := c.run("import", path, "--yes")
	if !strings.HasSuffix(out, "Applied 1 change; the students are told.\n") || strings.Contains(out, "Apply?") {
		t.Errorf("--yes: %q", out)
	}
	if s := c.stored(c.refs["bus"]); s.status != "in_progress" {
		t.Errorf("bus: %s", s.status)
	}
}

// A refused file changes nothing: the command says why, with the row, and
// fails.
func TestImportCommandRefuses(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	bad := c.editExport("bad.xlsx", map[[2]string]string{
		{"Status", "bench"}: "Selected", {"Status", "bus"}: "Maybe later",
	})
	_, err := c.runInput("y\n", "import", bad)
	if err == nil || errors.Is(err, errUsage) ||
		!strings.Contains(err.Error(), "row 3 ("+c.refs["bus"]+"): \"Maybe later\" is not a status") {
		t.Errorf("a bad status: %v", err)
	}
	needs := c.editExport("needs.xlsx", map[[2]string]string{{"Status", "bus"}: "Duplicate"})
	if _, err := c.runInput("y\n", "import", needs); err == nil || !strings.Contains(err.Error(), "row 3 ("+c.refs["bus"]+"): duplicate needs an answer") {
		t.Errorf("a duplicate without an answer: %v", err)
	}
	if s := c.stored(c.refs["bench"]); s.status != "new" {
		t.Errorf("bench changed by a refused file: %s", s.status)
	}

	pdf := filepath.Join(c.dir, "ideas.xlsx")
	if err := os.WriteFile(pdf, []byte("%PDF-1.7\n\x00\x01binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.try("import", pdf); err == nil || !strings.Contains(err.Error(), "not an XLSX or CSV file") {
		t.Errorf("a PDF: %v", err)
	}
	big := filepath.Join(c.dir, "big.csv")
	if err := os.WriteFile(big, nil, 0o600); err != nil || os.Truncate(big, flows.MaxImportBytes+1) != nil {
		t.Fatal("cannot make a large file")
	}
	if _, err := c.try("import", big); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("over %d MB", flows.MaxImportBytes>>20)) {
		t.Errorf("a file over the limit: %v", err)
	}
	for _, args := range [][]string{{"import"}, {"import", bad, bad}, {"import", "--nope", bad}} {
		if _, err := c.try(args...); !errors.Is(err, errUsage) {
			t.Errorf("napad %v: %v, want a usage error", args, err)
		}
	}
	if _, err := c.try("import", filepath.Join(c.dir, "missing.xlsx")); err == nil {
		t.Error("a missing file imported")
	}
}
