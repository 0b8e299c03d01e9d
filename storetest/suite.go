package storetest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
)

// Run runs the conformance suite; open must return a fresh, empty store each call.
func Run(t *testing.T, open func(t *testing.T) docket.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s docket.Store)
	}{
		{"ChainAndHead", testChainAndHead},
		{"RollbackLeavesNothing", testRollback},
		{"RequestRawByteExact", testRequestRaw},
		{"IdempotencyKey", testIdempotency},
		{"CaseRoundTripAndNotFound", testCaseRoundTrip},
		{"CasesFilterAndSort", testCasesFilter},
		{"CasesToMarkAndStats", testCasesToMark},
		{"Blobs", testBlobs},
		{"AuthoritiesAndUsers", testPrincipals},
		{"RequestByKey", testRequestByKey},
		{"LoginsAndSessions", testLogins},
		{"CaseTimes", testCaseTimes},
		{"MoveRequests", testMoveRequests},
		{"Jobs", testJobs},
		{"Corrections", testCorrections},
		{"JobsClaimedOnce", testJobsClaimedOnce},
		{"Statements", testStatements},
		{"StatementsClaimedOnce", testStatementsClaimedOnce},
		{"Banks", testBanks},
		{"ConcurrentWritersKeepChain", testConcurrentWriters},
		{"MerkleTree", testMerkleTree},
		{"MerkleTreeUnsigned", testTreeUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

type caseSpec struct {
	regime      string
	authority   string
	reference   string
	received    time.Time
	deadline    time.Time
	dueSoon     time.Time
	emergency   bool
	queue       string
	requestBody []byte
	idemKey     string
	country     string
	description string
	targets     []docket.Target // default: username @x
}

// openCase stores a case with one request the way the workflow does: events applied to the
// projection, all in the given transaction.
func openCase(ctx context.Context, tx docket.Tx, sp caseSpec) (*docket.Case, *docket.Request, error) {
	if sp.received.IsZero() {
		sp.received = t0
	}
	if sp.requestBody == nil {
		sp.requestBody = []byte(`{"kind":"disclosure"}`)
	}
	if sp.targets == nil {
		sp.targets = []docket.Target{{Kind: "username", Value: "@x"}}
	}
	sum := sha256.Sum256(sp.requestBody)
	req := &docket.Request{
		ID: docket.NewID(), CaseID: docket.NewID(), Channel: docket.ChannelAPI, AuthorityID: sp.authority,
		ReceivedAt: sp.received, SHA256: hex.EncodeToString(sum[:]), Raw: sp.requestBody, ContentType: "application/json",
		IdempotencyKey: sp.idemKey,
		Body: docket.RequestBody{Regime: sp.regime, Kind: docket.KindDisclosure, Reference: sp.reference, Description: sp.description,
			Targets: sp.targets},
	}
	c := &docket.Case{}
	for _, e := range []*docket.Event{
		docket.NewEvent(req.CaseID, docket.EventCaseOpened, docket.AuthorityActor(sp.authority), sp.received, docket.CaseOpened{
			RequestID: req.ID, SHA256: req.SHA256, Regime: sp.regime, Kind: docket.KindDisclosure, Channel: docket.ChannelAPI, AuthorityID: sp.authority, Country: sp.country,
			Reference: sp.reference, Emergency: sp.emergency, Queue: cmp.Or(sp.queue, "default"), Priority: 50, ReceivedAt: sp.received,
			DeadlineAt: docket.OptTime(sp.deadline), DueSoonAt: docket.OptTime(sp.dueSoon),
		}),
	} {
		if err := tx.Append(ctx, e); err != nil {
			return nil, nil, err
		}
		if err := c.Apply(e); err != nil {
			return nil, nil, err
		}
		if e.Type == docket.EventCaseOpened {
			req.Seq = e.Seq // its receipt event
		}
	}
	if err := tx.InsertCase(ctx, c); err != nil {
		return nil, nil, err
	}
	if err := tx.InsertRequest(ctx, req); err != nil {
		return nil, nil, err
	}
	return c, req, nil
}

func mustOpenCase(t *testing.T, s docket.Store, sp caseSpec) (*docket.Case, *docket.Request) {
	t.Helper()
	var c *docket.Case
	var r *docket.Request
	err := s.Update(context.Background(), func(tx docket.Tx) error {
		var err error
		c, r, err = openCase(context.Background(), tx, sp)
		return err
	})
	if err != nil {
		t.Fatalf("open case: %v", err)
	}
	return c, r
}

func mustVerify(t *testing.T, s docket.Store) *audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), s, 0, "")
	if err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	return rep
}

