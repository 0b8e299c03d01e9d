package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/regime"
)

// TestRequestFor: every class of the default config maps onto a request the API accepts
// (the intake's own parsers, the regime table's required fields), with its regime, kind,
// emergency flag and content; a request about an open case's matter names that case's
// account; two notices are never near-duplicates of each other.
func TestRequestFor(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	tab := regime.DefaultTable()
	for ci := range cfg.Classes {
		cl := &cfg.Classes[ci]
		a := Arrival{Class: ci, Flagged: true, Spam: cl.Spam >= 1, Target: 42, Country: "FR"}
		if !Submittable(cl) {
			if cl.Channel != docket.ChannelEmail {
				t.Errorf("%s: not submittable", cl.Name)
			}
			continue
		}
		sub := RequestFor(cl, a, "SIM-7", 7)
		if sub.Class != ci {
			t.Errorf("%s: class %d", cl.Name, sub.Class)
		}
		if cl.Channel == docket.ChannelNotice {
			p, err := intake.ParseNotice(sub.Body, tab)
			if err != nil || sub.Path != "/api/v1/notices" || sub.Authority {
				t.Fatalf("%s: %s %v: %v", cl.Name, sub.Path, sub.Authority, err)
			}
			want := "https://t.me/c/1/42"
			if a.Spam {
				want = "https://spam.example/7"
			}
			if len(p.Body.Targets) != 1 || p.Body.Targets[0].Value != want || p.Body.Country != "FR" {
				t.Errorf("%s: targets %v country %q", cl.Name, p.Body.Targets, p.Body.Country)
			}
			continue
		}
		p, err := intake.ParseRequest(sub.Body, tab)
		if err != nil || sub.Path != "/api/v1/requests" || !sub.Authority {
			t.Fatalf("%s: %s %v: %v\n%s", cl.Name, sub.Path, sub.Authority, err, sub.Body)
		}
		b := p.Body
		if b.Regime != cl.Regime || b.Kind != cl.Kind || !b.Emergency || b.Reference != "SIM-7" || len(b.Targets) != 1 || b.Targets[0].Value != "@sim7" {
			t.Errorf("%s: %+v", cl.Name, b)
		}
		a.Flagged = false
		if p, _ := intake.ParseRequest(RequestFor(cl, a, "SIM-7", 8).Body, tab); p.Body.Emergency != (cl.Kind == docket.KindEmergencyDisclosure) {
			t.Errorf("%s: unflagged request is an emergency", cl.Name)
		}
	}
	notice := &cfg.Classes[cfg.class("notice")]
	var x, y struct{ Explanation string }
	json.Unmarshal(RequestFor(notice, Arrival{Target: 1}, "", 1).Body, &x)
	json.Unmarshal(RequestFor(notice, Arrival{Target: 2}, "", 2).Body, &y)
	if x.Explanation == y.Explanation || !strings.Contains(x.Explanation, "Item 1.") {
		t.Errorf("notices' texts: %q and %q", x.Explanation, y.Explanation)
	}
}

// TestCaseOutcome: the answer is the last answered event; a question that stops the clock
// pauses it until the reply.
func TestCaseOutcome(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ev := func(typ docket.EventType, h int, data any) docket.Event {
		b, _ := json.Marshal(data)
		return docket.Event{Type: typ, At: at.Add(time.Duration(h) * time.Hour), Data: b}
	}
	events := []docket.Event{
		ev(docket.EventCaseOpened, 0, nil),
		ev(docket.EventAnswered, 1, docket.Answered{PausesClock: true}),
		ev(docket.EventRequesterReplied, 4, nil),
		ev(docket.EventAnswered, 6, docket.Answered{}),
	}
	o := caseOutcome(&CaseView{State: docket.StateAnswered}, events)
	if !o.answered.Equal(at.Add(6*time.Hour)) || o.paused != 3*time.Hour {
		t.Errorf("answered %s paused %s", o.answered, o.paused)
	}
	o = caseOutcome(&CaseView{State: docket.StateAwaitingRequester}, events[:2])
	if !o.answered.IsZero() || !o.awaiting {
		t.Errorf("awaiting: %+v", o)
	}
}

// TestCompare: percentiles agree within 10 % or one handling time of the regime's kind;
// overdue counts within 10 % or two requests.
func TestCompare(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	sim := &Result{Regimes: []RegimeStats{
		{Regime: "eu-tco-removal", P50: 600, P95: 1800, Overdue: 1},
		{Regime: "fr-requisition", P50: 36000, P95: 72000, Overdue: 0},
		{Regime: "us-2703f", P50: 300, P95: 900, Overdue: 40},
	}}
	replay := &Result{Regimes: []RegimeStats{
		{Regime: "eu-tco-removal", P50: 900, P95: 1900, Overdue: 3}, // within 6 m (removal's handling) and 2 requests
		{Regime: "fr-requisition", P50: 39000, P95: 90000, Overdue: 0},
		{Regime: "us-2703f", P50: 300, P95: 900, Overdue: 45},
	}}
	got := map[string]Diff{}
	for _, d := range Compare(cfg, sim, replay, DefaultTolerance) {
		got[d.Regime] = d
	}
	if d := got["eu-tco-removal"]; !d.OK() || d.Slack != 360 {
		t.Errorf("tco: %+v", d)
	}
	if d := got["fr-requisition"]; !d.P50OK || d.P95OK || d.OK() {
		t.Errorf("requisition: %+v", d)
	}
	if d := got["us-2703f"]; d.OverdueOK {
		t.Errorf("2703f: %+v", d)
	}
	var b strings.Builder
	if WriteDiffs(&b, Compare(cfg, sim, replay, DefaultTolerance), DefaultTolerance) || !strings.Contains(b.String(), "NO") {
		t.Errorf("table:\n%s", b.String())
	}
}
