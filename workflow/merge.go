package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// A person corrects which requests make a case: merge (another case's requests join this
// one, which then answers for both) and split (requests leave this case for a new one).
const (
	ActMerge = "merge"
	ActSplit = "split"
)

// maxSplit bounds the requests one split moves.
const maxSplit = 1000

// sameRequester reports whether two requests come from the same requester, who would get
// one answer for both: the same authority, or — without one — the same channel and the same
// address (the notifier's, or the e-mail sender's), or both anonymous notices.
func sameRequester(a, b *docket.Request) bool {
	if a.AuthorityID != "" || b.AuthorityID != "" {
		return a.AuthorityID == b.AuthorityID
	}
	return a.Channel == b.Channel && strings.EqualFold(contact(a), contact(b))
}

// contact is the address a request without an authority is answered at.
func contact(r *docket.Request) string {
	switch {
	case r.Body.Email != nil:
		return r.Body.Email.From
	case r.Body.Notifier != nil:
		return r.Body.Notifier.Email
	}
	return ""
}

// merge makes case a.Case part of case intoID: its requests move, it ends as merged, and
// intoID owes its answer by the earlier deadline. Both cases must be open (no decision
// yet: a decision covers the requests it was taken on) and from the same requester.
func (s *Service) merge(ctx context.Context, u *docket.User, intoID string, a Action) (*docket.Case, *docket.Event, error) {
	if a.Case == intoID {
		return nil, nil, docket.Errorf(docket.EINVALID, "A case cannot be merged into itself.")
	}
	// Read first for clear refusals; the transaction checks the states again.
	var firsts [2]*docket.Request
	for i, id := range []string{intoID, a.Case} {
		c, err := s.store.Case(ctx, id)
		if isNotFound(err) && i == 0 {
			return nil, nil, notFound("case")
		} else if isNotFound(err) {
			return nil, nil, &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("No case %q to merge.", id), Fields: map[string]string{"case": "not found"}}
		} else if err != nil {
			return nil, nil, fmt.Errorf("merge: %w", err)
		}
		if c.State != docket.StateOpen {
			return nil, nil, mergeState(c)
		}
		if firsts[i], err = s.store.FirstRequest(ctx, id); err != nil {
			return nil, nil, fmt.Errorf("merge: %w", err)
		}
	}
	if !sameRequester(firsts[0], firsts[1]) {
		return nil, nil, docket.Errorf(docket.EINVALID, "Case %s and case %s come from different requesters: each is owed its own answer, so they stay apart.", a.Case, intoID)
	}
	var into *docket.Case
	var merged *docket.Event
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		var from *docket.Case
		var err error
		if into, err = tx.Case(ctx, intoID); err != nil {
			return err
		}
		if from, err = tx.Case(ctx, a.Case); err != nil {
			return err
		}
		for _, c := range []*docket.Case{into, from} {
			if c.State != docket.StateOpen {
				return mergeState(c)
			}
		}
		if from.PendingActions() > 0 {
			return docket.Errorf(docket.ESTATE, "Case %s has actions on the platform still in progress: merge it once they are done.", from.ID)
		}
		moved, err := tx.MoveRequests(ctx, from.ID, into.ID, nil)
		if err != nil {
			return err
		}
		now := s.Now().Truncate(time.Microsecond)
		actor := docket.UserActor(u.ID)
		if err := record(ctx, tx, from, docket.NewEvent(from.ID, docket.EventMergedInto, actor, now, docket.MergedInto{Into: into.ID, Requests: moved, Note: a.Text})); err != nil {
			return err
		}
		d := docket.Merged{From: from.ID, Requests: moved, Note: a.Text}
		if !from.DeadlineAt.IsZero() && (into.DeadlineAt.IsZero() || from.DeadlineAt.Before(into.DeadlineAt)) {
			d.DeadlineAt, d.DueSoonAt = docket.OptTime(from.DeadlineAt), docket.OptTime(from.DueSoonAt)
		}
		if from.Emergency && !into.Emergency {
			d.Emergency, d.Queue = true, from.Queue
		}
		d.Policy = from.Policy && !into.Policy
		d.Discloses = from.Discloses && !into.Discloses
		// A forged mail merged into a verified case does not ride on its verification.
		d.Unverified = from.Sender == docket.SenderUnverified && from.SenderVerified == nil
		if from.Priority > into.Priority {
			d.Priority = from.Priority
		}
		if from.Triage != nil {
			d.Targets = from.Triage.Targets
		}
		was := into.Emergency
		merged = docket.NewEvent(into.ID, docket.EventMerged, actor, now, d)
		if err := record(ctx, tx, into, merged); err != nil {
			return err
		}
		if err := s.pageIfFlagged(ctx, tx, into, was, now); err != nil {
			return err
		}
		if err := tx.UpdateCase(ctx, from); err != nil {
			return err
		}
		return tx.UpdateCase(ctx, into)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("merge case %s into %s: %w", a.Case, intoID, err)
	}
	s.wake()
	return into, merged, nil
}

