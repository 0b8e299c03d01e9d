package workflow_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/workflow"
)

// TestTriageOnReceipt: a request that leaves its regime to triage is sorted in its receipt's
// transaction; the regime found sets the deadline from the time of receipt; a person's
// correction is an event that moves the clock again. A request stored without a triage (triage
// off, or failed at receipt) is sorted by the job.
func TestTriageOnReceipt(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := storetest.Open(t, engine)
			tr, err := triage.New()
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			svc := workflow.New(workflow.Config{Store: store, Now: clock, Logger: log, Triager: tr})
			svc.Start(ctx)
			defer svc.Stop()
			runner := jobs.New(jobs.Config{Store: store, Now: clock, Logger: log})
			runner.Handle(workflow.JobTriage, svc.TriageJob)
			a := &docket.Authority{Name: "Gendarmerie", Country: "FR"}
			if _, err := svc.RegisterAuthority(ctx, "test", a); err != nil {
				t.Fatal(err)
			}
			agent := &docket.User{Email: "agent@x.org", Role: docket.RoleAgent}
			if _, err := svc.AddUser(ctx, "test", agent); err != nil {
				t.Fatal(err)
			}
			res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte(`{}`),
				Body: docket.RequestBody{Regime: "national-other", RegimeSource: "default", Kind: docket.KindDisclosure,
					Description: "Réquisition judiciaire (article 60-1 du code de procédure pénale) : identité du titulaire du compte @faux_papiers, numéro 06 12 34 56 78."}})
			if err != nil {
				t.Fatal(err)
			}
			if n := runner.RunDue(ctx); n != 0 {
				t.Fatalf("ran %d jobs: the triage was due at receipt", n)
			}
			c, _ := store.Case(ctx, res.Receipt.CaseID)
			if c.Triage == nil || c.Regime != "fr-requisition" || c.Triage.Language != "fr" {
				t.Fatalf("after triage: regime %s, triage %+v", c.Regime, c.Triage)
			}
			if want := c.ReceivedAt.Add(10 * 24 * time.Hour); !c.DeadlineAt.Equal(want) {
				t.Fatalf("deadline %v, want 10 days from receipt %v", c.DeadlineAt, want)
			}
			found := map[docket.Target]bool{}
			for _, tg := range c.Triage.Targets {
				found[tg] = true
			}
			if !found[docket.Target{Kind: "username", Value: "@faux_papiers"}] || !found[docket.Target{Kind: "phone", Value: "+33612345678"}] {
				t.Fatalf("targets %v", c.Triage.Targets)
			}
			if len(c.Triage.Signals) == 0 {
				t.Fatal("no signals")
			}
			// The job ran once; running again changes nothing.
			if err := svc.TriageRequest(ctx, res.Receipt.ID); err != nil {
				t.Fatal(err)
			}

			yes := true
			c2, ev, err := svc.Act(ctx, agent, c.ID, workflow.Action{Type: "retriage", Regime: "emergency", Emergency: &yes, Label: "abuse", Text: "The officer called: a life is at risk."})
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != docket.EventRetriaged {
				t.Fatalf("event %s", ev.Type)
			}
			if c2.Regime != "emergency" || !c2.Emergency || !c2.DeadlineAt.Equal(c.ReceivedAt.Add(time.Hour)) || c2.Triage.By != agent.ID || c2.Triage.Label != "abuse" {
				t.Fatalf("after retriage: regime %s emergency %v deadline %v triage %+v", c2.Regime, c2.Emergency, c2.DeadlineAt, c2.Triage)
			}
			if _, _, err := svc.Act(ctx, agent, c.ID, workflow.Action{Type: "retriage", Regime: "mars"}); docket.ErrorCode(err) != docket.EINVALID {
				t.Fatalf("retriage without reason or with an unknown regime: %v", err)
			}
			// Without a triager at receipt, the job sorts the request later.
			plain := workflow.New(workflow.Config{Store: store, Now: clock, Logger: log})
			plain.Start(ctx)
			late, err := plain.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte(`{"late":1}`),
				Body: docket.RequestBody{Regime: "national-other", RegimeSource: "default", Kind: docket.KindRemoval, Reference: "other",
					Description: "Removal order under Regulation (EU) 2021/784: remove https://t.me/terror_chan/5 within one hour."}})
			plain.Stop()
			if err != nil {
				t.Fatal(err)
			}
			if c, _ := store.Case(ctx, late.Receipt.CaseID); c.Triage != nil {
				t.Fatal("sorted without a triager")
			}
			if err := svc.TriageRequest(ctx, late.Receipt.ID); err != nil {
				t.Fatal(err)
			}
			if c, _ := store.Case(ctx, late.Receipt.CaseID); c.Triage == nil || c.Regime != "eu-tco-removal" || c.Queue != "terrorism" ||
				!c.DeadlineAt.Equal(c.ReceivedAt.Add(time.Hour)) {
				t.Fatalf("sorted by the job: %s %s %v %+v", c.Regime, c.Queue, c.DeadlineAt, c.Triage)
			}
			if _, err := audit.Verify(ctx, store, 0, ""); err != nil {
				t.Fatalf("audit: %v", err)
			}
		})
	}
}

