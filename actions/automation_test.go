package actions_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/actions"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/hashbank"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/pdq/pdqtest"
	"github.com/docket-dev/docket/platform"
	"github.com/docket-dev/docket/refplatform"
	"github.com/docket-dev/docket/rules"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/workflow"
)

// TestAutomatedRemovalAudited, on each engine, against the reference platform: a rule
// removes known media by itself (a decision by the rule, a removal whose statement of reasons
// says the detection and the decision were automated); every decision is sampled (the rule's
// sample is 1), so each waits in the review queue; a reviewer overturns one, and the message
// comes back on the platform with a corrected statement; automation cannot review, and an
// action is reviewed once; a second overturn brings the rule's upheld share under its
// minimum, so it is put in shadow mode by itself (rule_shadowed), acts no more, and is in
// shadow mode again when the log is read at the next start. The log verifies.
// automationFixture is a service with the rules given, the reference platform behind the
// connector, a hash bank "csam" holding Meta's q1050.jpg, and a reviewer.
type automationFixture struct {
	t        *testing.T
	store    docket.Store
	svc      *workflow.Service
	routing  *rules.Set
	srv      *httptest.Server
	runner   *jobs.Runner
	reviewer *docket.User
	picture  []byte
}

func setupAutomation(t *testing.T, store docket.Store, ruleJSON string) *automationFixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	routing, err := rules.Parse([]byte(ruleJSON))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &automationFixture{t: t, store: store, routing: routing, picture: pdqtest.Resized(t, "q1050.jpg")}
	f.svc = workflow.New(workflow.Config{Store: store, Logger: log, Triager: tr, Rules: routing, Media: hashbank.New(hashbank.Config{Store: store})})
	f.svc.Start(ctx)
	t.Cleanup(f.svc.Stop)
	db, err := refplatform.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Seed(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	secret := []byte("automation-test-secret")
	f.srv = httptest.NewServer((&refplatform.Server{DB: db, Verifier: &platform.Verifier{Secret: secret}, Log: log}).Handler())
	t.Cleanup(f.srv.Close)
	carrier := &actions.Carrier{Service: f.svc, Store: store, Platform: &platform.Client{BaseURL: f.srv.URL, Secret: secret}, Logger: log}
	f.runner = jobs.New(jobs.Config{Store: store, Logger: log})
	f.runner.Handle(workflow.JobMediaMatch, f.svc.MatchMediaJob)
	carrier.Register(f.runner)
	if _, err := f.svc.CreateBank(ctx, "cli", workflow.BankSpec{Name: "csam", Source: "a hotline", Category: "csam"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddBankHashes(ctx, "cli", "csam", []docket.BankHash{{Kind: docket.HashPDQ, Hash: pdqtest.Hash(t, "q1050.jpg"), Quality: 100}}, "test"); err != nil {
		t.Fatal(err)
	}
	f.reviewer = &docket.User{Email: "reviewer@x.org", Role: docket.RoleReviewer}
	if _, err := f.svc.AddUser(ctx, "test", f.reviewer); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *automationFixture) drain() {
	for range 10 {
		if f.runner.RunDue(context.Background()) == 0 {
			return
		}
	}
}

// submit files sub with the banked picture attached and runs the jobs.
func (f *automationFixture) submit(sub *workflow.Submission) string {
	f.t.Helper()
	sum := workflow.SHA256(f.picture)
	sub.Body.Attachments = []docket.Attachment{{SHA256: sum, Filename: "shot.jpg", ContentType: "image/jpeg", Size: int64(len(f.picture))}}
	sub.Blobs = []docket.Blob{{SHA256: sum, Data: f.picture}}
	res, err := f.svc.Submit(context.Background(), sub)
	if err != nil {
		f.t.Fatal(err)
	}
	f.drain()
	return res.Receipt.CaseID
}

// automatedActions returns the actions rules took on a case.
func (f *automationFixture) automatedActions(caseID string) []docket.CaseAction {
	f.t.Helper()
	c, err := f.store.Case(context.Background(), caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []docket.CaseAction
	for _, a := range c.Actions {
		if a.Rule != "" {
			out = append(out, a)
		}
	}
	return out
}

// TestAutomationLimits, on each engine: two automated rules true of one match take one
// decision and one action; an authority's request carrying the banked picture is never
// decided by a rule; an action is reverted once, whatever asks for it twice; docket's own
// ground (notifier_suspended) is refused to a person.
func TestAutomationLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store docket.Store) {
		ctx := context.Background()
		f := setupAutomation(t, store, `{"rules":[
			{"name":"rm","when":"match.bank == \"csam\"","action":"remove","ground":"DECISION_GROUND_ILLEGAL_CONTENT","legal_ground":"law","explanation":"known media","sample":1},
			{"name":"susp","when":"match.bank == \"csam\"","action":"suspend","ground":"DECISION_GROUND_ILLEGAL_CONTENT","legal_ground":"law","explanation":"known media","sample":1}]}`)
		text := "Abuse material here: " + f.srv.URL + "/m/1 posted by @nightwolf"
		id := f.submit(&workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(text),
			Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: text, Notifier: &docket.Notifier{GoodFaith: true}}})
		acts := f.automatedActions(id)
		if len(acts) != 1 || acts[0].Rule != "rm" || acts[0].Status != docket.ActionDoneStatus {
			t.Fatalf("automated actions %+v, want the first rule's one", acts)
		}
		types := map[docket.EventType]int{}
		events, _ := store.CaseEvents(ctx, id)
		for _, e := range events {
			types[e.Type]++
		}
		if types[docket.EventDecided] != 1 {
			t.Fatalf("%d decisions", types[docket.EventDecided])
		}

		a := &docket.Authority{Name: "Police", Country: "FR"}
		if _, err := f.svc.RegisterAuthority(ctx, "test", a); err != nil {
			t.Fatal(err)
		}
		police := f.submit(&workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte("req"),
			Body: docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PV-1",
				Targets: []docket.Target{{Kind: "url", Value: f.srv.URL + "/m/2"}}}})
		if acts := f.automatedActions(police); len(acts) != 0 {
			t.Fatalf("a rule acted on an authority's request: %+v", acts)
		}
		if c, _ := store.Case(ctx, police); c.State != docket.StateOpen || c.Decision != nil {
			t.Fatalf("authority's request %s, decision %+v", c.State, c.Decision)
		}

		// Overturned on review: one restore; a second overturn or an upheld appeal asks for
		// no second one.
		no := false
		if _, _, err := f.svc.Act(ctx, f.reviewer, id, workflow.Action{Type: workflow.ActReviewAutomation, Automated: acts[0].Seq, Upheld: &no, Text: "not the banked picture"}); err != nil {
			t.Fatal(err)
		}
		c, _ := store.Case(ctx, id)
		reverts := 0
		for _, x := range c.Actions {
			if x.Reverts == acts[0].Seq {
				reverts++
			}
		}
		if reverts != 1 || c.Reverting(acts[0].Seq) == nil {
			t.Fatalf("%d reverts", reverts)
		}

		agent := &docket.User{Email: "agent@x.org", Role: docket.RoleAgent}
		if _, err := f.svc.AddUser(ctx, "test", agent); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Act(ctx, agent, police, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeNotActionable, ReasonCode: "notifier_suspended"}); docket.ErrorCode(err) != docket.EINVALID {
			t.Errorf("a person giving docket's own ground: %v, want invalid", err)
		}
		if _, err := audit.Verify(ctx, store, 0, ""); err != nil {
			t.Fatalf("audit verify: %v", err)
		}
	})
}

func TestAutomatedRemovalAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store docket.Store) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		const ruleJSON = `{"rules":[{"name":"known-csam","when":"match.bank == \"csam\" && match.distance <= 31","action":"remove",
			"ground":"DECISION_GROUND_ILLEGAL_CONTENT","legal_ground":"Criminal code, child sexual abuse material","explanation":"A copy of known child sexual abuse material.",
			"sample":1,"min_precision":0.9,"min_reviews":2}]}`
		routing, err := rules.Parse([]byte(ruleJSON))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := triage.New()
		if err != nil {
			t.Fatal(err)
		}
		svc := workflow.New(workflow.Config{Store: store, Logger: log, Triager: tr, Rules: routing, Media: hashbank.New(hashbank.Config{Store: store})})
		svc.Start(ctx)
		defer svc.Stop()
		db, err := refplatform.Open(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Seed(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		secret := []byte("automation-test-secret")
		srv := httptest.NewServer((&refplatform.Server{DB: db, Verifier: &platform.Verifier{Secret: secret}, Log: log}).Handler())
		defer srv.Close()
		carrier := &actions.Carrier{Service: svc, Store: store, Platform: &platform.Client{BaseURL: srv.URL, Secret: secret}, Logger: log}
		runner := jobs.New(jobs.Config{Store: store, Logger: log})
		runner.Handle(workflow.JobMediaMatch, svc.MatchMediaJob)
		carrier.Register(runner)
		drain := func() {
			for range 10 {
				if runner.RunDue(ctx) == 0 {
					return
				}
			}
		}
		if _, err := svc.CreateBank(ctx, "cli", workflow.BankSpec{Name: "csam", Source: "a hotline", Category: "csam"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddBankHashes(ctx, "cli", "csam", []docket.BankHash{{Kind: docket.HashPDQ, Hash: pdqtest.Hash(t, "q1050.jpg"), Quality: 100}}, "test"); err != nil {
			t.Fatal(err)
		}
		reviewer := &docket.User{Email: "reviewer@x.org", Role: docket.RoleReviewer}
		if _, err := svc.AddUser(ctx, "test", reviewer); err != nil {
			t.Fatal(err)
		}
		picture := pdqtest.Resized(t, "q1050.jpg")
		report := func(msg string) string {
			t.Helper()
			text := map[string]string{
				"1": "This post shares abuse material of a child: ",
				"2": "Someone in the football group forwarded a horrible picture, please look at ",
				"3": "Found this while scrolling the cooking channel, it must not stay online: ",
			}[msg] + srv.URL + "/m/" + msg
			sum := workflow.SHA256(picture)
			res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(text),
				Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: text,
					Attachments: []docket.Attachment{{SHA256: sum, Filename: "shot.jpg", ContentType: "image/jpeg", Size: int64(len(picture))}},
					Notifier:    &docket.Notifier{GoodFaith: true}},
				Blobs: []docket.Blob{{SHA256: sum, Data: picture}}})
			if err != nil {
				t.Fatal(err)
			}
			drain()
			return res.Receipt.CaseID
		}
		automated := func(caseID string) *docket.CaseAction {
			t.Helper()
			c, err := store.Case(ctx, caseID)
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.Actions {
				if c.Actions[i].Rule != "" {
					return &c.Actions[i]
				}
			}
			return nil
		}
		status := func(msg string) int {
			t.Helper()
			resp, err := http.Get(srv.URL + "/m/" + msg)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}

		first := report("1")
		a := automated(first)
		c, _ := store.Case(ctx, first)
		if a == nil || a.Op != docket.OpRemove || a.Status != docket.ActionDoneStatus || a.Review != docket.ReviewPending ||
			!a.Statement.AutomatedDetection || a.Statement.AutomatedDecision != "AUTOMATED_DECISION_FULLY" {
			t.Fatalf("automated action %+v", a)
		}
		if c.State != docket.StateDecided || c.Decision.DecidedBy != "rules" || c.Queue != docket.QueueAutomationReview {
			t.Fatalf("case %s, decided by %q, queue %s", c.State, c.Decision.DecidedBy, c.Queue)
		}
		if got := status("1"); got != http.StatusGone {
			t.Fatalf("message 1 after the automated removal: %d", got)
		}
		upheld, overturned := true, false
		// Automation cannot review itself: the event is refused when applied, in the
		// transaction that would record it and in every replay.
		data, _ := json.Marshal(docket.AutomationReviewed{Action: a.Seq, Rule: "known-csam", Upheld: true, Reasons: "self-check"})
		if err := c.Apply(&docket.Event{Seq: 999999, CaseID: c.ID, Type: docket.EventAutomationReviewed, Actor: "system:rules", At: time.Now(), Data: data}); err == nil {
			t.Fatal("a review by automation was applied")
		}
		c, _ = store.Case(ctx, first)
		if _, _, err := svc.Act(ctx, reviewer, first, workflow.Action{Type: workflow.ActReviewAutomation, Automated: a.Seq, Upheld: &overturned, Text: "A holiday photo, not the banked picture."}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Act(ctx, reviewer, first, workflow.Action{Type: workflow.ActReviewAutomation, Automated: a.Seq, Upheld: &upheld, Text: "again"}); docket.ErrorCode(err) != docket.ESTATE {
			t.Errorf("second review: %v, want invalid_state", err)
		}
		drain()
		if got := status("1"); got != http.StatusOK {
			t.Fatalf("message 1 after the overturn: %d", got)
		}
		c, _ = store.Case(ctx, first)
		var revert *docket.CaseAction
		for i := range c.Actions {
			if c.Actions[i].Reverts == a.Seq {
				revert = &c.Actions[i]
			}
		}
		if revert == nil || revert.Op != docket.OpRestore || revert.Status != docket.ActionDoneStatus || revert.Overturn == 0 ||
			revert.Statement == nil || revert.Statement.PUID == a.Statement.PUID || c.Action(a.Seq).Review != docket.ReviewOverturned {
			t.Fatalf("revert %+v, original %+v", revert, c.Action(a.Seq))
		}
		if routing.Rule("known-csam").InShadow() {
			t.Fatal("shadowed after one review: min_reviews is 2")
		}

		second := report("2")
		b := automated(second)
		if b == nil || b.Status != docket.ActionDoneStatus {
			t.Fatalf("second automated action %+v", b)
		}
		if _, _, err := svc.Act(ctx, reviewer, second, workflow.Action{Type: workflow.ActReviewAutomation, Automated: b.Seq, Upheld: &overturned, Text: "Not the banked picture either."}); err != nil {
			t.Fatal(err)
		}
		if !routing.Rule("known-csam").InShadow() {
			t.Fatal("two overturns of two: the rule should be in shadow mode")
		}
		drain()
		third := report("3")
		if x := automated(third); x != nil {
			t.Fatalf("a shadowed rule acted: %+v", x)
		}
		if got := status("3"); got != http.StatusOK {
			t.Fatalf("message 3: %d, want untouched", got)
		}

		// At the next start the log puts the unchanged rule back in shadow mode.
		again, err := rules.Parse([]byte(ruleJSON))
		if err != nil {
			t.Fatal(err)
		}
		next := workflow.New(workflow.Config{Store: store, Logger: log, Rules: again})
		if err := next.LoadAutomationReviews(ctx); err != nil {
			t.Fatal(err)
		}
		if !again.Rule("known-csam").InShadow() {
			t.Fatal("the shadowed rule acts again after a restart")
		}
		if _, err := audit.Verify(ctx, store, 0, ""); err != nil {
			t.Fatalf("audit verify: %v", err)
		}
	})
}

