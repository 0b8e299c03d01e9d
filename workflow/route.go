package workflow

import (
	"fmt"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/triage"
)

// Route returns the case that req opens when the triage says res: its case_opened event and
// the triage's events (the routing rules' queue, priority and automatic steps) applied, as
// Submit prepares them before its commit, without a store and without ids. country is the
// requester's (an authority's, else the body's). `docket sim` opens its simulated cases
// with it, so that the simulation and the server compute one clock, one queue and one set
// of automatic steps.
func (s *Service) Route(req *docket.Request, country string, res triage.Result) (*docket.Case, error) {
	r, ok := s.regimes.Lookup(req.Body.Regime)
	if !ok {
		return nil, docket.Errorf(docket.EINVALID, "Unknown regime %q.", req.Body.Regime)
	}
	if req.ReceivedAt.IsZero() {
		req.ReceivedAt = s.Now()
	}
	req.ReceivedAt = req.ReceivedAt.UTC().Truncate(time.Microsecond)
	c := &docket.Case{}
	opened := docket.NewEvent(req.CaseID, docket.EventCaseOpened, docket.ActorPublic, req.ReceivedAt, opening(req, r, country, "", ""))
	if err := c.Apply(opened); err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	events, err := s.triageEvents(req, c, res, req.ReceivedAt)
	if err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	for _, e := range events {
		if err := c.Apply(e); err != nil {
			return nil, fmt.Errorf("route: %w", err)
		}
	}
	return c, nil
}