// notOpen says why a case that is not open cannot be merged or split.
func notOpen(c *docket.Case, rule string) error {
	if c.State == docket.StateMerged {
		return docket.Errorf(docket.ESTATE, "Case %s was merged into case %s: its requests are there.", c.ID, c.MergedInto)
	}
	return docket.Errorf(docket.ESTATE, "Case %s is %s: %s", c.ID, c.State, rule)
}

func mergeState(c *docket.Case) error {
	return notOpen(c, "cases are merged before a decision, while both are open.")
}

// split moves requests a.Requests of case caseID to a new case, opened as the earliest of
// them would have opened it (its regime and clock from its time of receipt) and triaged
// again. The case that keeps the rest keeps its deadline and flags (a retriage corrects
// them). The request that opened the case stays; the case must be open.
func (s *Service) split(ctx context.Context, u *docket.User, caseID string, a Action) (*docket.Case, *docket.Event, error) {
	c, err := s.store.Case(ctx, caseID)
	if isNotFound(err) {
		return nil, nil, notFound("case")
	} else if err != nil {
		return nil, nil, fmt.Errorf("split case %s: %w", caseID, err)
	}
	if c.State != docket.StateOpen {
		return nil, nil, splitState(c)
	}
	opener, err := s.store.FirstRequest(ctx, caseID)
	if err != nil {
		return nil, nil, fmt.Errorf("split case %s: %w", caseID, err)
	}
	var reqs []*docket.Request
	for _, id := range a.Requests {
		if id == opener.ID {
			return nil, nil, docket.Errorf(docket.EINVALID, "Request %s opened case %s and stays with it: split off the requests that joined it.", id, caseID)
		}
		r, err := s.store.Request(ctx, id)
		if isNotFound(err) || (err == nil && r.CaseID != caseID) {
			return nil, nil, &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Request %s is not a request of case %s.", id, caseID), Fields: map[string]string{"requests": "not of this case"}}
		} else if err != nil {
			return nil, nil, fmt.Errorf("split case %s: %w", caseID, err)
		}
		reqs = append(reqs, r)
	}
	slices.SortFunc(reqs, func(x, y *docket.Request) int { return x.ReceivedAt.Compare(y.ReceivedAt) })
	now := s.Now().Truncate(time.Microsecond)
	actor := docket.UserActor(u.ID)
	opened, c2, triaged, err := s.splitCase(ctx, reqs, caseID, c.Policy, actor, now)
	if err != nil {
		return nil, nil, fmt.Errorf("split case %s: %w", caseID, err)
	}
	var ev *docket.Event
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		var err error
		if c, err = tx.Case(ctx, caseID); err != nil {
			return err
		}
		if c.State != docket.StateOpen {
			return splitState(c)
		}
		if c.Policy && !c2.Policy {
			return docket.Errorf(docket.ESTATE, "Case %s entered the policy queue meanwhile: split it again.", c.ID)
		}
		if err := tx.InsertCase(ctx, c2); err != nil {
			return err
		}
		if _, err := tx.MoveRequests(ctx, caseID, c2.ID, a.Requests); err != nil {
			return err
		}
		ev = docket.NewEvent(caseID, docket.EventSplit, actor, now, docket.Split{To: c2.ID, Requests: a.Requests, Note: a.Text})
		if err := record(ctx, tx, c, ev); err != nil {
			return err
		}
		for _, e := range append([]*docket.Event{opened}, triaged...) {
			if err := tx.Append(ctx, e); err != nil {
				return err
			}
		}
		if err := s.pageIfFlagged(ctx, tx, c2, false, now); err != nil {
			return err
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("split case %s: %w", caseID, err)
	}
	s.wake()
	return c, ev, nil
}