// TestAutomatedRemovalAnsweredOnceDone: a decision the rule does not sample is answered
// once the platform has confirmed the removal, never before, and the answer says what was
// done.
func TestAutomatedRemovalAnsweredOnceDone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store docket.Store) {
		ctx := context.Background()
		f := setupAutomation(t, store, `{"rules":[{"name":"rm","when":"match.bank == \"csam\"","action":"remove","ground":"DECISION_GROUND_ILLEGAL_CONTENT","legal_ground":"law","explanation":"known media"}]}`)
		text := "Please remove " + f.srv.URL + "/m/4"
		sum := workflow.SHA256(f.picture)
		res, err := f.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(text),
			Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: text, Notifier: &docket.Notifier{GoodFaith: true},
				Attachments: []docket.Attachment{{SHA256: sum, Filename: "p.jpg", ContentType: "image/jpeg", Size: int64(len(f.picture))}}},
			Blobs: []docket.Blob{{SHA256: sum, Data: f.picture}}})
		if err != nil {
			t.Fatal(err)
		}
		id := res.Receipt.CaseID
		if err := f.svc.MatchMedia(ctx, res.Receipt.ID); err != nil {
			t.Fatal(err)
		}
		c, _ := store.Case(ctx, id)
		if c.State != docket.StateDecided || c.PendingActions() != 1 {
			t.Fatalf("after the match, before the platform: %s with %d pending actions", c.State, c.PendingActions())
		}
		f.drain()
		c, _ = store.Case(ctx, id)
		if c.State != docket.StateAnswered || c.Answer == nil || len(f.automatedActions(id)) != 1 || f.automatedActions(id)[0].Status != docket.ActionDoneStatus {
			t.Fatalf("after the platform: %s, answer %+v", c.State, c.Answer)
		}
	})
}
