package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/docket-dev/docket"
)

// measure reads back, for every request of the measured period, when its case was answered
// and how long its clock was paused, from the server's own events.
func (r *replayer) measure() error {
	res := newResult(r.cfg, Options{Policy: PolicyDocket}, r.tab.All())
	idx := map[string]int{}
	for i, rg := range r.tab.All() {
		idx[rg.ID] = i
	}
	type outcome struct {
		answered       time.Time // zero: not answered
		paused         time.Duration
		awaiting, open bool
	}
	seen := map[string]outcome{}
	for _, q := range r.reqs {
		if q.received.Before(r.start) || !q.received.Before(r.end) {
			continue
		}
		o, ok := seen[q.caseID]
		if !ok {
			cv, events, err := r.srv.History(r.ctx, q.caseID)
			r.rep.Calls++
			if err != nil {
				return fmt.Errorf("sim replay: %w", err)
			}
			o = caseOutcome(cv, events)
			seen[q.caseID] = o
		}
		cl := &r.cfg.Classes[q.class]
		ri, ok := idx[cl.Regime]
		if !ok {
			continue
		}
		res.count(cl, uint8(ri), "", "")
		st := &res.regimes[ri]
		switch {
		case !o.answered.IsZero():
			st.Answered++
			st.hist.add(o.answered.Sub(q.received).Seconds() - o.paused.Seconds())
			if !q.deadline.IsZero() && o.answered.After(q.deadline.Add(o.paused)) {
				st.Overdue++
				st.LateAnswered++
			}
		case o.awaiting:
			st.AwaitingRequester++
		default:
			st.Open++
			if !q.deadline.IsZero() && r.stop.After(q.deadline.Add(o.paused)) {
				st.Overdue++
			}
		}
	}
	res.doneRegimes()
	r.rep.Result = res
	return nil
}

// caseOutcome reads a case's answer and pauses from its events: a question whose answer
// stops the clock pauses it until the requester's reply.
func caseOutcome(cv *CaseView, events []docket.Event) (o struct {
	answered       time.Time
	paused         time.Duration
	awaiting, open bool
}) {
	var pausedAt time.Time
	var last time.Time
	for _, e := range events {
		switch e.Type {
		case docket.EventAnswered:
			var d docket.Answered
			if json.Unmarshal(e.Data, &d) == nil && d.PausesClock {
				pausedAt = e.At
			}
			last = e.At
		case docket.EventRequesterReplied:
			if !pausedAt.IsZero() {
				o.paused += e.At.Sub(pausedAt)
				pausedAt = time.Time{}
			}
		}
	}
	switch cv.State {
	case docket.StateAnswered:
		o.answered = last
	case docket.StateAwaitingRequester:
		o.awaiting = true
	default:
		o.open = true
	}
	return o
}

// Tolerance is how far a replay may be from the simulation and still agree: a percentile
// within Relative of the simulation's or within one median handling time of the regime's
// kind (whichever is larger); an overdue count within Relative or Count requests.
type Tolerance struct {
	Relative float64
	Count    int64
}

// DefaultTolerance: 10 %, or one handling time, or 2 requests.
var DefaultTolerance = Tolerance{Relative: 0.10, Count: 2}

// Diff compares one regime of two runs.
type Diff struct {
	Regime                  string
	Received                [2]int64 // simulation, replay
	P50, P95                [2]float64
	Overdue                 [2]int64
	Slack                   float64 // seconds: the absolute tolerance of the percentiles
	P50OK, P95OK, OverdueOK bool
}

// OK reports whether the regime agrees.
func (d Diff) OK() bool { return d.P50OK && d.P95OK && d.OverdueOK }

// Compare compares a replay with the simulation of the same config and seed, regime by
// regime (those that received requests in either).
func Compare(cfg *Config, sim, replay *Result, tol Tolerance) []Diff {
	rep := map[string]RegimeStats{}
	for _, st := range replay.Regimes {
		rep[st.Regime] = st
	}
	handling := map[string]float64{}
	for _, cl := range cfg.Classes {
		if _, ok := handling[cl.Regime]; !ok {
			handling[cl.Regime] = time.Duration(cfg.Handling[cl.Kind].Median).Seconds()
		}
	}
	var out []Diff
	for _, a := range sim.Regimes {
		b := rep[a.Regime]
		d := Diff{Regime: a.Regime, Received: [2]int64{a.Received, b.Received}, P50: [2]float64{a.P50, b.P50}, P95: [2]float64{a.P95, b.P95},
			Overdue: [2]int64{a.Overdue, b.Overdue}, Slack: handling[a.Regime]}
		within := func(x, y float64) bool { return math.Abs(x-y) <= max(tol.Relative*x, d.Slack) }
		d.P50OK, d.P95OK = within(a.P50, b.P50), within(a.P95, b.P95)
		d.OverdueOK = math.Abs(float64(a.Overdue-b.Overdue)) <= max(tol.Relative*float64(a.Overdue), float64(tol.Count))
		out = append(out, d)
	}
	return out
}

// WriteDiffs writes the comparison as a table.
func WriteDiffs(w io.Writer, diffs []Diff, tol Tolerance) (ok bool) {
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "regime\treceived sim\treplay\tp50 sim\treplay\tp95 sim\treplay\toverdue sim\treplay\ttolerance\tagree\t")
	ok = true
	for _, d := range diffs {
		verdict := "yes"
		if !d.OK() {
			verdict, ok = "NO", false
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t±max(%.0f%%, %s)\t%s\t\n", d.Regime, d.Received[0], d.Received[1],
			human(d.P50[0]), human(d.P50[1]), human(d.P95[0]), human(d.P95[1]), d.Overdue[0], d.Overdue[1],
			100*tol.Relative, human(d.Slack), verdict)
	}
	tw.Flush()
	return ok
}