func testChainAndHead(t *testing.T, s docket.Store) {
	ctx := context.Background()
	seq, hash, err := s.Head(ctx)
	if err != nil || seq != 0 || hash != "" {
		t.Fatalf("empty head = %d %q %v", seq, hash, err)
	}
	c, _ := mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1"})
	mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1"})
	err = s.Update(ctx, func(tx docket.Tx) error {
		cc, err := tx.Case(ctx, c.ID)
		if err != nil {
			return err
		}
		e := docket.NewEvent(c.ID, docket.EventCommented, docket.UserActor("u1"), t0.Add(time.Minute), docket.Commented{Text: "hello"})
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
		if err := cc.Apply(e); err != nil {
			return err
		}
		return tx.UpdateCase(ctx, cc)
	})
	if err != nil {
		t.Fatal(err)
	}
	var events []*docket.Event
	if err := s.ScanEvents(ctx, func(e *docket.Event) error { events = append(events, e); return nil }); err != nil {
		t.Fatal(err)
	}
	// A comment is no correction; a retriage is.
	n := 0
	if err := s.ScanCorrections(ctx, func(*docket.Event) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("ScanCorrections before any retriage: %d events, %v", n, err)
	}
	if len(events) != 3 {
		t.Fatalf("got %d events, want 3", len(events))
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
		if i > 0 && e.PrevHash != events[i-1].Hash {
			t.Errorf("event %d does not link to its predecessor", e.Seq)
		}
		if e.Hash != audit.Hash(e.PrevHash, e) {
			t.Errorf("event %d: stored hash does not match content", e.Seq)
		}
	}
	seq, hash, _ = s.Head(ctx)
	if seq != 3 || hash != events[2].Hash {
		t.Errorf("head = %d %s, want 3 %s", seq, hash, events[2].Hash)
	}
	evs, err := s.CaseEvents(ctx, c.ID)
	if err != nil || len(evs) != 2 || evs[1].Type != docket.EventCommented {
		t.Fatalf("case events = %d %v", len(evs), err)
	}
	rep := mustVerify(t, s)
	if rep.Events != 3 || rep.Cases != 2 || rep.Requests != 2 {
		t.Errorf("verify report %+v", rep)
	}
}

