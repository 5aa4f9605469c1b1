package integration

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// histWriter commits one writer's checkpoints as a streaming job would: a
// failed commit is retried by a new committer (as after a restart) with
// the same messages; a conflict means writing the checkpoint again with a
// new Write.
type histWriter struct {
	t                  *table.Table
	w                  int
	seed               uint64
	wr                 *table.Write
	retries, conflicts int64
}

func (hw *histWriter) close() {
	if hw.wr != nil {
		hw.wr.Close()
		hw.wr = nil
	}
}

func (hw *histWriter) commit(ctx context.Context, c int, rows []histChange) (int64, error) {
	user := fmt.Sprintf("writer-%d", hw.w)
	commit := hw.t.NewCommit(user)
	var msgs []table.CommitMessage
	// Commit even as the traffic ends: an acknowledged checkpoint is
	// what the check counts.
	bg := context.WithoutCancel(ctx)
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			return 0, fmt.Errorf("checkpoint %d not committed after %d attempts", c, attempt)
		}
		if msgs == nil {
			var err error
			if msgs, err = hw.prepare(bg, rows); errors.Is(err, errInjected) {
				// A read the fault storage failed (a snapshot whose
				// publication answer was lost is unreadable for a few
				// reads): a job would start its writer again.
				hw.retries++
				hw.close()
				msgs = nil
				continue
			} else if err != nil {
				return 0, err
			}
		}
		res, err := commit.CommitSteps(bg, int64(c), msgs)
		switch {
		case err == nil:
			if res.Append == 0 {
				return 0, fmt.Errorf("checkpoint %d: no APPEND snapshot in %+v", c, res)
			}
			return res.Append, nil
		case errors.Is(err, table.ErrCompactionNotCommitted):
			hw.close() // the rows landed; the Write no longer matches the table
			return res.Append, nil
		case errors.Is(err, spec.ErrConflict):
			hw.conflicts++
			hw.close()
			msgs = nil
		case errors.Is(err, errInjected) || errors.Is(err, table.ErrUncertainCommit):
			hw.retries++
			commit = hw.t.NewCommit(user)
		default:
			return 0, err
		}
	}
}

// prepare writes rows through the writer (opened if need be) and prepares
// their commit messages.
func (hw *histWriter) prepare(ctx context.Context, rows []histChange) ([]table.CommitMessage, error) {
	if hw.wr == nil {
		var err error
		if hw.wr, err = hw.t.NewWrite(ctx); err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		if err := hw.wr.WriteRow(ctx, spec.RowKindInsert, spec.Row{r.id, r.v, r.n}); err != nil {
			return nil, err
		}
	}
	return hw.wr.PrepareCommit(ctx)
}
