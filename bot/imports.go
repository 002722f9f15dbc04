package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/healthycities/napad/flows"
)

// FileSource is a channel through which people send files.
type FileSource interface {
	// FetchFile reads a file sent through the channel; one over limit
	// bytes gives an error wrapping ErrFileTooLarge.
	FetchFile(ctx context.Context, fileID string, limit int64) ([]byte, error)
}

// ErrFileTooLarge marks a file over the size asked for.
var ErrFileTooLarge = errors.New("the file is too large")

// fetchImport reads the spreadsheet staff sent back; done says there is
// nothing more to do, and in is what to tell the flow (the file refused as
// too large, or the fetch failed).
func (rt *Runtime) fetchImport(ctx context.Context, x effect, fileID, name string) (data []byte, in flows.Input, done bool) {
	src, ok := x.ch.(FileSource)
	if !ok {
		in, _ = rt.failed("fetching a spreadsheet staff sent failed", fmt.Errorf("the channel %T takes no files", x.ch))
		return nil, in, true
	}
	data, err := src.FetchFile(ctx, fileID, flows.MaxImportBytes)
	switch {
	case errors.Is(err, ErrFileTooLarge):
		return nil, flows.Input{What: flows.ImportRefused{Name: name, Err: flows.ImportError{Reason: flows.ImportTooLarge}}}, true
	case err != nil:
		in, _ = rt.failed("fetching a spreadsheet staff sent failed", err)
		return nil, in, true
	}
	return data, flows.Input{}, false
}

// importRefusal is the flow's input for a file the store refused, if err is
// such a refusal.
func importRefusal(name string, err error) (flows.Input, bool) {
	var refusal *flows.ImportError
	if !errors.As(err, &refusal) {
		return flows.Input{}, false
	}
	return flows.Input{What: flows.ImportRefused{Name: name, Err: *refusal}}, true
}

func (rt *Runtime) planImport(ctx context.Context, x effect, e flows.PlanImport) (flows.Input, bool) {
	data, in, done := rt.fetchImport(ctx, x, e.FileID, e.Name)
	if done {
		return in, true
	}
	plan, err := rt.stores.Staff.PlanImport(ctx, e.Name, data)
	if in, ok := importRefusal(e.Name, err); ok {
		return in, true
	}
	if err != nil {
		return rt.failed("planning an import failed", err)
	}
	return outcome(flows.ImportPlanned{FileID: e.FileID, Name: e.Name, Plan: plan})
}

func (rt *Runtime) applyImport(ctx context.Context, x effect, e flows.ApplyImport) (flows.Input, bool) {
	data, in, done := rt.fetchImport(ctx, x, e.FileID, e.Name)
	if done {
		return in, true
	}
	plan, applied, err := rt.stores.Staff.ApplyImport(ctx, e.Name, data, e.Hash, x.pid)
	if in, ok := importRefusal(e.Name, err); ok {
		return in, true
	}
	if err != nil {
		return rt.failed("applying an import failed", err)
	}
	if applied {
		x.written()
		rt.log.Info("decisions imported from a spreadsheet", "changes", len(plan.Changes), "rows", plan.Rows)
		// Each change has its own audit row; this one says they came together.
		rt.audit(ctx, x.pid, "ideas.import", "", map[string]any{"file": e.Name, "rows": plan.Rows, "changes": len(plan.Changes)})
	}
	return outcome(flows.ImportApplied{FileID: e.FileID, Name: e.Name, Plan: plan, Applied: applied})
}