func testRollback(t *testing.T, s docket.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx docket.Tx) error {
		if _, _, err := openCase(ctx, tx, caseSpec{regime: "eu-epoc", authority: "a1", idemKey: "k"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	st, err := s.Stats(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Open != 0 {
		t.Errorf("rolled-back case is visible: %+v", st)
	}
	if seq, _, _ := s.Head(ctx); seq != 0 {
		t.Errorf("head moved to %d after rollback", seq)
	}
	n := 0
	s.ScanEvents(ctx, func(*docket.Event) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d events after rollback", n)
	}
	// The chain goes on from where it was.
	mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1", idemKey: "k"})
	mustVerify(t, s)
}

func testRequestRaw(t *testing.T, s docket.Store) {
	ctx := context.Background()
	raw := []byte("{\"kind\":\"disclosure\"}\n\x00\xff binary tail \r\n")
	_, r := mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1", requestBody: raw})
	got, err := s.Request(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Raw) != string(raw) || got.SHA256 != r.SHA256 {
		t.Errorf("raw body changed in storage: %q", got.Raw)
	}
	if len(got.Body.Targets) != 1 || got.Body.Targets[0].Value != "@x" || !got.ReceivedAt.Equal(r.ReceivedAt) {
		t.Errorf("request round trip: %+v", got)
	}
	reqs, err := s.CaseRequests(ctx, r.CaseID)
	if err != nil || len(reqs) != 1 || reqs[0].ID != r.ID {
		t.Errorf("case requests = %v %v", reqs, err)
	}
	if _, err := s.Request(ctx, "nope"); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("missing request: %v", err)
	}
}

func testIdempotency(t *testing.T, s docket.Store) {
	ctx := context.Background()
	_, r := mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1", idemKey: "key-1"})
	mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a2", idemKey: "key-1"}) // another authority may reuse it
	mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1"})                   // no key
	mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1"})
	err := s.Update(ctx, func(tx docket.Tx) error {
		got, err := tx.RequestByIdempotencyKey(ctx, "a1", "key-1")
		if err != nil {
			return err
		}
		if got.ID != r.ID {
			return fmt.Errorf("found %s, want %s", got.ID, r.ID)
		}
		if _, err := tx.RequestByIdempotencyKey(ctx, "a1", "other"); docket.ErrorCode(err) != docket.ENOTFOUND {
			return fmt.Errorf("unknown key: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.RequestByIdempotencyKey(ctx, "a1", "key-1")
	if err != nil || got.ID != r.ID {
		t.Fatalf("read by idempotency key = %v, %v", got, err)
	}
	err = s.Update(ctx, func(tx docket.Tx) error {
		_, _, err := openCase(ctx, tx, caseSpec{regime: "eu-epoc", authority: "a1", idemKey: "key-1"})
		return err
	})
	if docket.ErrorCode(err) != docket.ECONFLICT {
		t.Fatalf("duplicate key: %v, want conflict", err)
	}
	mustVerify(t, s)
}

func testCaseRoundTrip(t *testing.T, s docket.Store) {
	ctx := context.Background()
	c, _ := mustOpenCase(t, s, caseSpec{regime: "eu-tco-removal", authority: "a1", reference: "REF-1",
		deadline: t0.Add(time.Hour), dueSoon: t0.Add(45 * time.Minute), emergency: true, queue: "emergency"})
	got, err := s.Case(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Regime != "eu-tco-removal" || got.Reference != "REF-1" || !got.DeadlineAt.Equal(t0.Add(time.Hour)) ||
		!got.Emergency || got.Queue != "emergency" || got.State != docket.StateOpen || got.Events != 1 {
		t.Errorf("case round trip: %+v", got)
	}
	if _, err := s.Case(ctx, "missing"); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("missing case: %v", err)
	}
	err = s.Update(ctx, func(tx docket.Tx) error {
		if _, err := tx.Case(ctx, "missing"); docket.ErrorCode(err) != docket.ENOTFOUND {
			return fmt.Errorf("missing case in tx: %v", err)
		}
		if err := tx.UpdateCase(ctx, &docket.Case{ID: "missing"}); docket.ErrorCode(err) != docket.ENOTFOUND {
			return fmt.Errorf("update missing case: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testCasesFilter(t *testing.T, s docket.Store) {
	ctx := context.Background()
	late, _ := mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1", deadline: t0.Add(10 * 24 * time.Hour), received: t0,
		country: "FR", description: "Betrug in Mühlhausen"})
	none, _ := mustOpenCase(t, s, caseSpec{regime: "none", authority: "a2", received: t0.Add(time.Minute), emergency: true})
	soon, _ := mustOpenCase(t, s, caseSpec{regime: "eu-tco-removal", authority: "a1", deadline: t0.Add(time.Hour), queue: "removal", received: t0.Add(2 * time.Minute),
		description: "Menace contre un lycée"})
	ids := func(cs []*docket.Case) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    docket.CaseFilter
		want []string
	}{
		{"by deadline, none last", docket.CaseFilter{}, []string{soon.ID, late.ID, none.ID}},
		{"newest first", docket.CaseFilter{Sort: "-received"}, []string{soon.ID, none.ID, late.ID}},
		{"oldest first", docket.CaseFilter{Sort: "received"}, []string{late.ID, none.ID, soon.ID}},
		{"authority", docket.CaseFilter{AuthorityID: "a2"}, []string{none.ID}},
		{"queue", docket.CaseFilter{Queue: "removal"}, []string{soon.ID}},
		{"regime", docket.CaseFilter{Regime: "eu-epoc"}, []string{late.ID}},
		{"state", docket.CaseFilter{States: []docket.CaseState{docket.StateAnswered}}, nil},
		{"overdue", docket.CaseFilter{Overdue: true, Now: t0.Add(2 * time.Hour)}, []string{soon.ID}},
		{"limit and offset", docket.CaseFilter{Limit: 1, Offset: 1}, []string{late.ID}},
		{"country", docket.CaseFilter{Country: "FR"}, []string{late.ID}},
		{"emergency first", docket.CaseFilter{Sort: "queue"}, []string{none.ID, soon.ID, late.ID}},
		{"emergency only", docket.CaseFilter{Emergency: true, Pending: true}, []string{none.ID}},
		{"search one word", docket.CaseFilter{Query: "Mühlhausen"}, []string{late.ID}},
		{"search any case", docket.CaseFilter{Query: "MÜHLHAUSEN"}, []string{late.ID}},
		{"search all words", docket.CaseFilter{Query: "menace lycée"}, []string{soon.ID}},
		{"search words not together", docket.CaseFilter{Query: "menace Mühlhausen"}, nil},
		{"search syntax is text", docket.CaseFilter{Query: `"NEAR( OR * -`}, nil},
	}
	for _, tt := range tests {
		got, err := s.Cases(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if fmt.Sprint(ids(got)) != fmt.Sprint(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, ids(got), tt.want)
		}
	}
}

func testCasesToMark(t *testing.T, s docket.Store) {
	ctx := context.Background()
	a, _ := mustOpenCase(t, s, caseSpec{regime: "eu-tco-removal", authority: "a1", deadline: t0.Add(time.Hour), dueSoon: t0.Add(45 * time.Minute)})
	mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1", deadline: t0.Add(240 * time.Hour), dueSoon: t0.Add(192 * time.Hour)})
	mustOpenCase(t, s, caseSpec{regime: "none", authority: "a1", emergency: true})
	at := func(now time.Time) []*docket.Case {
		var out []*docket.Case
		if err := s.Update(ctx, func(tx docket.Tx) error {
			var err error
			out, err = tx.CasesToMark(ctx, now, 10)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := at(t0.Add(30 * time.Minute)); len(got) != 0 {
		t.Errorf("nothing is due at +30m, got %d", len(got))
	}
	if got := at(t0.Add(50 * time.Minute)); len(got) != 1 || got[0].ID != a.ID {
		t.Errorf("at +50m want the TCO case, got %d", len(got))
	}
	st, err := s.Stats(ctx, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.Open != 3 || st.Overdue != 1 || st.DueSoon != 0 || st.Emergencies != 1 || st.OldestOverdueCase != a.ID {
		t.Errorf("stats at +2h: %+v", st)
	}
	// Marked due-soon and overdue: nothing left to mark for that case.
	err = s.Update(ctx, func(tx docket.Tx) error {
		c, err := tx.Case(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, typ := range []docket.EventType{docket.EventDueSoon, docket.EventOverdue} {
			e := docket.NewEvent(c.ID, typ, docket.ActorClock, t0.Add(2*time.Hour), struct{}{})
			if err := tx.Append(ctx, e); err != nil {
				return err
			}
			if err := c.Apply(e); err != nil {
				return err
			}
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := at(t0.Add(2 * time.Hour)); len(got) != 0 {
		t.Errorf("marked case still listed: %d", len(got))
	}
	mustVerify(t, s)
}

func testBlobs(t *testing.T, s docket.Store) {
	ctx := context.Background()
	data := []byte("%PDF-1.4 binary \x00\x01")
	sum := sha256.Sum256(data)
	b := &docket.Blob{SHA256: hex.EncodeToString(sum[:]), Data: data}
	for range 2 { // content-addressed: storing it again is a no-op
		if err := s.Update(ctx, func(tx docket.Tx) error { return tx.InsertBlob(ctx, b) }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Blob(ctx, b.SHA256)
	if err != nil || string(got.Data) != string(data) {
		t.Fatalf("blob = %v, %v", got, err)
	}
	if _, err := s.Blob(ctx, "00"); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("missing blob: %v", err)
	}
	// A released hold's snapshot is deleted.
	if err := s.Update(ctx, func(tx docket.Tx) error { return tx.DeleteBlob(ctx, b.SHA256) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Blob(ctx, b.SHA256); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("deleted blob: %v", err)
	}
}

func testPrincipals(t *testing.T, s docket.Store) {
	ctx := context.Background()
	a := &docket.Authority{ID: docket.NewID(), Name: "Police", Country: "FR", Domains: []string{"interieur.gouv.fr"}, AgeRecipient: "age1example", CreatedAt: t0}
	u := &docket.User{ID: docket.NewID(), Email: "a@example.org", Role: docket.RoleReviewer, CreatedAt: t0}
	err := s.Update(ctx, func(tx docket.Tx) error {
		if err := tx.InsertAuthority(ctx, a, "hash-a"); err != nil {
			return err
		}
		return tx.InsertUser(ctx, u, "hash-u")
	})
	if err != nil {
		t.Fatal(err)
	}
	ga, err := s.AuthorityByToken(ctx, "hash-a")
	if err != nil || ga.ID != a.ID || ga.Domains[0] != "interieur.gouv.fr" || ga.Country != "FR" {
		t.Errorf("authority by token = %+v, %v", ga, err)
	}
	if ga, err := s.Authority(ctx, a.ID); err != nil || ga.Name != "Police" || ga.AgeRecipient != "age1example" {
		t.Errorf("authority by id = %+v, %v", ga, err)
	}
	gu, err := s.UserByToken(ctx, "hash-u")
	if err != nil || gu.ID != u.ID || gu.Role != docket.RoleReviewer {
		t.Errorf("user by token = %+v, %v", gu, err)
	}
	if gu, err := s.User(ctx, u.ID); err != nil || gu.Email != u.Email {
		t.Errorf("user by id = %+v, %v", gu, err)
	}
	if _, err := s.UserByToken(ctx, "wrong"); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("wrong token: %v", err)
	}
	err = s.Update(ctx, func(tx docket.Tx) error {
		return tx.InsertUser(ctx, &docket.User{ID: docket.NewID(), Email: u.Email, Role: docket.RoleAgent, CreatedAt: t0}, "hash-2")
	})
	if docket.ErrorCode(err) != docket.ECONFLICT {
		t.Errorf("duplicate e-mail: %v, want conflict", err)
	}
	if all, err := s.Authorities(ctx); err != nil || len(all) != 1 || all[0].Domains[0] != "interieur.gouv.fr" {
		t.Errorf("authorities = %+v, %v", all, err)
	}
}

// testRequestByKey: an e-mail's Message-ID, stored as a key, finds its request.
func testRequestByKey(t *testing.T, s docket.Store) {
	ctx := context.Background()
	_, first := mustOpenCase(t, s, caseSpec{regime: "r", reference: "k1"})
	err := s.Update(ctx, func(tx docket.Tx) error {
		first2 := *first
		first2.ID, first2.Keys = docket.NewID(), []docket.Target{{Kind: "message-id", Value: "m1@police.example"}}
		first2.ReceivedAt = t0.Add(time.Minute)
		return tx.InsertRequest(ctx, &first2)
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.RequestByKey(ctx, "message-id", "m1@police.example")
	if err != nil || r.CaseID != first.CaseID || r.ID == first.ID {
		t.Fatalf("request by key = %+v, %v", r, err)
	}
	if _, err := s.RequestByKey(ctx, "message-id", "other@x"); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Fatalf("unknown key: %v", err)
	}
}

func testJobs(t *testing.T, s docket.Store) {
	ctx := context.Background()
	enqueue := func(j *docket.Job) {
		t.Helper()
		if err := s.Update(ctx, func(tx docket.Tx) error { return tx.Enqueue(ctx, j) }); err != nil {
			t.Fatal(err)
		}
	}
	enqueue(&docket.Job{Kind: "a", RunAt: t0, MaxAttempts: 2, Payload: []byte(`{"x":1}`)})
	enqueue(&docket.Job{Kind: "later", RunAt: t0.Add(time.Hour)})
	enqueue(&docket.Job{Kind: "u", UniqueKey: "only-one", RunAt: t0})
	enqueue(&docket.Job{Kind: "u", UniqueKey: "only-one", RunAt: t0}) // dropped: one is waiting
	got, err := s.ClaimJobs(ctx, t0, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("claimed %d jobs at t0, want 2 (a and one u)", len(got))
	}
	var a *docket.Job
	for _, j := range got {
		if j.Kind == "a" {
			a = j
		}
		if j.Attempts != 1 {
			t.Errorf("job %s attempts %d, want 1", j.Kind, j.Attempts)
		}
	}
	if a == nil || string(a.Payload) != `{"x":1}` {
		t.Fatalf("job a = %+v", a)
	}
	if again, _ := s.ClaimJobs(ctx, t0.Add(30*time.Second), 10, time.Minute); len(again) != 0 {
		t.Errorf("leased jobs claimed again: %d", len(again))
	}
	// The lease runs out: another node takes the jobs over.
	again, err := s.ClaimJobs(ctx, t0.Add(2*time.Minute), 10, time.Minute)
	if err != nil || len(again) != 2 {
		t.Fatalf("after the lease: %d, %v", len(again), err)
	}
	// The first claim can no longer renew them: they are the other node's now.
	if n, err := s.RenewJobs(ctx, got, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("the first claim renewed %d jobs taken over (%v), want 0", n, err)
	}
	if n, err := s.RenewJobs(ctx, again, t0.Add(4*time.Minute)); err != nil || n != 2 {
		t.Errorf("renewed %d of the claim's 2 jobs (%v)", n, err)
	}
	if taken, _ := s.ClaimJobs(ctx, t0.Add(3*time.Minute+30*time.Second), 10, time.Minute); len(taken) != 0 {
		t.Errorf("renewed jobs claimed again before their renewed lease ended: %d", len(taken))
	}
	for _, j := range again {
		if j.Kind == "u" {
			if err := s.FinishJob(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// a has used its 2 attempts: a retry marks it failed for good.
	if err := s.RetryJob(ctx, a.ID, t0.Add(3*time.Minute), "broken"); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Stats(ctx, t0)
	if st.JobsFailed != 1 || st.JobsWaiting != 1 {
		t.Errorf("jobs failed %d waiting %d, want 1 and 1", st.JobsFailed, st.JobsWaiting)
	}
	late, _ := s.ClaimJobs(ctx, t0.Add(2*time.Hour), 10, time.Minute)
	if len(late) != 1 || late[0].Kind != "later" {
		t.Fatalf("at +2h want only 'later', got %v", late)
	}
	if err := s.FinishJob(ctx, late[0].ID); err != nil {
		t.Fatal(err)
	}
	enqueue(&docket.Job{Kind: "u", UniqueKey: "only-one", RunAt: t0}) // the key is free again
	if n, _ := s.ClaimJobs(ctx, t0.Add(3*time.Hour), 10, time.Minute); len(n) != 1 {
		t.Errorf("re-enqueued unique job: claimed %d", len(n))
	}
}

func testJobsClaimedOnce(t *testing.T, s docket.Store) {
	ctx := context.Background()
	const n = 60
	err := s.Update(ctx, func(tx docket.Tx) error {
		for i := range n {
			if err := tx.Enqueue(ctx, &docket.Job{Kind: "k", RunAt: t0, Payload: fmt.Appendf(nil, `{"i":%d}`, i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	claimedOnce(t, "jobs", n, func() ([]int64, error) {
		jobs, err := s.ClaimJobs(ctx, t0, 5, time.Hour)
		ids := make([]int64, len(jobs))
		for i, j := range jobs {
			ids[i] = j.ID
		}
		return ids, err
	})
}

func testConcurrentWriters(t *testing.T, s docket.Store) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				err := s.Update(context.Background(), func(tx docket.Tx) error {
					_, _, err := openCase(context.Background(), tx, caseSpec{regime: "eu-epoc", authority: "a1"})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rep := mustVerify(t, s)
	if rep.Events != 80 || rep.Cases != 80 {
		t.Errorf("after concurrent writes: %+v", rep)
	}
}

func testLogins(t *testing.T, s docket.Store) {
	ctx := context.Background()
	l := &docket.Login{ID: docket.NewID(), Kind: docket.LoginOfficer, Email: "ana@police.example", Name: "Ana", AuthorityID: "a1",
		Status: docket.LoginConfirmEmail, PasswordHash: "$argon2id$x", TOTPSecret: "JBSWY3DPEHPK3PXP", ConfirmHash: "c1",
		ConfirmExpires: t0.Add(time.Hour), CreatedBy: "self", CreatedAt: t0}
	put := func(l *docket.Login) error {
		return s.Update(ctx, func(tx docket.Tx) error { return tx.PutLogin(ctx, l) })
	}
	if err := put(l); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoginByConfirm(ctx, "c1")
	if err != nil || got.ID != l.ID || got.PasswordHash != l.PasswordHash || !got.ConfirmExpires.Equal(l.ConfirmExpires) {
		t.Fatalf("by confirmation: %+v, %v", got, err)
	}
	l.Status, l.ConfirmHash, l.Failures, l.LockedUntil, l.TOTPStep = docket.LoginActive, "", 3, t0.Add(15*time.Minute), 42
	if err := put(l); err != nil {
		t.Fatal(err)
	}
	got, err = s.LoginByEmail(ctx, docket.LoginOfficer, "ana@police.example")
	if err != nil || got.Status != docket.LoginActive || got.Failures != 3 || got.TOTPStep != 42 || !got.LockedUntil.Equal(l.LockedUntil) {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if _, err := s.LoginByConfirm(ctx, ""); !errors.Is(err, docket.ErrNotFound) {
		t.Errorf("empty confirmation found something: %v", err)
	}
	if _, err := s.LoginByEmail(ctx, docket.LoginStaff, "ana@police.example"); !errors.Is(err, docket.ErrNotFound) {
		t.Errorf("an officer's address found a staff login: %v", err)
	}
	dup := *l
	dup.ID = docket.NewID()
	if err := put(&dup); docket.ErrorCode(err) != docket.ECONFLICT {
		t.Errorf("second login with the same address: %v, want ECONFLICT", err)
	}
	other := &docket.Login{ID: docket.NewID(), Kind: docket.LoginOfficer, Email: "bo@police.example", AuthorityID: "a2", Status: docket.LoginActive, CreatedAt: t0}
	if err := put(other); err != nil {
		t.Fatal(err)
	}
	list, err := s.Logins(ctx, docket.LoginFilter{AuthorityID: "a1"})
	if err != nil || len(list) != 1 || list[0].ID != l.ID {
		t.Fatalf("logins of a1: %v, %v", list, err)
	}

	// Sign-in attempts: counted while unlocked, none while locked; a code's step only forward.
	count := func(now time.Time) int {
		var n int
		if err := s.Update(ctx, func(tx docket.Tx) (err error) { n, err = tx.CountSignIn(ctx, other.ID, now); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, b := count(t0), count(t0); a != 1 || b != 2 {
		t.Errorf("attempts counted %d, %d; want 1, 2", a, b)
	}
	if err := s.Update(ctx, func(tx docket.Tx) error { return tx.LockLogin(ctx, other.ID, t0.Add(time.Hour)) }); err != nil {
		t.Fatal(err)
	}
	if n := count(t0.Add(time.Minute)); n != 0 {
		t.Errorf("an attempt on a locked account was counted: %d", n)
	}
	if n := count(t0.Add(time.Hour)); n != 1 {
		t.Errorf("first attempt after the lock: %d, want 1", n)
	}
	use := func(step int64) bool {
		var ok bool
		if err := s.Update(ctx, func(tx docket.Tx) (err error) { ok, err = tx.UseTOTPStep(ctx, other.ID, step); return err }); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !use(100) || use(100) || use(99) || !use(101) {
		t.Error("UseTOTPStep: want step 100 once, never again or earlier, then 101")
	}
	if got, _ := s.Login(ctx, other.ID); got.Failures != 0 || got.TOTPStep != 101 {
		t.Errorf("after a used step: failures %d, step %d; want 0, 101", got.Failures, got.TOTPStep)
	}

	open := func(hash string, created, expires time.Time) *docket.Session {
		se := &docket.Session{Hash: hash, LoginID: l.ID, CreatedAt: created, ExpiresAt: expires}
		if err := s.Update(ctx, func(tx docket.Tx) error { return tx.InsertSession(ctx, se) }); err != nil {
			t.Fatal(err)
		}
		return se
	}
	open("h-old", t0, t0.Add(time.Hour))
	fresh := open("h-new", t0.Add(2*time.Hour), t0.Add(10*time.Hour))
	if _, err := s.Session(ctx, "h-old"); !errors.Is(err, docket.ErrNotFound) {
		t.Errorf("an expired session was kept: %v", err)
	}
	se, err := s.Session(ctx, "h-new")
	if err != nil || se.LoginID != l.ID || !se.ExpiresAt.Equal(fresh.ExpiresAt) {
		t.Fatalf("session: %+v, %v", se, err)
	}
	if err := s.Update(ctx, func(tx docket.Tx) error { return tx.DeleteSession(ctx, "h-new") }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "h-new"); !errors.Is(err, docket.ErrNotFound) {
		t.Errorf("a deleted session is still there: %v", err)
	}
	open("h-a", t0.Add(3*time.Hour), t0.Add(10*time.Hour))
	open("h-b", t0.Add(3*time.Hour), t0.Add(10*time.Hour))
	if err := s.Update(ctx, func(tx docket.Tx) error { return tx.EndSessions(ctx, l.ID) }); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"h-a", "h-b"} {
		if _, err := s.Session(ctx, h); !errors.Is(err, docket.ErrNotFound) {
			t.Errorf("session %s outlived EndSessions: %v", h, err)
		}
	}
}

func testCaseTimes(t *testing.T, s docket.Store) {
	ctx := context.Background()
	c, _ := mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1", country: "DE", received: t0})
	mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1", received: t0.Add(-40 * 24 * time.Hour)})
	err := s.Update(ctx, func(tx docket.Tx) error {
		c, err := tx.Case(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, e := range []*docket.Event{
			docket.NewEvent(c.ID, docket.EventAcknowledged, docket.ActorMail, t0.Add(time.Minute), docket.Acknowledged{}),
			docket.NewEvent(c.ID, docket.EventAnswered, docket.UserActor("u1"), t0.Add(time.Hour), docket.Answered{Text: "done"}),
		} {
			if err := tx.Append(ctx, e); err != nil {
				return err
			}
			if err := c.Apply(e); err != nil {
				return err
			}
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	times, err := s.CaseTimes(ctx, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 1 {
		t.Fatalf("got %d cases, want the one received since: %+v", len(times), times)
	}
	got := times[0]
	if got.Regime != "eu-epoc" || got.Country != "DE" || !got.ReceivedAt.Equal(t0) || !got.AcknowledgedAt.Equal(t0.Add(time.Minute)) || !got.AnsweredAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("case times: %+v", got)
	}
}

// testMoveRequests: requests move with their targets and search entries; a request that
// is not the source case's is refused and the transaction leaves nothing moved.
func testMoveRequests(t *testing.T, s docket.Store) {
	ctx := context.Background()
	a, ra := mustOpenCase(t, s, caseSpec{regime: "r", authority: "auth", reference: "ALPHA", description: "first matter"})
	b, rb := mustOpenCase(t, s, caseSpec{regime: "r", authority: "auth", reference: "BRAVO", description: "second matter", requestBody: []byte(`{"b":1}`),
		targets: []docket.Target{{Kind: "username", Value: "@b"}}})
	err := s.Update(ctx, func(tx docket.Tx) error {
		_, err := tx.MoveRequests(ctx, a.ID, b.ID, []string{rb.ID})
		return err
	})
	if docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Fatalf("moving another case's request: %v, want not_found", err)
	}
	var moved []string
	err = s.Update(ctx, func(tx docket.Tx) error {
		var err error
		moved, err = tx.MoveRequests(ctx, b.ID, a.ID, nil)
		return err
	})
	if err != nil || len(moved) != 1 || moved[0] != rb.ID {
		t.Fatalf("move all of case b: %v %v", moved, err)
	}
	reqs, err := s.CaseRequests(ctx, a.ID)
	if err != nil || len(reqs) != 2 || reqs[0].ID != ra.ID || reqs[1].ID != rb.ID {
		t.Fatalf("case a holds %d requests (%v)", len(reqs), err)
	}
	if left, _ := s.CaseRequests(ctx, b.ID); len(left) != 0 {
		t.Fatalf("case b still holds %d requests", len(left))
	}
	found, err := s.Cases(ctx, docket.CaseFilter{Query: "bravo"})
	if err != nil || len(found) != 1 || found[0].ID != a.ID {
		t.Fatalf("search for the moved request found %d cases (%v)", len(found), err)
	}
	c, _, err := s.RelatedOpenCase(ctx, "auth", "", []docket.Target{{Kind: "username", Value: "@b"}})
	if err != nil || c.ID != a.ID {
		t.Fatalf("the moved request's target points to %v (%v), want case a", c, err)
	}
}

// testCorrections: ScanCorrections finds the retriaged events, in order, and no others.
func testCorrections(t *testing.T, s docket.Store) {
	ctx := context.Background()
	c, _ := mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1"})
	spam := true
	for i, e := range []*docket.Event{
		docket.NewEvent(c.ID, docket.EventCommented, docket.UserActor("u1"), t0.Add(time.Minute), docket.Commented{Text: "hello"}),
		docket.NewEvent(c.ID, docket.EventRetriaged, docket.UserActor("u1"), t0.Add(2*time.Minute), docket.Triaged{Reason: "a scam", Spam: &spam}),
		docket.NewEvent(c.ID, docket.EventRetriaged, docket.UserActor("u2"), t0.Add(3*time.Minute), docket.Triaged{Reason: "no: real", Regime: "eu-epoc"}),
	} {
		err := s.Update(ctx, func(tx docket.Tx) error {
			cc, err := tx.Case(ctx, c.ID)
			if err != nil {
				return err
			}
			if err := tx.Append(ctx, e); err != nil {
				return err
			}
			if err := cc.Apply(e); err != nil {
				return err
			}
			return tx.UpdateCase(ctx, cc)
		})
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	var got []string
	if err := s.ScanCorrections(ctx, func(e *docket.Event) error {
		got = append(got, fmt.Sprintf("%s %s", e.Type, e.Actor))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"retriaged user:u1", "retriaged user:u2"}
	if !slices.Equal(got, want) {
		t.Errorf("ScanCorrections = %q, want %q", got, want)
	}
}

// claimedOnce runs claim from four goroutines until it returns nothing, and checks that n
// distinct keys were claimed, each once.
func claimedOnce[K comparable](t *testing.T, what string, n int, claim func() ([]K, error)) {
	t.Helper()
	var mu sync.Mutex
	seen := map[K]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := claim()
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, k := range got {
					seen[k]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct %s, want %d", len(seen), what, n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s: %v claimed %d times", what, k, c)
		}
	}
}
