package actions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/actions"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/platform"
	"github.com/docket-dev/docket/refplatform"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// lossy is the connector whose first answer to a revert is lost on the way back: the
// platform acted, docket does not know it and retries.
type lossy struct {
	*platform.Client
	mu   sync.Mutex
	lost bool
}

func (l *lossy) Act(ctx context.Context, key string, a docket.PlatformAction) (*docket.ActionResult, error) {
	res, err := l.Client.Act(ctx, key, a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && a.Op == docket.OpRestore && !l.lost {
		l.lost = true
		return nil, errors.New("read answer: connection reset by peer")
	}
	return res, err
}

type appealFixture struct {
	store    docket.Store
	svc      *workflow.Service
	carrier  *actions.Carrier
	db       *refplatform.DB
	platform *httptest.Server
	users    map[docket.Role]*docket.User
	other    *docket.User // an agent who took no part in any decision
	mu       sync.Mutex
	now      time.Time
}

func (f *appealFixture) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *appealFixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func setupAppeals(t *testing.T, store docket.Store) *appealFixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &appealFixture{store: store, users: map[docket.Role]*docket.User{}, now: time.Now().UTC().Truncate(time.Second)}
	f.svc = workflow.New(workflow.Config{Store: store, Now: f.Now, Logger: log, AppealKey: []byte("the appeal tests' key")})
	f.svc.Start(ctx)
	t.Cleanup(f.svc.Stop)
	var err error
	if f.db, err = refplatform.Open(ctx, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	if _, err := f.db.Seed(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	secret := []byte("appeal-test-secret")
	f.platform = httptest.NewServer((&refplatform.Server{DB: f.db, Verifier: &platform.Verifier{Secret: secret}, Log: log}).Handler())
	t.Cleanup(f.platform.Close)
	client := &lossy{Client: &platform.Client{BaseURL: f.platform.URL, Secret: secret}}
	f.carrier = &actions.Carrier{Service: f.svc, Store: store, Platform: client, PublicURL: "https://docket.example", Logger: log}
	for _, r := range []docket.Role{docket.RoleAgent, docket.RoleReviewer, docket.RoleAdmin} {
		u := &docket.User{Email: string(r) + "@x.org", Role: r}
		if _, err := f.svc.AddUser(ctx, "test", u); err != nil {
			t.Fatal(err)
		}
		f.users[r] = u
	}
	f.other = &docket.User{Email: "other-agent@x.org", Role: docket.RoleAgent}
	if _, err := f.svc.AddUser(ctx, "test", f.other); err != nil {
		t.Fatal(err)
	}
	return f
}

// act does a staff action and fails the test on an error.
func (f *appealFixture) act(t *testing.T, u *docket.User, caseID string, a workflow.Action) *docket.Event {
	t.Helper()
	_, ev, err := f.svc.Act(context.Background(), u, caseID, a)
	if err != nil {
		t.Fatalf("%s: %v", a.Type, err)
	}
	return ev
}

// run runs the platform job of action seq as the runner would, attempt n.
func (f *appealFixture) run(t *testing.T, caseID string, seq int64, n int) error {
	t.Helper()
	b, _ := json.Marshal(workflow.ActionJob{CaseID: caseID, Seq: seq})
	return f.carrier.Action(context.Background(), &docket.Job{Kind: workflow.JobPlatformAction, Payload: b, Attempts: n, MaxAttempts: 12})
}

// removed opens a DSA art. 9 removal order for message 2, decided by the agent, and removes
// the message on the reference platform; it returns the case and the removal's puid.
func (f *appealFixture) removed(t *testing.T, ref string) (string, string) {
	t.Helper()
	ctx := context.Background()
	a := &docket.Authority{Name: "Police " + ref, Country: "FR"}
	if _, err := f.svc.RegisterAuthority(ctx, "test", a); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte(ref),
		Body: docket.RequestBody{Regime: "dsa-art9", Kind: docket.KindRemoval, Reference: ref, LegalBasis: "art. 9", Reasons: "incitement", Redress: "court",
			Targets: []docket.Target{{Kind: "url", Value: f.platform.URL + "/m/2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Receipt.CaseID
	agent := f.users[docket.RoleAgent]
	f.act(t, agent, id, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "illegal incitement"})
	ev := f.act(t, agent, id, workflow.Action{Type: docket.OpRemove, Target: &docket.Target{Kind: "message", Value: "2"},
		Reasons: &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "Criminal code, incitement to violence",
			Explanation: "The message calls for an attack.", Facts: "Order of a French authority under DSA art. 9."}})
	if err := f.run(t, id, ev.Seq, 1); err != nil {
		t.Fatal(err)
	}
	c, _ := f.store.Case(ctx, id)
	a0 := c.Action(ev.Seq)
	if a0.Status != docket.ActionDoneStatus {
		t.Fatalf("removal: %+v", a0)
	}
	if got := status(t, f.platform.URL+"/m/2"); got != http.StatusGone {
		t.Fatalf("message 2 after removal: %d", got)
	}
	return id, a0.Statement.PUID
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAppealUpheldRestoresOnce: the user contests a removal through the link the platform
// was given; the person who decided cannot decide the appeal (the transaction fails), nor can
// automation; another person upholds it; the message comes back on the reference platform
// exactly once, although the first answer to the restore was lost and the job retried; the
// new statement of reasons is on the platform; the log verifies.
func TestAppealUpheldRestoresOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store docket.Store) {
		ctx := context.Background()
		f := setupAppeals(t, store)
		id, puid := f.removed(t, "APPEAL-1")

		// The platform holds the appeal link for the user, with an unguessable token.
		link, err := f.db.AppealLink(ctx, puid)
		if err != nil || !strings.HasPrefix(link, "https://docket.example/appeal/"+puid+"?token=") {
			t.Fatalf("appeal link = %q, %v", link, err)
		}
		token := link[strings.Index(link, "token=")+len("token="):]
		if len(token) != 43 {
			t.Fatalf("token %q: want 256 bits in base64url", token)
		}
		who, err := f.svc.CheckAppealToken(puid, token)
		if err != nil || who != docket.AppellantUser {
			t.Fatalf("token: %q, %v", who, err)
		}
		_, ap, err := f.svc.FileAppeal(ctx, workflow.AppealFiling{PUID: puid, Appellant: who, Channel: docket.AppealChannelWeb,
			Text: "This was satire, not a call to violence.", Contact: "nw@mail.example"})
		if err != nil {
			t.Fatal(err)
		}
		if want := f.Now().Add(14 * 24 * time.Hour); !ap.DeadlineAt.Equal(want) {
			t.Fatalf("appeal deadline %s, want %s (14 days)", ap.DeadlineAt, want)
		}
		// Once is enough.
		if _, _, err := f.svc.FileAppeal(ctx, workflow.AppealFiling{PUID: puid, Appellant: who, Channel: docket.AppealChannelWeb, Text: "again"}); docket.ErrorCode(err) != docket.ECONFLICT {
			t.Fatalf("a second appeal: %v", err)
		}

		decide := workflow.Action{Type: workflow.ActDecideAppeal, Appeal: ap.Seq, Outcome: docket.AppealUpheld, Text: "Read in context, the message is satire."}
		// The agent who decided (and asked for the removal) may not decide the appeal.
		before, _ := f.store.Case(ctx, id)
		if _, _, err := f.svc.Act(ctx, f.users[docket.RoleAgent], id, decide); docket.ErrorCode(err) != docket.EFOUREYES {
			t.Fatalf("the decider decides the appeal: %v", err)
		}
		// Nor automation, whatever the caller: the rule is in the event's application.
		err = f.svc.Record(ctx, id, docket.ActorClock, workflow.Entry{Type: docket.EventAppealDecided,
			Data: docket.AppealDecided{Appeal: ap.Seq, Outcome: docket.AppealUpheld, Reasons: "auto"}})
		if docket.ErrorCode(err) != docket.EFOUREYES {
			t.Fatalf("automation decides the appeal: %v", err)
		}
		// And the decider, bypassing the action's check, fails in the transaction.
		err = f.svc.Record(ctx, id, docket.UserActor(f.users[docket.RoleAgent].ID), workflow.Entry{Type: docket.EventAppealDecided,
			Data: docket.AppealDecided{Appeal: ap.Seq, Outcome: docket.AppealUpheld, Reasons: "mine"}})
		if docket.ErrorCode(err) != docket.EFOUREYES {
			t.Fatalf("the decider records the appeal's decision: %v", err)
		}
		if after, _ := f.store.Case(ctx, id); after.Events != before.Events {
			t.Fatalf("refused decisions left %d events", after.Events-before.Events)
		}

		f.act(t, f.other, id, decide)
		c, _ := f.store.Case(ctx, id)
		ap = c.AppealOf(ap.Seq)
		if ap.State != docket.AppealUpheld || ap.DecidedBy != f.other.ID || ap.Revert == 0 || len(ap.Bodies) == 0 {
			t.Fatalf("appeal = %+v", ap)
		}
		revert := c.Action(ap.Revert)
		if revert.Op != docket.OpRestore || revert.Status != docket.ActionPending || revert.Statement.PUID == puid ||
			!strings.Contains(revert.Statement.Explanation, "satire") || !strings.Contains(revert.Statement.Redress, "art. 21") {
			t.Fatalf("revert = %+v", revert)
		}

		// The first attempt restores the message, but its answer is lost: not done.
		if err := f.run(t, id, revert.Seq, 1); err == nil {
			t.Fatal("the lost answer was taken for a confirmation")
		}
		if c, _ = f.store.Case(ctx, id); c.Action(revert.Seq).Status != docket.ActionPending {
			t.Fatalf("after a lost answer: %+v", c.Action(revert.Seq))
		}
		// Retried (twice: a runner that took the job over too): the platform answers again.
		for n := 2; n <= 3; n++ {
			if err := f.run(t, id, revert.Seq, n); err != nil {
				t.Fatalf("attempt %d: %v", n, err)
			}
		}
		c, _ = f.store.Case(ctx, id)
		if r := c.Action(revert.Seq); r.Status != docket.ActionDoneStatus {
			t.Fatalf("revert: %+v", r)
		}
		orig := c.ActionByPUID(puid)
		if orig.RevertedBy != revert.Seq || orig.RevertedAt == nil {
			t.Fatalf("the removal is not marked reverted: %+v", orig)
		}
		if got := status(t, f.platform.URL+"/m/2"); got != http.StatusOK {
			t.Fatalf("message 2 after the upheld appeal: %d", got)
		}
		hist, err := f.db.History(ctx)
		if err != nil {
			t.Fatal(err)
		}
		restores := 0
		for _, h := range hist {
			if strings.HasPrefix(h, "restore message:2 "+revert.Statement.PUID) {
				restores++
			}
		}
		if restores != 1 {
			t.Fatalf("the platform restored %d times: %q", restores, hist)
		}
		// A reversed decision can no longer be contested; the appellant sees the answer.
		v, err := f.svc.AppealStatus(ctx, puid, docket.AppellantUser)
		if err != nil || v.Open || v.Reverted == nil || len(v.Appeals) != 1 || !strings.Contains(v.Appeals[0].Answer, "upheld") ||
			!strings.Contains(v.Appeals[0].Answer, "digital-strategy.ec.europa.eu") {
			t.Fatalf("status = %+v, %v", v, err)
		}
		if _, err := audit.Verify(ctx, store, 0, ""); err != nil {
			t.Fatalf("audit verify: %v", err)
		}
	})
}

// TestAppealWindowAndTokens: an appeal six months and a day after the removal took effect is
// refused (too_late); a token opens one decision for one appellant only.
func TestAppealWindowAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store docket.Store) {
		ctx := context.Background()
		f := setupAppeals(t, store)
		_, puid := f.removed(t, "WINDOW-1")
		_, other := f.removed(t, "WINDOW-2")
		user := f.svc.AppealToken(docket.AppellantUser, puid)
		if who, err := f.svc.CheckAppealToken(other, user); err == nil {
			t.Fatalf("the token of %s opens %s for %s", puid, other, who)
		}
		for _, bad := range []string{"", "x", strings.Repeat("A", 43), user[:42] + "B"} {
			if _, err := f.svc.CheckAppealToken(puid, bad); docket.ErrorCode(err) != docket.EFORBIDDEN {
				t.Fatalf("token %q: %v", bad, err)
			}
		}
		// The notifier's token of a case that came from no notice opens nothing to file.
		notifier := f.svc.AppealToken(docket.AppellantNotifier, puid)
		if who, err := f.svc.CheckAppealToken(puid, notifier); err != nil || who != docket.AppellantNotifier {
			t.Fatalf("notifier token: %q %v", who, err)
		}
		if _, _, err := f.svc.FileAppeal(ctx, workflow.AppealFiling{PUID: puid, Appellant: docket.AppellantNotifier, Channel: docket.AppealChannelWeb, Text: "x"}); docket.ErrorCode(err) != docket.EFORBIDDEN {
			t.Fatalf("a notifier's appeal on an authority's order: %v", err)
		}
		f.advance(183*24*time.Hour + time.Hour) // past 6 calendar months, whatever the month
		_, _, err := f.svc.FileAppeal(ctx, workflow.AppealFiling{PUID: puid, Appellant: docket.AppellantUser, Channel: docket.AppealChannelWeb, Text: "late"})
		if docket.ErrorCode(err) != docket.ETOOLATE || docket.HTTPStatus(docket.ErrorCode(err)) != 422 || !strings.Contains(docket.ErrorMessage(err), "could be contested until") {
			t.Fatalf("a late appeal: %v", err)
		}
	})
}

