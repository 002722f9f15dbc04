package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
)

// importCommand is `napad import FILE [--yes]`: staff's decisions taken
// back from an export they edited (Status, Answer to the student). It shows
// what would change and asks before changing anything; a file it cannot
// take as a whole changes nothing and says why, with the row.
func importCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	yes := fs.Bool("yes", false, "apply without asking")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		return fmt.Errorf("import: %w", errUsage)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("import needs one FILE.xlsx or FILE.csv: %w", errUsage)
	}
	path := fs.Arg(0)
	data, err := readImportFile(path)
	if err != nil {
		return err
	}
	db, _, err := openConfiguredDatabase(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()

	name := filepath.Base(path)
	plan, err := db.PlanImport(ctx, name, data)
	if err != nil {
		return importFailed(path, err)
	}
	printPlan(stdout, name, plan)
	if len(plan.Changes) == 0 {
		return nil
	}
	if !*yes && !confirm(stdin, stdout) {
		fmt.Fprintln(stdout, "Nothing changed.")
		return nil
	}
	now, applied, err := db.ApplyImport(ctx, name, data, plan.Hash, postgres.CLIActor)
	if err != nil {
		return importFailed(path, err)
	}
	if !applied {
		// Someone decided about these ideas since the preview.
		fmt.Fprintln(stdout, "\nThe ideas changed since the preview; nothing was applied. The file would now do this:")
		printPlan(stdout, name, now)
		return errors.New("import: nothing applied: run napad import again to confirm the new preview")
	}
	fmt.Fprintf(stdout, "Applied %s; the students are told.\n", changes(len(now.Changes)))
	return nil
}

// readImportFile reads the file, refusing one over flows.MaxImportBytes
// before reading it.
func readImportFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > flows.MaxImportBytes {
		return nil, importFailed(path, &flows.ImportError{Reason: flows.ImportTooLarge})
	}
	data, err := export.ReadLimited(f)
	if err != nil {
		return nil, importFailed(path, err)
	}
	return data, nil
}

// confirm asks whether to apply the plan; only "y" or "yes" says so.
func confirm(stdin io.Reader, stdout io.Writer) bool {
	fmt.Fprint(stdout, "Apply? [y/N] ")
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// printPlan shows what importing the file changes: a count by status, then
// one line per change.
func printPlan(w io.Writer, name string, plan flows.ImportPlan) {
	if len(plan.Changes) == 0 {
		fmt.Fprintf(w, "%s: %s, nothing to change: statuses and answers are as in the database.\n", name, ideas(plan.Rows))
		return
	}
	var parts []string
	counts := plan.StatusCounts()
	for _, s := range flows.Statuses {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, statusName(s)))
		}
	}
	if n := plan.AnswersEdited(); n == 1 {
		parts = append(parts, "1 answer edited")
	} else if n > 1 {
		parts = append(parts, fmt.Sprintf("%d answers edited", n))
	}
	fmt.Fprintf(w, "%s: %s, %s: %s\n", name, ideas(plan.Rows), changes(len(plan.Changes)), strings.Join(parts, ", "))
	for _, c := range plan.Changes {
		var what []string
		if c.FromStatus != c.ToStatus {
			what = append(what, statusName(c.FromStatus)+" → "+statusName(c.ToStatus))
		}
		if c.FromAnswer != c.ToAnswer {
			what = append(what, "answer "+quoteAnswer(c.FromAnswer)+" → "+quoteAnswer(c.ToAnswer))
		}
		fmt.Fprintf(w, "  row %d  %s  %s: %s\n", c.Row, c.Ref, quoteAnswer(c.Title), strings.Join(what, "; "))
	}
}

func changes(n int) string {
	if n == 1 {
		return "1 change"
	}
	return fmt.Sprintf("%d changes", n)
}

// statusName is a status as the preview writes it: "not feasible".
func statusName(s string) string { return strings.ReplaceAll(s, "_", " ") }

// quoteAnswer is a text on one line of the preview, shortened.
func quoteAnswer(s string) string {
	if s == "" {
		return "(none)"
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:59]) + "…"
	}
	return "“" + s + "”"
}

// importFailed says why the file was refused, with its row, or wraps
// another error.
func importFailed(path string, err error) error {
	var ie *flows.ImportError
	if !errors.As(err, &ie) {
		return fmt.Errorf("import %s: %w", path, err)
	}
	return fmt.Errorf("%s refused, nothing changed: %s", path, refusal(ie))
}

// refusal is an import refusal in words, for the command line.
func refusal(e *flows.ImportError) string {
	row := ""
	if e.Row > 0 {
		row = fmt.Sprintf("row %d: ", e.Row)
		if e.Ref != "" {
			row = fmt.Sprintf("row %d (%s): ", e.Row, e.Ref)
		}
	}
	switch e.Reason {
	case flows.ImportNotSpreadsheet:
		return row + "not an XLSX or CSV file (save it from the spreadsheet program as .xlsx)"
	case flows.ImportTooLarge:
		return fmt.Sprintf("the file is over %d MB", flows.MaxImportBytes>>20)
	case flows.ImportNoColumns:
		if e.Value != "" {
			return row + fmt.Sprintf("the column %q is there twice: keep one", e.Value)
		}
		return "no sheet has the columns of an export: Reference, Status, Answer to the student and the (hidden) check code"
	case flows.ImportUnknownRef:
		return row + "no idea has this reference"
	case flows.ImportChangedRef:
		if e.Ref == "" {
			return row + "the reference was deleted"
		}
		return row + "the reference was changed: it does not match the row's check code"
	case flows.ImportRepeatedRef:
		return row + "the idea is in the file twice"
	case flows.ImportBadStatus:
		return row + fmt.Sprintf("%q is not a status: pick one from the list", e.Value)
	case flows.ImportAnswerNeeded:
		return row + statusName(e.Value) + " needs an answer for the student"
	case flows.ImportAnswerTooLong:
		return row + fmt.Sprintf("the answer has %s characters, at most %d", e.Value, flows.MaxStaffAnswer)
	case flows.ImportFormula:
		return row + fmt.Sprintf("a formula (%s) in Reference, Status or Answer: type the text instead", e.Value)
	}
	return e.Error()
}