// TestRulesRouteAndAct: the default rules put emergencies first, acknowledge notices and
// close public spam as not actionable, each step an event.
func TestRulesRouteAndAct(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := storetest.Open(t, "sqlite")
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := workflow.New(workflow.Config{Store: store, Logger: log, Triager: tr})
	svc.Start(ctx)
	defer svc.Stop()
	runner := jobs.New(jobs.Config{Store: store, Logger: log})
	runner.Handle(workflow.JobTriage, svc.TriageJob)
	notice := func(text string) string {
		res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(text),
			Body: docket.RequestBody{Regime: "dsa-art16", RegimeSource: "requester", Kind: docket.KindNotice, Description: text,
				Notifier: &docket.Notifier{Name: "A", Email: "a@b.c", GoodFaith: true}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Receipt.CaseID
	}
	spam := notice("Congratulations, you have won the lottery! Click here to claim your prize now. Unsubscribe.")
	threat := notice("Ce compte annonce une fusillade demain dans un lycée.")
	plain := notice("This post insults my neighbour.")
	for runner.RunDue(ctx) > 0 {
	}
	c, _ := store.Case(ctx, spam)
	if c.State != docket.StateAnswered || c.Decision == nil || c.Decision.Outcome != docket.OutcomeNotActionable || c.Decision.ReasonCode != "spam" {
		t.Fatalf("spam case: state %s decision %+v", c.State, c.Decision)
	}
	c, _ = store.Case(ctx, threat)
	if c.Queue != "emergency" || c.Priority != 100 || !c.Emergency || c.AcknowledgedAt.IsZero() {
		t.Fatalf("threat: queue %s priority %d emergency %v acknowledged %v rules %v", c.Queue, c.Priority, c.Emergency, c.AcknowledgedAt, c.Triage.Rules)
	}
	if want := c.ReceivedAt.Add(7 * 24 * time.Hour); !c.DeadlineAt.Equal(want) {
		// dsa-art16 has no emergency clock: the deadline stays, the queue and priority move.
		t.Fatalf("threat deadline %v, want %v", c.DeadlineAt, want)
	}
	c, _ = store.Case(ctx, plain)
	if c.State != docket.StateOpen || c.AcknowledgedAt.IsZero() || !slices.Contains(c.Triage.Rules, "acknowledge-notices") {
		t.Fatalf("plain notice: %s %v %v", c.State, c.AcknowledgedAt, c.Triage.Rules)
	}
	if _, err := audit.Verify(ctx, store, 0, ""); err != nil {
		t.Fatal(err)
	}
}

// TestNearDuplicateNoticesThread: a copy-paste campaign of notices (the same text with a few
// words changed) joins one case; a different text opens its own.
func TestNearDuplicateNoticesThread(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := storetest.Open(t, "sqlite")
	svc := workflow.New(workflow.Config{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	svc.Start(ctx)
	defer svc.Stop()
	notice := func(text, url string) string {
		res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(text + url),
			Body: docket.RequestBody{Regime: "dsa-art16", RegimeSource: "requester", Kind: docket.KindNotice, Description: text,
				Targets: []docket.Target{{Kind: "url", Value: url}}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Receipt.CaseID
	}
	base := "This channel publishes the home address and the phone number of a journalist and calls its readers to go and punish her for her articles about the elections"
	first := notice(base, "https://t.me/a/1")
	second := notice(strings.Replace(base, "journalist", "reporter", 1), "https://t.me/b/2")
	other := notice("This account sells counterfeit medicines without prescription and ships them all over Europe from a warehouse in the suburbs", "https://t.me/c/3")
	if second != first {
		t.Fatal("a near-duplicate notice opened a new case")
	}
	if other == first {
		t.Fatal("a different notice joined the case")
	}
	evs, _ := store.CaseEvents(ctx, first)
	found := false
	for _, e := range evs {
		found = found || (e.Type == docket.EventRequestReceived && strings.Contains(string(e.Data), "near-duplicate text"))
	}
	if !found {
		t.Fatal("no event says why the notice joined the case")
	}
}

// TestNoRegimeNoClock: a message sent to the legal address that is no legal request (spam, a
// scam, a support question) takes the regime "none" from the sort: no deadline, and never
// counted overdue, however long it waits.
func TestNoRegimeNoClock(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := storetest.Open(t, engine)
			tr, err := triage.New()
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			svc := workflow.New(workflow.Config{Store: store, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Triager: tr})
			svc.Start(ctx)
			defer svc.Stop()
			submit := func(text string) *docket.Case {
				res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelEmail, Raw: []byte(text),
					Body: docket.RequestBody{Regime: "national-other", RegimeSource: "default", Kind: docket.KindOther, Description: text,
						Email: &docket.Email{From: "sales@accounts-bulk.shop", Subject: "Offer"}}})
				if err != nil {
					t.Fatal(err)
				}
				c, err := store.Case(ctx, res.Receipt.CaseID)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			for _, text := range []string{
				"Verified accounts in bulk: 100 accounts for 90 USDT, wholesale price list, buy now: https://accounts-bulk.shop/order",
				"Hello, I forgot my password and cannot log in to my account since yesterday, how do I reset it?",
			} {
				c := submit(text)
				if c.Triage == nil || c.Regime != "none" || !c.DeadlineAt.IsZero() || !c.DueSoonAt.IsZero() {
					t.Fatalf("%q: regime %s deadline %v due soon %v triage %+v", text, c.Regime, c.DeadlineAt, c.DueSoonAt, c.Triage)
				}
			}
			// A legal request beside them keeps its clock, and is the only one overdue later.
			res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelEmail, Raw: []byte("legal"),
				Body: docket.RequestBody{Regime: "national-other", RegimeSource: "default", Kind: docket.KindDisclosure,
					Description: "Réquisition judiciaire (article 60-1 du code de procédure pénale) : identité du titulaire du compte @faux_papiers."}})
			if err != nil {
				t.Fatal(err)
			}
			legal, _ := store.Case(ctx, res.Receipt.CaseID)
			if legal.Regime != "fr-requisition" || legal.DeadlineAt.IsZero() {
				t.Fatalf("legal request: regime %s deadline %v", legal.Regime, legal.DeadlineAt)
			}
			st, err := store.Stats(ctx, now.Add(90*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if st.Overdue != 1 || st.OldestOverdueCase != legal.ID {
				t.Fatalf("90 days later: %d overdue (oldest %s), want only the legal request %s", st.Overdue, st.OldestOverdueCase, legal.ID)
			}
		})
	}
}