// TestInAppAppealRejected: a user contests in the platform's app; docket collects it once
// however often it asks, a person who took no part rejects it, and the answer, naming the
// out-of-court dispute settlement bodies, reaches the app through the connector.
func TestInAppAppealRejected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store docket.Store) {
		ctx := context.Background()
		f := setupAppeals(t, store)
		id, puid := f.removed(t, "INAPP-1")
		file := func(user string) int {
			b, _ := json.Marshal(map[string]string{"user": user, "puid": puid, "text": "I did not write this."})
			resp, err := http.Post(f.platform.URL+"/appeals", "application/json", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := file("alice"); got != http.StatusForbidden {
			t.Fatalf("another user's appeal: %d", got)
		}
		if got := file("nightwolf"); got != http.StatusCreated {
			t.Fatalf("the author's appeal: %d", got)
		}
		for range 2 {
			if err := f.carrier.CollectAppeals(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		c, _ := f.store.Case(ctx, id)
		if len(c.Appeals) != 1 || c.Appeals[0].Channel != docket.AppealChannelPlatform || c.Appeals[0].PlatformRef != "1" {
			t.Fatalf("appeals = %+v", c.Appeals)
		}
		ev := f.act(t, f.users[docket.RoleReviewer], id, workflow.Action{Type: workflow.ActDecideAppeal, Appeal: c.Appeals[0].Seq,
			Outcome: docket.AppealRejected, Text: "The message was posted from your account."})
		c, _ = f.store.Case(ctx, id)
		notify := c.Actions[len(c.Actions)-1]
		if notify.Op != docket.OpNotify || notify.PlatformAppeal != "1" || notify.Seq <= ev.Seq {
			t.Fatalf("answer = %+v", notify)
		}
		if err := f.run(t, id, notify.Seq, 1); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(f.platform.URL + "/appeals/1")
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Status, Answer string }
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got.Status != "answered" || !strings.Contains(got.Answer, "rejected") || !strings.Contains(got.Answer, "art. 21") {
			t.Fatalf("in-app appeal = %+v", got)
		}
		if s := status(t, f.platform.URL+"/m/2"); s != http.StatusGone {
			t.Fatalf("message 2 after a rejected appeal: %d", s)
		}
		if _, err := audit.Verify(ctx, store, 0, ""); err != nil {
			t.Fatalf("audit verify: %v", err)
		}
	})
}
