package sim

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/workflow"
)

// SampleCase is what the simulation decided for one new case, kept to check it against
// the service.
type SampleCase struct {
	Class     int
	Flagged   bool // flagged an emergency by its sender
	Spam      bool
	Received  time.Time
	Deadline  time.Time // zero: none
	Emergency bool
	Queue     string
	Priority  int
	Closed    bool
}

func (s *sim) keep(ci int, flagged, spam bool, at, deadline int64, rt route) {
	if s.opt.Sample <= 0 {
		return
	}
	s.seen++
	if s.seen%int64(s.opt.Sample) != 1 && s.opt.Sample != 1 {
		return
	}
	sc := SampleCase{Class: ci, Flagged: flagged, Spam: spam, Received: time.UnixMicro(at).UTC(), Emergency: rt.emergency,
		Queue: s.queueName[rt.queue], Priority: int(rt.priority), Closed: rt.closed}
	if deadline != 0 {
		sc.Deadline = time.UnixMicro(deadline).UTC()
	}
	s.res.Samples = append(s.res.Samples, sc)
}

// CheckReport says how the simulation's cases compare with the service's.
type CheckReport struct {
	Checked int
	// Deadlines that the receipt of workflow.Service.Submit on SQLite gave otherwise;
	// Routes for which workflow.Service.Route gave another queue, priority or closing.
	DeadlineMismatch, RouteMismatch int
	First                           []string
}

// OK reports whether everything agreed.
func (r *CheckReport) OK() bool { return r.DeadlineMismatch == 0 && r.RouteMismatch == 0 }

func (r *CheckReport) String() string {
	s := fmt.Sprintf("check against the service on SQLite: %d cases submitted at their simulated times; %d deadlines and %d routes differ", r.Checked, r.DeadlineMismatch, r.RouteMismatch)
	if len(r.First) > 0 {
		s += ":\n  " + strings.Join(r.First, "\n  ")
	}
	return s
}

// Check submits the sampled cases to a real workflow.Service on a fresh SQLite database
// (in a temporary folder), each at its simulated time of receipt, and compares the
// deadline on its receipt with the simulation's; and routes each again through the service
// (rules included) to compare queue, priority and automatic closing.
func Check(ctx context.Context, cfg *Config, tab *regime.Table, samples []SampleCase, log *slog.Logger) (*CheckReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "docket-sim-check-")
	if err != nil {
		return nil, fmt.Errorf("sim check: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, dir, log)
	if err != nil {
		return nil, fmt.Errorf("sim check: %w", err)
	}
	defer st.Close()
	var mu sync.Mutex
	now := cfg.Start
	svc := workflow.New(workflow.Config{Store: st, Regimes: tab, Logger: log, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	svc.Start(ctx)
	defer svc.Stop()
	authorities := map[int]*docket.Authority{}
	rep := &CheckReport{}
	fail := func(f string, args ...any) {
		if len(rep.First) < 10 {
			rep.First = append(rep.First, fmt.Sprintf(f, args...))
		}
	}
	for i, sc := range samples {
		cl := &cfg.Classes[sc.Class]
		mu.Lock()
		now = sc.Received
		mu.Unlock()
		rq, _ := cl.Request(sc.Flagged, sc.Received)
		if len(rq.Body.Targets) > 0 {
			// Distinct targets: every sample opens its own case, as the simulation's did.
			rq.Body.Targets = []docket.Target{{Kind: "message", Value: fmt.Sprintf("t.me/c/1/%d", i+1)}}
		}
		c, err := svc.Route(rq, rq.Body.Country, cl.Triage(sc.Flagged, sc.Spam))
		if err != nil {
			return nil, err
		}
		if c.Queue != sc.Queue || c.Priority != sc.Priority || c.Emergency != sc.Emergency || c.State.Pending() == sc.Closed {
			rep.RouteMismatch++
			fail("%s at %s: service routes to %s/%d emergency=%v closed=%v, simulation %s/%d %v %v", cl.Name, sc.Received.Format(time.RFC3339),
				c.Queue, c.Priority, c.Emergency, !c.State.Pending(), sc.Queue, sc.Priority, sc.Emergency, sc.Closed)
		}
		sub := &workflow.Submission{Channel: cl.Channel, Body: rq.Body, Raw: fmt.Appendf(nil, `{"sim":%d}`, i), ContentType: "application/json"}
		if rq.AuthorityID != "" {
			a := authorities[sc.Class]
			if a == nil {
				a = &docket.Authority{Name: cl.Name, Country: countryCode(rq.Body.Country)}
				if _, err := svc.RegisterAuthority(ctx, "sim", a); err != nil {
					return nil, fmt.Errorf("sim check: %w", err)
				}
				authorities[sc.Class] = a
			}
			sub.Authority = a
		}
		res, err := svc.Submit(ctx, sub)
		if err != nil {
			return nil, fmt.Errorf("sim check: submit %s: %w", cl.Name, err)
		}
		rep.Checked++
		var got time.Time
		if res.Receipt.Deadline != nil {
			got = res.Receipt.Deadline.Time
		}
		if !got.Equal(sc.Deadline) {
			rep.DeadlineMismatch++
			fail("%s received %s: receipt's deadline %s, simulation's %s", cl.Name, sc.Received.Format(time.RFC3339Nano), got, sc.Deadline)
		}
	}
	return rep, nil
}

func countryCode(c string) string {
	if len(c) == 2 {
		return c
	}
	return "ZZ"
}