// TestCorrectionsAreLearnt: a person corrects a missed emergency; the next request like it
// is triaged as one at receipt, and so is one after a restart (the corrections are read
// back from the log).
func TestCorrectionsAreLearnt(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := storetest.Open(t, engine)
			now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			start := func() *workflow.Service {
				tr, err := triage.New()
				if err != nil {
					t.Fatal(err)
				}
				svc := workflow.New(workflow.Config{Store: store, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Triager: tr})
				if _, err := svc.LearnCorrections(ctx); err != nil {
					t.Fatal(err)
				}
				svc.Start(ctx)
				t.Cleanup(svc.Stop)
				return svc
			}
			svc := start()
			agent := &docket.User{Email: "agent@x.org", Role: docket.RoleAgent}
			if _, err := svc.AddUser(ctx, "test", agent); err != nil {
				t.Fatal(err)
			}
			// A letter that says nothing of a risk to life; the officer, on the phone,
			// says there is one.
			letter := func(name, ref string) string {
				return fmt.Sprintf("Polizeiinspektion Musterstadt, Sachgebiet 3, Az. %s. Wir bitten um Auskunft über die "+
					"letzten Anmeldungen und die hinterlegte Rufnummer des Kontos @%s, das in einem Ermittlungsverfahren "+
					"genannt ist. Bitte übermitteln Sie die Angaben an die Dienststelle; Rückfragen richten Sie bitte an "+
					"das Sachgebiet unter Angabe des Aktenzeichens.", ref, name)
			}
			submit := func(svc *workflow.Service, text string) *docket.Case {
				res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelEmail, Raw: []byte(text),
					Body: docket.RequestBody{Regime: "national-other", RegimeSource: "default", Kind: docket.KindDisclosure, Description: text,
						Email: &docket.Email{From: "pi.musterstadt@polizei.example.de", Subject: "Auskunftsersuchen"}}})
				if err != nil {
					t.Fatal(err)
				}
				c, err := store.Case(ctx, res.Receipt.CaseID)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			first := submit(svc, letter("wanderer_91", "VM-2026-0117"))
			if first.Emergency {
				t.Fatalf("test premise: the letter should not be read as an emergency: %q", first.Triage.Signals)
			}
			yes := true
			if _, _, err := svc.Act(ctx, agent, first.ID, workflow.Action{Type: "retriage", Emergency: &yes, Regime: "emergency", Text: "The officer called: the account holder is a missing person at risk."}); err != nil {
				t.Fatal(err)
			}
			learnt := func(c *docket.Case) bool {
				return c.Emergency && slices.ContainsFunc(c.Triage.Signals, func(s string) bool { return strings.Contains(s, "like case "+first.ID) })
			}
			if c := submit(svc, letter("nachtfalter_7", "VM-2026-0121")); !learnt(c) {
				t.Fatalf("the next letter like the corrected one: emergency %v, signals %q", c.Emergency, c.Triage.Signals)
			}
			if c := submit(start(), letter("sternschnuppe", "VM-2026-0133")); !learnt(c) {
				t.Fatalf("after a restart: emergency %v, signals %q", c.Emergency, c.Triage.Signals)
			}
		})
	}
}
