package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/actions"
	"github.com/docket-dev/docket/api"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// full is a harness whose platform actions run: a platform that exports data, an evidence
// key (packages and their download links), the carrier of platform jobs, and a relay that
// records every answer mailed. Jobs run when drain is called, not in the background, so
// that a test sees each effect where it happens.
type full struct {
	*harness
	runner   *jobs.Runner
	platform *dataPlatform
	relay    *relay
}

// setupFull is setup with the platform part: two authorities with encryption keys, two
// agents ("agent", "agent2"), a reviewer, an admin and an auditor.
func setupFull(t *testing.T, engine string) *full {
	t.Helper()
	return setupFullOn(t, storetest.Open(t, engine))
}

// setupFullOn is setupFull on a store of the caller's.
func setupFullOn(t *testing.T, store docket.Store) *full {
	t.Helper()
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := workflow.New(workflow.Config{Store: store, Logger: log, Now: clk.Now})
	svc.Start(ctx)
	t.Cleanup(svc.Stop)
	h := &harness{t: t, svc: svc, store: store, clock: clk, tokens: map[string]string{}, ids: map[string]string{}}
	for _, name := range []string{"authority", "other"} {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		a := &docket.Authority{Name: "Authority " + name, Country: "FR", AgeRecipient: id.Recipient().String()}
		tok, err := svc.RegisterAuthority(ctx, "test", a)
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[name], h.ids[name] = tok, a.ID
	}
	for _, u := range []struct {
		name string
		role docket.Role
	}{{"agent", docket.RoleAgent}, {"agent2", docket.RoleAgent}, {"reviewer", docket.RoleReviewer}, {"admin", docket.RoleAdmin}, {"auditor", docket.RoleAuditor}} {
		user := &docket.User{Email: u.name + "@platform.example", Role: u.role}
		tok, err := svc.AddUser(ctx, "test", user)
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[u.name], h.ids[u.name] = tok, user.ID
	}
	key, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keeper, err := evidence.ParseKey(key.String())
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(api.New(api.Config{Service: svc, Store: store, Logger: log, Keeper: keeper, NoticeBurst: 3, NoticesPerMinute: 1, MaxBody: 1 << 20}))
	t.Cleanup(h.srv.Close)
	f := &full{harness: h, platform: &dataPlatform{}, relay: &relay{store: store}}
	f.runner = jobs.New(jobs.Config{Store: store, Logger: log, Now: clk.Now, Batch: 64})
	(&actions.Carrier{Service: svc, Store: store, Platform: f.platform, Keeper: keeper, Logger: log, PlatformName: "Test"}).Register(f.runner)
	f.runner.Handle(workflow.JobMailAnswer, f.relay.send)
	return f
}

// drain runs every due job.
func (f *full) drain() {
	for i := 0; i < 20 && f.runner.RunDue(context.Background()) > 0; i++ {
	}
}

// act posts an action on a case as who and returns the response.
func (f *full) act(who, caseID string, body map[string]any) response {
	f.t.Helper()
	return f.do("POST", "/api/v1/cases/"+caseID+"/events", who, body)
}

// events returns the types of a case's events, in order.
func (f *full) events(caseID string) []string {
	f.t.Helper()
	evs, err := f.store.CaseEvents(context.Background(), caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Type))
	}
	return out
}

// verify checks the audit chain and every case's state against its events.
func (f *full) verify() {
	f.t.Helper()
	if _, err := audit.Verify(context.Background(), f.store, 0, ""); err != nil {
		f.t.Fatalf("audit verify: %v", err)
	}
}

// emailEmergency stores a forged "threat to life" mail whose sender could not be verified,
// as the mail receiver does, and returns its request and case.
func (f *full) emailEmergency(from, ref string, targets ...docket.Target) (string, string) {
	f.t.Helper()
	raw := fmt.Appendf(nil, "From: %s\r\nSubject: URGENT %s\r\n\r\nThreat to life: send the subscriber data of the accounts now.\r\n", from, ref)
	res, err := f.svc.Submit(context.Background(), &workflow.Submission{
		Channel: docket.ChannelEmail, Raw: raw, ContentType: "message/rfc822", Sender: docket.SenderUnverified,
		Body: docket.RequestBody{Kind: docket.KindOther, Regime: "emergency", RegimeSource: "default", Emergency: true,
			Description: "Threat to life: send the subscriber data of the accounts now.", Targets: targets,
			Email: &docket.Email{From: from, Subject: "URGENT " + ref, Sender: docket.SenderCheck{Level: docket.SenderUnverified}}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Receipt.ID, res.Receipt.CaseID
}

// dataPlatform is a platform whose accounts all exist and hold one item of each category.
type dataPlatform struct {
	mu      sync.Mutex
	exports []docket.ExportRequest
}

var _ docket.Platform = (*dataPlatform)(nil)

func (p *dataPlatform) Lookup(_ context.Context, t docket.Target) (*docket.TargetInfo, error) {
	return &docket.TargetInfo{Exists: true, Kind: "account", ID: t.Value, Owner: t.Value, Country: "FR"}, nil
}

func (p *dataPlatform) Act(_ context.Context, key string, a docket.PlatformAction) (*docket.ActionResult, error) {
	return &docket.ActionResult{Status: "done", EffectiveAt: time.Now(), Ref: key}, nil
}

func (p *dataPlatform) Preserve(_ context.Context, key string, t docket.Target) (*docket.Snapshot, error) {
	return &docket.Snapshot{Data: []byte("snapshot of " + t.Value), TakenAt: time.Now()}, nil
}

func (p *dataPlatform) Export(_ context.Context, key string, x docket.ExportRequest) (*docket.Export, error) {
	p.mu.Lock()
	p.exports = append(p.exports, x)
	p.mu.Unlock()
	out := &docket.Export{}
	for _, c := range x.Categories {
		out.Items = append(out.Items, docket.ExportItem{Name: c + ".json", Category: c, ContentType: "application/json",
			Data: fmt.Appendf(nil, `{"account":%q,"category":%q}`, x.Target.Value, c)})
	}
	return out, nil
}

func (p *dataPlatform) Notify(_ context.Context, key string, n docket.UserNotice) (*docket.ActionResult, error) {
	return &docket.ActionResult{Status: "done", EffectiveAt: time.Now(), Ref: key}, nil
}

// relay stands for the mail relay: it records the text of every answer mailed.
type relay struct {
	store docket.Store
	mu    sync.Mutex
	sent  map[string][]string // case id -> answers mailed
}

func (r *relay) send(ctx context.Context, j *docket.Job) error {
	var p workflow.MailAnswer
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	evs, err := r.store.CaseEvents(ctx, p.CaseID)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent == nil {
		r.sent = map[string][]string{}
	}
	for _, e := range evs {
		if e.Seq == p.Seq {
			var a docket.Answered
			if err := json.Unmarshal(e.Data, &a); err != nil {
				return err
			}
			r.sent[p.CaseID] = append(r.sent[p.CaseID], a.Text)
		}
	}
	return nil
}

func (r *relay) mailed(caseID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[caseID]
}
