package report_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/actions"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/platform"
	"github.com/docket-dev/docket/refplatform"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/workflow"
)

// fixture is docket's real workflow on a fresh store, with the reference platform behind
// its connector and a clock the test moves.
type fixture struct {
	t        *testing.T
	store    docket.Store
	svc      *workflow.Service
	runner   *jobs.Runner
	platform string // the reference platform's base URL
	mu       sync.Mutex
	now      time.Time
	agent    *docket.User
	reviewer *docket.User
	auth     map[string]*docket.Authority // by a short name
}

func (f *fixture) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

// at sets the clock.
func (f *fixture) at(t time.Time) { f.mu.Lock(); f.now = t.UTC(); f.mu.Unlock() }

// after moves the clock forward.
func (f *fixture) after(d time.Duration) { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }

// model is the shipped triage model, read once; each fixture triages with its own Triager,
// since a Triager learns people's corrections.
var model struct {
	once sync.Once
	m    *triage.Model
	err  error
}

func setup(t *testing.T, engine string) *fixture {
	t.Helper()
	ctx := context.Background()
	model.once.Do(func() { model.m, model.err = triage.ShippedModel() })
	if model.err != nil {
		t.Fatal(model.err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fixture{t: t, store: storetest.Open(t, engine), now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), auth: map[string]*docket.Authority{}}
	f.svc = workflow.New(workflow.Config{Store: f.store, Now: f.Now, Logger: quiet, Triager: triage.WithModel(model.m)})
	f.svc.Start(ctx)
	t.Cleanup(f.svc.Stop)

	db, err := refplatform.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Seed(ctx, f.Now()); err != nil {
		t.Fatal(err)
	}
	secret := []byte("report-test-secret")
	srv := httptest.NewServer((&refplatform.Server{DB: db, Verifier: &platform.Verifier{Secret: secret, Now: f.Now}, Log: quiet, Now: f.Now}).Handler())
	t.Cleanup(srv.Close)
	f.platform = srv.URL
	keeper, err := evidence.LoadOrCreateKey(filepath.Join(t.TempDir(), "evidence.key"))
	if err != nil {
		t.Fatal(err)
	}
	f.runner = jobs.New(jobs.Config{Store: f.store, Logger: quiet, Now: f.Now})
	(&actions.Carrier{Service: f.svc, Store: f.store, Keeper: keeper, Logger: quiet,
		Platform: &platform.Client{BaseURL: srv.URL, Secret: secret, Now: f.Now}}).Register(f.runner)

	key, _ := age.GenerateX25519Identity()
	for _, a := range []struct{ short, name, country, kind, age string }{
		{"fr-police", "Police nationale", "FR", "police", key.Recipient().String()},
		{"fr-prosecutor", "Parquet de Paris", "FR", "prosecutor", ""},
		{"de-police", "Bundeskriminalamt", "DE", "police", ""},
		{"us-police", "FBI", "US", "police", ""},
		{"be-none", "Autorité belge", "BE", "", ""},
	} {
		auth := &docket.Authority{Name: a.name, Country: a.country, Kind: a.kind, AgeRecipient: a.age}
		if _, err := f.svc.RegisterAuthority(ctx, "test", auth); err != nil {
			t.Fatal(err)
		}
		f.auth[a.short] = auth
	}
	for _, u := range []**docket.User{&f.agent, &f.reviewer} {
		role := docket.RoleAgent
		if u == &f.reviewer {
			role = docket.RoleReviewer
		}
		*u = &docket.User{Email: string(role) + "@platform.example", Role: role}
		if _, err := f.svc.AddUser(ctx, "test", *u); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// submit files a request of an authority (by its short name) now, and returns its case.
func (f *fixture) submit(authority string, body docket.RequestBody) string {
	f.t.Helper()
	res, err := f.svc.Submit(context.Background(), &workflow.Submission{Channel: docket.ChannelAPI, Authority: f.auth[authority],
		Raw: []byte(body.Reference + body.Description), Body: body})
	if err != nil {
		f.t.Fatalf("submit %s: %v", body.Reference, err)
	}
	return res.Receipt.CaseID
}

// notice files a public notice now, and returns its case.
func (f *fixture) notice(country, explanation, location string) string {
	f.t.Helper()
	res, err := f.svc.Submit(context.Background(), &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(explanation),
		Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: explanation, Country: country,
			Targets:  []docket.Target{{Kind: "url", Value: location}},
			Notifier: &docket.Notifier{Name: "Jane Doe", Email: "jane@example.org", GoodFaith: true}}})
	if err != nil {
		f.t.Fatalf("notice: %v", err)
	}
	return res.Receipt.CaseID
}

// email files a message from a sender no authority owns, and returns its case.
func (f *fixture) email(from, subject, text string, kind docket.Kind) string {
	f.t.Helper()
	res, err := f.svc.Submit(context.Background(), &workflow.Submission{Channel: docket.ChannelEmail, Raw: []byte(subject + text),
		Sender: docket.SenderUnverified,
		Body: docket.RequestBody{Regime: "national-other", RegimeSource: "default", Kind: kind, Description: text,
			Email: &docket.Email{From: from, MailFrom: from, Subject: subject, To: []string{"abuse@platform.example"},
				Sender: docket.SenderCheck{Level: docket.SenderUnverified}}}})
	if err != nil {
		f.t.Fatalf("email: %v", err)
	}
	return res.Receipt.CaseID
}

// act takes an action on a case as u, and fails the test if it is refused.
func (f *fixture) act(u *docket.User, caseID string, a workflow.Action) {
	f.t.Helper()
	if _, _, err := f.svc.Act(context.Background(), u, caseID, a); err != nil {
		f.t.Fatalf("%s on case %s: %v", a.Type, caseID, err)
	}
}

// decide records a decision by the agent.
func (f *fixture) decide(caseID string, outcome docket.Outcome, reason string) {
	f.t.Helper()
	f.act(f.agent, caseID, workflow.Action{Type: workflow.ActDecide, Outcome: outcome, ReasonCode: reason, Statement: "Decided."})
}

func (f *fixture) answer(caseID string) {
	f.t.Helper()
	f.act(f.agent, caseID, workflow.Action{Type: workflow.ActAnswer, Text: "Our answer."})
}

// carryOut runs the platform's jobs now until none is due.
func (f *fixture) carryOut() {
	f.t.Helper()
	for range 20 {
		if f.runner.RunDue(context.Background()) == 0 {
			return
		}
	}
	f.t.Fatal("jobs still due after 20 rounds")
}

// message returns the reference platform's URL of a seeded message.
func (f *fixture) message(id string) *docket.Target {
	return &docket.Target{Kind: "message", Value: f.platform + "/m/" + id}
}

// statement returns a statement of reasons on ground (illegal or incompatible) in category.
func statement(ground, category string) *docket.StatementOfReasons {
	return &docket.StatementOfReasons{DecisionGround: ground, LegalGround: "The law that applies.", Explanation: "Why it is illegal.",
		Facts: "What was found.", Category: category}
}
