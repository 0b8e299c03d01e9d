package workflow

import (
	"testing"
	"time"

	"github.com/docket-dev/docket"
)

// TestMayRelease: the one check of every effect refuses each way an approval can fail to
// cover what leaves, and allows exactly what it covers.
func TestMayRelease(t *testing.T) {
	a, b := docket.Target{Kind: "username", Value: "@a"}, docket.Target{Kind: "username", Value: "@b"}
	reqs := []*docket.Request{{ID: "r2"}, {ID: "r1"}}
	// base returns a disclosure case whose decision by "agent" was approved by "reviewer"
	// for the subscriber data of @a.
	base := func() *docket.Case {
		d := &docket.Decision{Outcome: docket.OutcomeComply, Statement: "Yes.", DecidedBy: "agent",
			DecidedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), NeedsApproval: true, ApprovedBy: "reviewer", ApprovalSeq: 7}
		d.Coverage = &docket.Coverage{Requests: []string{"r1", "r2"}, Targets: []docket.Target{a},
			Categories: []string{"subscriber"}, Regime: "fr-requisition", Kind: docket.KindDisclosure, Decision: docket.DecisionSHA256(d)}
		return &docket.Case{ID: "c", State: docket.StateDecided, Regime: "fr-requisition", Kind: docket.KindDisclosure, Discloses: true, Decision: d}
	}
	subscriberOfA := Effect{Kind: EffectDisclose, Target: &a, Categories: []string{"subscriber"}}
	for _, tc := range []struct {
		name   string
		change func(c *docket.Case)
		reqs   []*docket.Request
		eff    Effect
		code   string // "" when allowed
	}{
		{"covered", nil, reqs, subscriberOfA, ""},
		{"covered answer", nil, reqs, Effect{Kind: EffectAnswer}, ""},
		{"no decision", func(c *docket.Case) { c.Decision = nil }, reqs, subscriberOfA, docket.EFOUREYES},
		{"a refusal", func(c *docket.Case) { c.Decision.Outcome = docket.OutcomeRefuse }, reqs, subscriberOfA, docket.EFOUREYES},
		{"no approval", func(c *docket.Case) { c.Decision.ApprovedBy = "" }, reqs, subscriberOfA, docket.EFOUREYES},
		{"approved by the decider", func(c *docket.Case) { c.Decision.ApprovedBy = "agent" }, reqs, subscriberOfA, docket.EFOUREYES},
		{"an approval without coverage", func(c *docket.Case) { c.Decision.Coverage = nil }, reqs, subscriberOfA, docket.EFOUREYES},
		{"a request joined", nil, append(reqs, &docket.Request{ID: "r3"}), subscriberOfA, docket.EFOUREYES},
		{"a request left", nil, reqs[:1], subscriberOfA, docket.EFOUREYES},
		{"another regime", func(c *docket.Case) { c.Regime = "eu-epoc" }, reqs, subscriberOfA, docket.EFOUREYES},
		{"another kind", func(c *docket.Case) { c.Kind = docket.KindEmergencyDisclosure }, reqs, subscriberOfA, docket.EFOUREYES},
		{"another decision text", func(c *docket.Case) { c.Decision.Statement = "Yes, all of it." }, reqs, subscriberOfA, docket.EFOUREYES},
		{"another account", nil, reqs, Effect{Kind: EffectDisclose, Target: &b, Categories: []string{"subscriber"}}, docket.EFOUREYES},
		{"another category", nil, reqs, Effect{Kind: EffectPackage, Target: &a, Categories: []string{"subscriber", "traffic"}}, docket.EFOUREYES},
		{"unverified sender", func(c *docket.Case) { c.Sender = docket.SenderUnverified }, reqs, subscriberOfA, docket.ESTATE},
		{"unverified sender, verified", func(c *docket.Case) {
			c.Sender, c.SenderVerified = docket.SenderUnverified, &docket.SenderVerified{Method: "callback"}
		}, reqs, subscriberOfA, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			if tc.change != nil {
				tc.change(c)
			}
			err := mayRelease(c, tc.reqs, tc.eff)
			if tc.code == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.code != "" && docket.ErrorCode(err) != tc.code {
				t.Fatalf("got %v, want a %s refusal", err, tc.code)
			}
		})
	}
}

// TestScopeChange: the events and corrections that change what an approval covers.
func TestScopeChange(t *testing.T) {
	c := &docket.Case{Regime: "fr-requisition", Kind: docket.KindDisclosure, Discloses: true,
		Triage: &docket.CaseTriage{Targets: []docket.Target{{Kind: "username", Value: "@a"}}}}
	for _, tc := range []struct {
		name   string
		typ    docket.EventType
		change func(c *docket.Case)
		voids  bool
	}{
		{"a comment", docket.EventCommented, nil, false},
		{"a request joins", docket.EventRequestReceived, nil, true},
		{"a merge", docket.EventMerged, nil, true},
		{"a split", docket.EventSplit, nil, true},
		{"the queue changes", docket.EventRetriaged, func(c *docket.Case) { c.Queue = "other" }, false},
		{"the emergency flag changes", docket.EventRetriaged, func(c *docket.Case) { c.Emergency = true }, false},
		{"the regime changes", docket.EventRetriaged, func(c *docket.Case) { c.Regime = "eu-epoc" }, true},
		{"the kind changes", docket.EventRetriaged, func(c *docket.Case) { c.Kind = docket.KindOther }, true},
		{"whether the case discloses changes", docket.EventRetriaged, func(c *docket.Case) { c.Discloses = false }, true},
		{"a target is added", docket.EventTriaged, func(c *docket.Case) {
			c.Triage = &docket.CaseTriage{Targets: append(c.Triage.Targets, docket.Target{Kind: "username", Value: "@b"})}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := *c
			if tc.change != nil {
				tc.change(&after)
			}
			if got := scopeChange(scopeOf(c), &after, &docket.Event{Type: tc.typ}); (got != "") != tc.voids {
				t.Fatalf("scopeChange = %q, want a change: %v", got, tc.voids)
			}
		})
	}
}
