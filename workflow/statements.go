package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sor"
)

// JobSubmitStatements submits the pending statements of reasons to the EU Transparency
// Database (a recurring job, run by package transparency when it is configured).
const JobSubmitStatements = "sor.submit"

// QueueStatement queues the statement of reasons of an action on content or an account for
// the EU Transparency Database (DSA art. 24(5)), in the transaction that records the
// platform's confirmation (action_done) on c: a statement_queued event holding the
// statement as it will be sent, and its row, pending. posted is when the content was
// published, as the platform said (zero when unknown). A statement the database's rules
// refuse is refused at once (statement_refused, status 0: never sent); a restriction in no
// EEA country makes no statement for the database, and nothing is queued.
func (s *Service) QueueStatement(ctx context.Context, tx docket.Tx, c *docket.Case, action int64, posted time.Time) error {
	a := c.Action(action)
	if a == nil || !docket.ContentOp(a.Op) || a.Statement == nil || a.Status != docket.ActionDoneStatus || a.Submission != nil {
		return nil
	}
	st, err := sor.FromAction(c, a, posted)
	if errors.Is(err, sor.ErrOutsideEEA) {
		s.log.InfoContext(ctx, "no statement for the Transparency Database: the restriction applies in no EEA country",
			slog.String("case", c.ID), slog.Int64("action", action), slog.Any("countries", a.Countries))
		return nil
	} else if err != nil {
		return fmt.Errorf("statement of action %d: %w", action, err)
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return err
	}
	at := s.Now().Truncate(time.Microsecond)
	e := docket.NewEvent(c.ID, docket.EventStatementQueued, docket.ActorTransparency, at,
		docket.StatementQueued{Action: action, PUID: st.PUID, SHA256: sha(payload), Statement: payload})
	if err := record(ctx, tx, c, e); err != nil {
		return err
	}
	r := &docket.StatementRecord{PUID: st.PUID, CaseID: c.ID, Action: action, Payload: payload, State: docket.SubmissionPending,
		QueuedAt: e.At, NextAt: e.At}
	if err := tx.InsertStatement(ctx, r); err != nil {
		return err
	}
	if errs := sor.Validate(payload, sor.Single); errs != nil {
		return decideStatement(ctx, tx, c, at, StatementOutcome{Statement: r, Error: RefusalText(errs)})
	}
	return nil
}

// StatementOutcome is what became of a statement sent to the Transparency Database:
// accepted with the database's ID (Existing: the database held the puid already, after an
// earlier attempt whose answer was lost), or refused with the database's answer (Status, its
// HTTP status; 0 when docket refused it by the database's rules before sending).
type StatementOutcome struct {
	Statement *docket.StatementRecord
	Accepted  bool
	ID        string
	Existing  bool
	Status    int
	Error     string
}

// RecordStatements records, in one transaction, the outcomes of statements sent to the
// database: on each one's case a statement_accepted or statement_refused event, and its row.
// A statement no longer pending (decided meanwhile) is left as it is.
func (s *Service) RecordStatements(ctx context.Context, outs []StatementOutcome) error {
	if len(outs) == 0 {
		return nil
	}
	var cases []string
	byCase := map[string][]StatementOutcome{}
	for _, o := range outs {
		if byCase[o.Statement.CaseID] == nil {
			cases = append(cases, o.Statement.CaseID)
		}
		byCase[o.Statement.CaseID] = append(byCase[o.Statement.CaseID], o)
	}
	slices.Sort(cases) // the same order on every node: no deadlock between two of them
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		at := s.Now().Truncate(time.Microsecond)
		for _, id := range cases {
			c, err := tx.Case(ctx, id)
			if err != nil {
				return fmt.Errorf("case %s: %w", id, err)
			}
			for _, o := range byCase[id] {
				if err := decideStatement(ctx, tx, c, at, o); err != nil {
					return err
				}
			}
			if err := tx.UpdateCase(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d statement outcome(s): %w", len(outs), err)
	}
	return nil
}

// decideStatement records one outcome on c (its event and its row); c is saved by the caller.
func decideStatement(ctx context.Context, tx docket.Tx, c *docket.Case, at time.Time, o StatementOutcome) error {
	r := *o.Statement
	a := c.Action(r.Action)
	if a == nil || a.Submission == nil || a.Submission.PUID != r.PUID || a.Submission.State != docket.SubmissionPending {
		return nil
	}
	var data any = docket.StatementRefused{Action: r.Action, PUID: r.PUID, Attempt: r.Attempts, Status: o.Status, Error: o.Error}
	typ, state := docket.EventStatementRefused, docket.SubmissionRefused
	if o.Accepted {
		data = docket.StatementAccepted{Action: r.Action, PUID: r.PUID, ID: o.ID, Attempt: r.Attempts, Existing: o.Existing}
		typ, state = docket.EventStatementAccepted, docket.SubmissionAccepted
		o.Error = ""
	}
	e := docket.NewEvent(c.ID, typ, docket.ActorTransparency, at, data)
	if err := record(ctx, tx, c, e); err != nil {
		return err
	}
	r.State, r.RemoteID, r.Error, r.DecidedAt = state, o.ID, o.Error, e.At
	return tx.DecideStatement(ctx, &r)
}

// RefusalText is a refusal as the database writes it: {"message": …, "errors": {field:
// [messages]}}.
func RefusalText(errs sor.Errors) string {
	b, err := json.Marshal(struct {
		Message string     `json:"message"`
		Errors  sor.Errors `json:"errors"`
	}{errs.Summary(), errs})
	if err != nil {
		return errs.Summary()
	}
	return string(b)
}
