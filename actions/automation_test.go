package actions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"golang.org/x/image/draw"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/actions"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/hashbank"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/pdq"
	"github.com/docket-dev/docket/platform"
	"github.com/docket-dev/docket/refplatform"
	"github.com/docket-dev/docket/rules"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/workflow"
)

// smaller returns a picture of the PDQ test set shrunk to 60 % and re-encoded as a JPEG of
// quality 40: an edited copy, as copies of known media arrive.
func smaller(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("../pdq/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*6/10, b.Dy()*6/10))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 40}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestAutomatedRemovalAudited, on each engine, against the reference platform: a rule
// removes known media by itself (a decision by the rule, a removal whose statement of reasons
// says the detection and the decision were automated); every decision is sampled (the rule's
// sample is 1), so each waits in the review queue; a reviewer overturns one, and the message
// comes back on the platform with a corrected statement; automation cannot review, and an
// action is reviewed once; a second overturn brings the rule's upheld share under its
// minimum, so it is put in shadow mode by itself (rule_shadowed), acts no more, and is in
// shadow mode again when the log is read at the next start. The log verifies.
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
		h, err := (&pdq.Hasher{}).HashFile("../pdq/testdata/q1050.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddBankHashes(ctx, "cli", "csam", []docket.BankHash{{Kind: docket.HashPDQ, Hash: h.Hash.String(), Quality: 100}}, "test"); err != nil {
			t.Fatal(err)
		}
		reviewer := &docket.User{Email: "reviewer@x.org", Role: docket.RoleReviewer}
		if _, err := svc.AddUser(ctx, "test", reviewer); err != nil {
			t.Fatal(err)
		}
		picture := smaller(t, "q1050.jpg")
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