func splitState(c *docket.Case) error {
	return notOpen(c, "requests are split off before a decision, while the case is open.")
}

// splitCase prepares the new case of a split: its case_opened event, its projection, and
// its triage (the triaged event only: the rules' automatic steps ran at receipt).
//
// A case split off a policy case opens in the policy queue: a policy reviewer decides it too.
func (s *Service) splitCase(ctx context.Context, reqs []*docket.Request, from string, policy bool, actor docket.Actor, now time.Time) (*docket.Event, *docket.Case, []*docket.Event, error) {
	first := reqs[0]
	r, ok := s.regimes.Lookup(first.Body.Regime)
	if !ok {
		return nil, nil, nil, fmt.Errorf("request %s: regime %q is no longer in the regime table", first.ID, first.Body.Regime)
	}
	country := first.Body.Country
	if first.AuthorityID != "" {
		a, err := s.store.Authority(ctx, first.AuthorityID)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read authority %s: %w", first.AuthorityID, err)
		}
		country = a.Country
	}
	sender := ""
	if first.Body.Email != nil {
		sender = first.Body.Email.Sender.Level
	}
	queue := ""
	if policy {
		queue = docket.QueuePolicy
	}
	d := opening(first, r, country, sender, queue)
	d.SplitFrom = from
	// The new case owes its answer by the earliest clock of its requests.
	for _, q := range reqs[1:] {
		rq, ok := s.regimes.Lookup(q.Body.Regime)
		if !ok {
			continue
		}
		o := opening(q, rq, country, sender, "")
		if o.DeadlineAt != nil && (d.DeadlineAt == nil || o.DeadlineAt.Before(d.DeadlineAt.Time)) {
			d.DeadlineAt, d.DueSoonAt = o.DeadlineAt, o.DueSoonAt
		}
		if o.Emergency && !d.Emergency {
			d.Emergency, d.Queue, d.Priority = true, o.Queue, o.Priority
		}
		d.Discloses = d.Discloses || o.Discloses
	}
	for _, q := range reqs {
		d.Requests = append(d.Requests, q.ID)
	}
	opened := docket.NewEvent(docket.NewID(), docket.EventCaseOpened, actor, now, d)
	c := &docket.Case{}
	if err := c.Apply(opened); err != nil {
		return nil, nil, nil, err
	}
	if s.triager == nil {
		return opened, c, nil, nil
	}
	triaged, err := s.triageSplit(first, c, now)
	if err != nil {
		// The triage is a help, not a condition: the case opens unsorted, and says so.
		s.log.Warn("triage of a split case failed", "case", c.ID, "err", err)
		return opened, c, nil, nil
	}
	return opened, c, triaged, nil
}

func (s *Service) triageSplit(first *docket.Request, c *docket.Case, now time.Time) ([]*docket.Event, error) {
	all, err := s.triage(first, c, now)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 || all[0].Type != docket.EventTriaged {
		return nil, errors.New("the triage recorded no triaged event")
	}
	if err := c.Apply(all[0]); err != nil {
		return nil, err
	}
	return all[:1], nil
}
