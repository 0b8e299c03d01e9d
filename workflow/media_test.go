package workflow_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/hashbank"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/pdq/pdqtest"
	"github.com/docket-dev/docket/rules"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/workflow"
)

// notice submits a public notice with one attached file.
func notice(t *testing.T, svc *workflow.Service, text, filename string, data []byte) *workflow.Result {
	t.Helper()
	sum := workflow.SHA256(data)
	res, err := svc.Submit(context.Background(), &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(text),
		Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: text,
			Targets:     []docket.Target{{Kind: "url", Value: "https://platform.example/m/" + workflow.SHA256([]byte(text))[:8]}},
			Attachments: []docket.Attachment{{SHA256: sum, Filename: filename, ContentType: "image/jpeg", Size: int64(len(data))}},
			Notifier:    &docket.Notifier{GoodFaith: true}},
		Blobs: []docket.Blob{{SHA256: sum, Data: data}}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func eventTypesOf(t *testing.T, s docket.Store, caseID string) []docket.EventType {
	t.Helper()
	events, err := s.CaseEvents(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	var out []docket.EventType
	for _, e := range events {
		out = append(out, e.Type)
	}
	return out
}

// TestMediaMatchedAtIntake, on each engine: a notice with a resized copy of a picture of a
// bank queues the hash check in its receipt's transaction (the receipt does not wait for
// it); the job records the hashes and the match on the case, and a CEL rule over the match
// routes the case to its queue; the match is a triage signal. A picture of no bank, and a
// picture of a disabled bank, match nothing. Running the job again records nothing more; a
// request that joins a case is checked too, on that case; the store verifies throughout.
func TestMediaMatchedAtIntake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s docket.Store) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		tr, err := triage.New()
		if err != nil {
			t.Fatal(err)
		}
		routing, err := rules.Parse([]byte(`{"rules":[
			{"name":"csam-match","when":"match.bank == \"csam\" && match.distance <= 31","queue":"csam","priority_at_least":99},
			{"name":"acknowledge-notices","when":"request.channel == 'notice'","action":"acknowledge"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		svc := workflow.New(workflow.Config{Store: s, Logger: log, Triager: tr, Rules: routing, Media: hashbank.New(hashbank.Config{Store: s})})
		svc.Start(ctx)
		defer svc.Stop()
		runner := jobs.New(jobs.Config{Store: s, Logger: log})
		runner.Handle(workflow.JobMediaMatch, svc.MatchMediaJob)
		if _, err := svc.CreateBank(ctx, "cli", workflow.BankSpec{Name: "csam", Source: "a hotline", Category: "csam"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddBankHashes(ctx, "cli", "csam", []docket.BankHash{{Kind: docket.HashPDQ, Hash: pdqtest.Hash(t, "q1050.jpg"), Quality: 100}}, "test"); err != nil {
			t.Fatal(err)
		}

		matching := notice(t, svc, "This post shares abuse material of a child.", "photo.jpg", pdqtest.Resized(t, "q1050.jpg"))
		c, err := s.Case(ctx, matching.Receipt.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Media) != 0 || c.Queue == "csam" {
			t.Fatalf("checked at receipt: media %v queue %s", c.Media, c.Queue)
		}
		if n := runner.RunDue(ctx); n != 1 {
			t.Fatalf("ran %d jobs, want the one hash check", n)
		}
		c, _ = s.Case(ctx, matching.Receipt.CaseID)
		types := eventTypesOf(t, s, c.ID)
		if !slices.Contains(types, docket.EventMediaHashed) || !slices.Contains(types, docket.EventMediaMatched) {
			t.Fatalf("events %v", types)
		}
		if len(c.Media) != 1 || len(c.Media[0].Matches) != 1 {
			t.Fatalf("media %+v", c.Media)
		}
		m := c.Media[0].Matches[0]
		if m.Bank != "csam" || m.Kind != "pdq" || m.Distance > 31 || m.Quality < 50 || m.Hash != pdqtest.Hash(t, "q1050.jpg") || c.Media[0].Filename != "photo.jpg" {
			t.Fatalf("match %+v", m)
		}
		if c.Queue != "csam" || c.Priority != 99 {
			t.Fatalf("routed to queue %s, priority %d; want csam, 99", c.Queue, c.Priority)
		}
		if c.Triage == nil || !slices.ContainsFunc(c.Triage.Signals, func(s string) bool { return strings.HasPrefix(s, "hash match: bank csam, pdq distance") }) {
			t.Fatalf("signals %v", c.Triage)
		}
		events, _ := s.CaseEvents(ctx, c.ID)
		var matched docket.MediaMatched
		for _, e := range events {
			if e.Type == docket.EventMediaMatched {
				data, _ := docket.DecodeEvent(e)
				matched = *data.(*docket.MediaMatched)
			}
		}
		if matched.Queue != "csam" || !slices.Equal(matched.Rules, []string{"csam-match"}) || matched.RequestID != matching.Receipt.ID {
			t.Fatalf("media_matched %+v: the rule the match made true, and nothing the triage had already done", matched)
		}
		// Once checked, a request is not checked again.
		if err := svc.MatchMedia(ctx, matching.Receipt.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(eventTypesOf(t, s, c.ID)); n != len(types) {
			t.Fatalf("checked twice: %d events, then %d", len(types), n)
		}

		other := notice(t, svc, "Another post with a picture that should go.", "other.jpg", pdqtest.Resized(t, "q0291.jpg"))
		runner.RunDue(ctx)
		c, _ = s.Case(ctx, other.Receipt.CaseID)
		types = eventTypesOf(t, s, c.ID)
		if !slices.Contains(types, docket.EventMediaHashed) || slices.Contains(types, docket.EventMediaMatched) || c.Queue == "csam" || c.Matched() {
			t.Fatalf("a picture of no bank: events %v queue %s media %+v", types, c.Queue, c.Media)
		}
		if c.Media[0].PDQ == "" || c.Media[0].MD5 == "" || c.Media[0].Error != "" {
			t.Fatalf("hashes %+v", c.Media[0])
		}

		if _, err := svc.SetBankEnabled(ctx, "cli", "csam", false); err != nil {
			t.Fatal(err)
		}
		disabled := notice(t, svc, "The same picture once more, elsewhere on the platform.", "again.jpg", pdqtest.Resized(t, "q1050.jpg"))
		runner.RunDue(ctx)
		c, _ = s.Case(ctx, disabled.Receipt.CaseID)
		if types := eventTypesOf(t, s, c.ID); !slices.Contains(types, docket.EventMediaHashed) || c.Matched() || c.Queue == "csam" {
			t.Fatalf("a disabled bank matched: events %v media %+v", types, c.Media)
		}
		// Enabled again: a notice naming the same post joins the case of the picture of no
		// bank, and its picture, of the bank, routes that case.
		if _, err := svc.SetBankEnabled(ctx, "cli", "csam", true); err != nil {
			t.Fatal(err)
		}
		joined := notice(t, svc, "Another post with a picture that should go.", "more.jpg", pdqtest.Resized(t, "q1050.jpg"))
		if joined.Receipt.CaseID != other.Receipt.CaseID {
			t.Fatalf("the notice opened case %s, not joined %s", joined.Receipt.CaseID, other.Receipt.CaseID)
		}
		runner.RunDue(ctx)
		c, _ = s.Case(ctx, other.Receipt.CaseID)
		if len(c.Media) != 2 || len(c.Media[0].Matches) != 0 || len(c.Media[1].Matches) != 1 || c.Media[1].RequestID != joined.Receipt.ID || c.Queue != "csam" {
			t.Fatalf("the joined request: queue %s media %+v", c.Queue, c.Media)
		}
		if _, err := audit.Verify(ctx, s, 0, ""); err != nil {
			t.Fatalf("audit verify: %v", err)
		}
	})
}

// TestMediaMatchQueuedOnlyWithAMatcher: without a matcher, and for a request without
// attachments, no hash check is queued.
func TestMediaMatchQueuedOnlyWithAMatcher(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, "sqlite")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, media := range []workflow.MediaMatcher{nil, hashbank.New(hashbank.Config{Store: s})} {
		svc := workflow.New(workflow.Config{Store: s, Logger: log, Media: media})
		svc.Start(ctx)
		if media == nil {
			notice(t, svc, "A notice with a picture.", "a.jpg", []byte("not really a picture"))
		} else if _, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte("x"),
			Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "No file."}}); err != nil {
			t.Fatal(err)
		}
		svc.Stop()
	}
	claimed, err := s.ClaimJobs(ctx, time.Now().Add(time.Hour), 10, time.Minute)
	if err != nil || len(claimed) != 0 {
		t.Fatalf("jobs %v, %v", claimed, err)
	}
}

// TestMatchKeepsAPersonsQueue: a match on a case whose triage a person corrected raises its
// priority but leaves the queue the person chose.
func TestMatchKeepsAPersonsQueue(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, "sqlite")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	routing, err := rules.Parse([]byte(`{"rules":[{"name":"csam-match","when":"match.bank == 'csam'","queue":"csam","priority_at_least":99}]}`))
	if err != nil {
		t.Fatal(err)
	}
	svc := workflow.New(workflow.Config{Store: s, Logger: log, Rules: routing, Media: hashbank.New(hashbank.Config{Store: s})})
	svc.Start(ctx)
	defer svc.Stop()
	if _, err := svc.CreateBank(ctx, "cli", workflow.BankSpec{Name: "csam", Source: "a hotline", Category: "csam"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddBankHashes(ctx, "cli", "csam", []docket.BankHash{{Kind: docket.HashPDQ, Hash: pdqtest.Hash(t, "q1050.jpg"), Quality: -1}}, "test"); err != nil {
		t.Fatal(err)
	}
	agent := &docket.User{Email: "agent@x.org", Role: docket.RoleAgent}
	if _, err := svc.AddUser(ctx, "test", agent); err != nil {
		t.Fatal(err)
	}
	res := notice(t, svc, "A picture.", "p.jpg", pdqtest.Resized(t, "q1050.jpg"))
	if _, _, err := svc.Act(ctx, agent, res.Receipt.CaseID, workflow.Action{Type: "retriage", Text: "legal looks at it", Queue: "legal"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.MatchMedia(ctx, res.Receipt.ID); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Case(ctx, res.Receipt.CaseID)
	if !c.Matched() || c.Queue != "legal" || c.Priority != 99 {
		t.Fatalf("queue %s priority %d matched %v; want legal, 99, true", c.Queue, c.Priority, c.Matched())
	}
}
