package audit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/account"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/postgres"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// fixture is a store built through the service code: an authority with a domain and an age
// key, an agent with a console sign-in and a session, an officer registered at the portal, three answered
// cases with targets, an open case opened by an unverified e-mail with an attachment and a
// follow-up job, and a disclosure package.
type fixture struct {
	s                  docket.Store
	caseID, reqID      string // the first answered case and its request
	openCase, mailReq  string // the open case of the e-mail, and its request
	attachment, pkg    string // SHA-256 of the attachment's blob and of the package's
	authorityID, agent string // the agent's e-mail address
	// Statements of reasons of two removals the platform applied: one accepted by the
	// Transparency Database, one refused.
	accepted, refused string
	// A hash bank "csam" holding live and withdrawn hashes; an empty bank "empty".
	liveHash, withdrawnHash string
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// build fills s through the service code and checks that the untouched store verifies.
func build(t *testing.T, s docket.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{s: s, agent: "agent@x.org"}
	s.(*sqlstore.Store).SetSigner(logKey(t))
	svc := workflow.New(workflow.Config{Store: s, Logger: quiet()})
	svc.Start(ctx)
	defer svc.Stop()
	key, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	a := &docket.Authority{Name: "Parquet", Country: "FR", Domains: []string{"police.example"}, AgeRecipient: key.Recipient().String()}
	if _, err := svc.RegisterAuthority(ctx, "test", a); err != nil {
		t.Fatal(err)
	}
	f.authorityID = a.ID
	u := &docket.User{Email: f.agent, Role: docket.RoleAgent}
	if _, err := svc.AddUser(ctx, "test", u); err != nil {
		t.Fatal(err)
	}
	// Sign-ins without password hashing (argon2id is slow, and this runs once per case of the
	// tables below): single sign-on gives the agent a console account and a session, and an
	// officer registers from the portal.
	accounts := account.New(account.Config{Store: s, Logger: quiet()})
	if _, _, err := accounts.SignInVerified(ctx, f.agent, "test-sso"); err != nil {
		t.Fatalf("single sign-on: %v", err)
	}
	if _, _, err := accounts.Register(ctx, a, "officer@police.example", "Officer", "self"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		res, err := svc.Submit(ctx, &workflow.Submission{
			Channel: docket.ChannelAPI, Authority: a, Raw: []byte(`{"n":` + string(rune('0'+i)) + `}`),
			Body: docket.RequestBody{Regime: "eu-tco-removal", Kind: docket.KindRemoval, Reference: "R",
				Targets: []docket.Target{{Kind: "username", Value: "@suspect" + string(rune('0'+i))}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.caseID, f.reqID = res.Receipt.CaseID, res.Receipt.ID
		}
		for _, act := range []workflow.Action{{Type: "assign"}, {Type: "decide", Outcome: "comply", Statement: "removed"}, {Type: "answer", Text: "done"}} {
			if _, _, err := svc.Act(ctx, u, res.Receipt.CaseID, act); err != nil {
				t.Fatal(err)
			}
		}
	}
	letter := []byte("%PDF-1.4 a letter")
	f.attachment = workflow.SHA256(letter)
	res, err := svc.Submit(ctx, &workflow.Submission{
		Channel: docket.ChannelEmail, Raw: []byte("From: someone@elsewhere.example\r\n\r\nA threat to life."),
		Body: docket.RequestBody{Regime: "eu-tco-removal", Kind: docket.KindRemoval, Description: "A threat to life.",
			Targets:     []docket.Target{{Kind: "username", Value: "@threat"}},
			Attachments: []docket.Attachment{{SHA256: f.attachment, Filename: "letter.pdf", ContentType: "application/pdf", Size: int64(len(letter))}},
			Email:       &docket.Email{From: "someone@elsewhere.example", Sender: docket.SenderCheck{Level: docket.SenderUnverified, Domain: "elsewhere.example"}}},
		Blobs:     []docket.Blob{{SHA256: f.attachment, Data: letter}},
		Sender:    docket.SenderUnverified,
		FollowUps: []string{"mail.receipt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.openCase, f.mailReq = res.Receipt.CaseID, res.Receipt.ID
	pkg := []byte("age-encrypted package")
	f.pkg = workflow.SHA256(pkg)
	err = svc.Change(ctx, f.openCase, docket.ActorPlatform, func(tx docket.Tx, _ *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
		if err := tx.InsertBlob(ctx, &docket.Blob{SHA256: f.pkg, Data: pkg}); err != nil {
			return err
		}
		_, err := rec(docket.EventPackageReady, docket.PackageReady{Blob: f.pkg, SHA256: f.pkg, Size: len(pkg), Items: 1, Recipient: a.AgeRecipient})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Two removals carried out on the platform: their statements of reasons queued for the
	// Transparency Database, then one accepted and one refused.
	res, err = svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte(`{"n":"removals"}`),
		Body: docket.RequestBody{Regime: "eu-tco-removal", Kind: docket.KindRemoval, Reference: "T",
			Targets: []docket.Target{{Kind: "message", Value: "https://ref.example/m/2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	removals := res.Receipt.CaseID
	if _, _, err := svc.Act(ctx, u, removals, workflow.Action{Type: "decide", Outcome: "comply", Statement: "remove"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"2", "3"} {
		if _, _, err := svc.Act(ctx, u, removals, workflow.Action{Type: docket.OpRemove, Target: &docket.Target{Kind: "message", Value: "https://ref.example/m/" + m},
			Reasons: &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "Regulation (EU) 2021/784", Explanation: "Terrorist content.", Facts: "Order T."}}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Case(ctx, removals)
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range c.Actions {
		err := svc.Change(ctx, removals, docket.ActorPlatform, func(tx docket.Tx, cs *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
			if _, err := rec(docket.EventActionDone, docket.ActionDone{Action: act.Seq, Op: act.Op, EffectiveAt: svc.Now()}); err != nil {
				return err
			}
			return svc.QueueStatement(ctx, tx, cs, act.Seq, time.Time{})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sent, err := s.ClaimStatements(ctx, svc.Now().Add(time.Hour), 10, time.Minute)
	if err != nil || len(sent) != 2 {
		t.Fatalf("claimed %d statements: %v", len(sent), err)
	}
	f.accepted, f.refused = sent[0].PUID, sent[1].PUID
	if err := svc.RecordStatements(ctx, []workflow.StatementOutcome{{Statement: sent[0], Accepted: true, ID: "4b989c23-3736-4fd9-8612-a975b98d88d6"},
		{Statement: sent[1], Status: 422, Error: `{"message":"The selected category is invalid."}`}}); err != nil {
		t.Fatal(err)
	}
	// A hash bank: two batches added, one hash withdrawn, disabled and enabled again; and an
	// empty bank.
	if _, err := svc.CreateBank(ctx, "test", workflow.BankSpec{Name: "csam", Source: "a hotline", Category: "csam"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateBank(ctx, "test", workflow.BankSpec{Name: "empty", Source: "nobody", Category: "terrorism"}); err != nil {
		t.Fatal(err)
	}
	f.liveHash, f.withdrawnHash = strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	for _, batch := range [][]docket.BankHash{
		{{Kind: docket.HashPDQ, Hash: f.liveHash, Quality: 90}, {Kind: docket.HashPDQ, Hash: f.withdrawnHash, Quality: -1}},
		{{Kind: docket.HashSHA256, Hash: strings.Repeat("ef", 32), Quality: -1}, {Kind: docket.HashMD5, Hash: strings.Repeat("12", 16), Quality: -1}},
	} {
		if _, err := svc.AddBankHashes(ctx, "test", "csam", batch, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.WithdrawBankHashes(ctx, "test", "csam", []docket.BankHash{{Kind: docket.HashPDQ, Hash: f.withdrawnHash, Quality: -1}}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		if _, err := svc.SetBankEnabled(ctx, "test", "csam", on); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := audit.Verify(ctx, s, 0, ""); err != nil {
		t.Fatalf("untouched store fails verification: %v", err)
	}
	return f
}

// filled returns a store built by build, and the ids of the first case and its request.
func filled(t *testing.T, engine string) (docket.Store, string, string) {
	t.Helper()
	f := build(t, storetest.Open(t, engine))
	return f.s, f.caseID, f.reqID
}

func exec(t *testing.T, s docket.Store, q string, args ...any) {
	t.Helper()
	st := s.(*sqlstore.Store)
	if _, err := st.DB().ExecContext(context.Background(), st.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, s docket.Store, caseID, reqID string)
		want   string // in the problem
		seq    bool   // the problem names an event
	}{
		{"edited event", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `UPDATE events SET actor = 'user:someone-else' WHERE seq = 5`)
		}, "event 5", true},
		{"edited time", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `UPDATE events SET at = at + 1 WHERE seq = 7`)
		}, "event 7", true},
		{"deleted event", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `DELETE FROM events WHERE seq = 6`)
		}, "missing", true},
		{"deleted whole case", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `DELETE FROM targets WHERE case_id = ?`, c)
			exec(t, s, `DELETE FROM requests WHERE case_id = ?`, c)
			exec(t, s, `DELETE FROM events WHERE case_id = ?`, c)
			exec(t, s, `DELETE FROM cases WHERE id = ?`, c)
		}, "missing", true},
		{"reordered events", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `UPDATE events SET seq = -1 WHERE seq = 8`)
			exec(t, s, `UPDATE events SET seq = 8 WHERE seq = 9`)
			exec(t, s, `UPDATE events SET seq = 9 WHERE seq = -1`)
		}, "event 8", true},
		{"cut off the end, head moved back", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)`)
		}, "head", false},
		{"raw request changed", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `UPDATE requests SET raw = ? WHERE id = ?`, []byte(`{"n":9}`), r)
		}, "raw body", false},
		{"request hash rewritten too", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `UPDATE requests SET raw = ?, sha256 = ? WHERE id = ?`, []byte(`{}`), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", r)
		}, "differs from the one its receipt event recorded", false},
		{"request moved to another case", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `UPDATE requests SET case_id = (SELECT MAX(id) FROM cases) WHERE id = ?`, r)
		}, "its events put it in case", false},
		{"case state changed", func(t *testing.T, s docket.Store, c, r string) {
			exec(t, s, `UPDATE cases SET doc = REPLACE(doc, '"state":"answered"', '"state":"open"') WHERE id = ?`, c)
		}, "stored state differs", false},
	}
	for _, engine := range storetest.Engines {
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				s, c, r := filled(t, engine)
				tt.tamper(t, s, c, r)
				_, err := audit.Verify(context.Background(), s, 0, "")
				if err == nil {
					t.Fatal("tampering went unnoticed")
				}
				p, ok := err.(*audit.Problem)
				if !ok {
					t.Fatalf("want an *audit.Problem, got %T %v", err, err)
				}
				if !strings.Contains(err.Error(), tt.want) || (tt.seq && p.Seq == 0) {
					t.Fatalf("problem %q: want it to mention %q (names an event: %v)", err, tt.want, tt.seq)
				}
			})
		}
	}
}

// TestVerifyExpectedHead: a head recorded outside the database catches a cut-off end even
// when the attacker also moved the stored head back.
func TestVerifyExpectedHead(t *testing.T) {
	t.Parallel()
	s, _, _ := filled(t, "sqlite")
	ctx := context.Background()
	seq, hash, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(ctx, s, seq, hash); err != nil {
		t.Fatalf("verify with the true head: %v", err)
	}
	if _, err := audit.Verify(ctx, s, seq, strings.Repeat("0", 64)); err == nil {
		t.Fatal("a wrong recorded head went unnoticed")
	}
	exec(t, s, `DELETE FROM events WHERE seq = ?`, seq)
	var prevHash string
	s.ScanEvents(ctx, func(e *docket.Event) error { prevHash = e.Hash; return nil })
	exec(t, s, `UPDATE audit_head SET seq = ?, hash = ?`, seq-1, prevHash)
	_, err = audit.Verify(ctx, s, seq, hash)
	if err == nil || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("truncation with a moved head: %v", err)
	}
}

func TestHashCoversEveryField(t *testing.T) {
	t.Parallel()
	base := docket.Event{Seq: 3, CaseID: "c", Type: "commented", Actor: "user:u", At: time.Unix(100, 0), Data: []byte(`{"text":"a"}`)}
	h0 := audit.Hash("prev", &base)
	mut := []func(e *docket.Event){
		func(e *docket.Event) { e.Seq = 4 },
		func(e *docket.Event) { e.CaseID = "d" },
		func(e *docket.Event) { e.Type = "answered" },
		func(e *docket.Event) { e.Actor = "user:v" },
		func(e *docket.Event) { e.At = e.At.Add(time.Microsecond) },
		func(e *docket.Event) { e.Data = []byte(`{"text":"b"}`) },
		// Moving bytes between fields must change the hash too.
		func(e *docket.Event) { e.CaseID, e.Type = "cc", "ommented" },
	}
	for i, m := range mut {
		e := base
		m(&e)
		if audit.Hash("prev", &e) == h0 {
			t.Errorf("mutation %d leaves the hash unchanged", i)
		}
	}
	if audit.Hash("other", &base) == h0 {
		t.Error("the predecessor's hash is not covered")
	}
}

// TestVerifyCoversWhatGrantsPower: each edit of a table behind docket's back, one SQL
// statement, is caught by verify on both engines, and the problem names the table and what
// is wrong.
func TestVerifyCoversWhatGrantsPower(t *testing.T) {
	tests := []struct {
		name   string
		tamper string // SQL; ? placeholders take args(f)
		args   func(f *fixture) []any
		table  string // the table the problem names
		want   string // in the problem
	}{
		{"request body: sender level raised", `UPDATE requests SET body = REPLACE(body, '"level":"unverified"', '"level":"registered"') WHERE id = ?`,
			func(f *fixture) []any { return []any{f.mailReq} }, "requests", "normalised body"},
		{"request authority", `UPDATE requests SET authority_id = ? WHERE id = ?`,
			func(f *fixture) []any { return []any{f.authorityID, f.mailReq} }, "requests", "its authority is"},
		{"request time of receipt", `UPDATE requests SET received_at = received_at - 86400000000 WHERE id = ?`,
			func(f *fixture) []any { return []any{f.reqID} }, "requests", "time of receipt"},
		{"request channel", `UPDATE requests SET channel = 'portal' WHERE id = ?`,
			func(f *fixture) []any { return []any{f.reqID} }, "requests", "channel"},
		{"attachment bytes", `UPDATE blobs SET data = ? WHERE sha256 = ?`,
			func(f *fixture) []any { return []any{[]byte("%PDF-1.4 another letter"), f.attachment} }, "blobs", "do not match its SHA-256"},
		{"package bytes", `UPDATE blobs SET data = ? WHERE sha256 = ?`,
			func(f *fixture) []any { return []any{[]byte("other package"), f.pkg} }, "blobs", "do not match its SHA-256"},
		{"package deleted", `DELETE FROM blobs WHERE sha256 = ?`,
			func(f *fixture) []any { return []any{f.pkg} }, "blobs", "disclosure package of event"},
		{"attachment deleted", `DELETE FROM blobs WHERE sha256 = ?`,
			func(f *fixture) []any { return []any{f.attachment} }, "blobs", `attachment "letter.pdf"`},
		{"users.role agent to admin", `UPDATE users SET role = 'admin' WHERE email = ?`,
			func(f *fixture) []any { return []any{f.agent} }, "users", `role is "admin" but the chain says "agent"`},
		{"users.token_hash", `UPDATE users SET token_hash = ? WHERE email = ?`,
			func(f *fixture) []any { return []any{strings.Repeat("ab", 32), f.agent} }, "users", "API token hash"},
		{"user deleted", `DELETE FROM users WHERE email = ?`,
			func(f *fixture) []any { return []any{f.agent} }, "users", "deleted from the table"},
		{"user added behind docket's back", `INSERT INTO users (id, email, role, token_hash, created_at) VALUES ('u-forged', 'forged@x.org', 'admin', 'forged', 0)`,
			nil, "users", "no event of the chain added this user"},
		{"authority domains", `UPDATE authorities SET domains = '["police.example","evil.example"]' WHERE id = ?`,
			func(f *fixture) []any { return []any{f.authorityID} }, "authorities", "domains are"},
		{"authority age_recipient", `UPDATE authorities SET age_recipient = 'age1attackerkey' WHERE id = ?`,
			func(f *fixture) []any { return []any{f.authorityID} }, "authorities", "age_recipient is"},
		{"authority token_hash", `UPDATE authorities SET token_hash = 'forged' WHERE id = ?`,
			func(f *fixture) []any { return []any{f.authorityID} }, "authorities", "API token hash"},
		{"login password", `UPDATE logins SET password_hash = 'forged' WHERE email = ?`,
			func(f *fixture) []any { return []any{f.agent} }, "logins", "[password]"},
		{"login second factor", `UPDATE logins SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE email = ?`,
			func(f *fixture) []any { return []any{f.agent} }, "logins", "[totp]"},
		{"officer moved to another authority", `UPDATE logins SET authority_id = 'other' WHERE email = 'officer@police.example'`,
			nil, "logins", "[authority_id]"},
		{"login status", `UPDATE logins SET status = 'awaiting_approval' WHERE email = 'officer@police.example'`,
			nil, "logins", "[status]"},
		{"login deleted", `DELETE FROM logins WHERE email = ?`,
			func(f *fixture) []any { return []any{f.agent} }, "logins", "deleted from the table"},
		{"session forged", `INSERT INTO sessions (hash, login_id, created_at, expires_at) SELECT 'forged', id, 0, 9000000000000000 FROM logins WHERE email = ?`,
			func(f *fixture) []any { return []any{f.agent} }, "sessions", "no event of the chain opened it"},
		{"session moved to another account", `UPDATE sessions SET login_id = 'someone-else'`,
			nil, "sessions", "was opened for account"},
		{"session made longer", `UPDATE sessions SET expires_at = expires_at + 86400000000`,
			nil, "sessions", "lifetime"},
		{"target changed", `UPDATE targets SET value = '@someone-else' WHERE request_id = ?`,
			func(f *fixture) []any { return []any{f.reqID} }, "targets", "differ from those its receipt event recorded"},
		{"target deleted", `DELETE FROM targets WHERE request_id = ?`,
			func(f *fixture) []any { return []any{f.mailReq} }, "targets", "differ from those its receipt event recorded"},
		{"target moved to another case", `UPDATE targets SET case_id = ? WHERE request_id = ?`,
			func(f *fixture) []any { return []any{f.caseID, f.mailReq} }, "targets", "is filed under case"},
		{"job pointed at another request", `UPDATE jobs SET payload = '{"request_id":"forged","case_id":"forged"}' WHERE kind = 'mail.receipt'`,
			nil, "jobs", "which the chain does not hold"},
		{"job forged for an event", `INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts, locked_until, last_error, created_at) VALUES ('platform.action', '{"case_id":"` + "%CASE%" + `","seq":1}', 'pending', 0, 0, 1, 0, '', 0)`,
			nil, "jobs", "not an event of its case"},
		{"cases.pending set to 0 (overdue gauge)", `UPDATE cases SET pending = 0 WHERE id = ?`,
			func(f *fixture) []any { return []any{f.openCase} }, "cases", "column pending"},
		{"cases.state", `UPDATE cases SET state = 'answered' WHERE id = ?`,
			func(f *fixture) []any { return []any{f.openCase} }, "cases", "column state"},
		{"cases.deadline_at", `UPDATE cases SET deadline_at = deadline_at + 86400000000 WHERE id = ?`,
			func(f *fixture) []any { return []any{f.openCase} }, "cases", "column deadline_at"},
		{"cases.emergency", `UPDATE cases SET emergency = 1 WHERE id = ?`,
			func(f *fixture) []any { return []any{f.openCase} }, "cases", "column emergency"},
		{"cases.answered_at", `UPDATE cases SET answered_at = 0 WHERE id = ?`,
			func(f *fixture) []any { return []any{f.caseID} }, "cases", "column answered_at"},
		{"cases.queue", `UPDATE cases SET queue = 'later' WHERE id = ?`,
			func(f *fixture) []any { return []any{f.openCase} }, "cases", "column queue"},
		{"statement refused made accepted", `UPDATE statements SET state = 'accepted', remote_id = 'forged' WHERE puid = ?`,
			func(f *fixture) []any { return []any{f.refused} }, "statements", `its state is "accepted" but its events make it "refused"`},
		{"statement's id at the database", `UPDATE statements SET remote_id = 'forged' WHERE puid = ?`,
			func(f *fixture) []any { return []any{f.accepted} }, "statements", "the database's id"},
		{"statement's refusal rewritten", `UPDATE statements SET error = 'nothing' WHERE puid = ?`,
			func(f *fixture) []any { return []any{f.refused} }, "statements", "its refusal reads"},
		{"statement rewritten", `UPDATE statements SET payload = REPLACE(payload, 'Order T.', 'Order U.') WHERE puid = ?`,
			func(f *fixture) []any { return []any{f.accepted} }, "statements", "differs from the one its statement_queued event recorded"},
		{"statement moved to another case", `UPDATE statements SET case_id = ? WHERE puid = ?`,
			func(f *fixture) []any { return []any{f.caseID, f.accepted} }, "statements", "is filed under action"},
		{"statement deleted", `DELETE FROM statements WHERE puid = ?`,
			func(f *fixture) []any { return []any{f.refused} }, "statements", "was queued by an event of the chain but is gone"},
		{"statement added behind docket's back", `INSERT INTO statements (puid, case_id, action, payload, state, remote_id, error, queued_at, decided_at, attempts, next_at, locked_until, last_error)
			VALUES ('forged', ?, 1, '{}', 'pending', '', '', 0, 0, 0, 0, 0, '')`,
			func(f *fixture) []any { return []any{f.caseID} }, "statements", "no statement_queued event"},
		{"bank disabled", `UPDATE banks SET enabled = 0 WHERE name = 'csam'`, nil, "banks", "enabled is false but its events make it true"},
		{"bank's DSA category", `UPDATE banks SET dsa_category = 'STATEMENT_CATEGORY_SCAMS_AND_FRAUD' WHERE name = 'csam'`, nil, "banks", "differ from the chain's"},
		{"bank's count of hashes", `UPDATE banks SET hashes = hashes + 1 WHERE name = 'csam'`, nil, "banks", "counts 4 live hashes but its events make it 3"},
		{"bank deleted", `DELETE FROM banks WHERE name = 'empty'`, nil, "banks", "is in the chain but was deleted"},
		{"bank inserted", `INSERT INTO banks (id, name, source, category, dsa_category, action, enabled, created_by, created_at, changed_seq, hashes)
			VALUES ('forged', 'forged', 'x', 'x', 'STATEMENT_CATEGORY_SCAMS_AND_FRAUD', 'review', 1, 'cli', 0, 1, 0)`, nil, "banks", "no bank_created event"},
		{"bank hash changed", `UPDATE bank_hashes SET hash = ? WHERE hash = ?`,
			func(f *fixture) []any { return []any{strings.Repeat("ba", 32), f.liveHash} }, "bank_hashes", "differ from the 2 it recorded"},
		{"bank hash's quality", `UPDATE bank_hashes SET quality = 10 WHERE hash = ?`,
			func(f *fixture) []any { return []any{f.liveHash} }, "bank_hashes", "differ from the 2 it recorded"},
		{"bank hash deleted", `DELETE FROM bank_hashes WHERE hash = ?`,
			func(f *fixture) []any { return []any{f.liveHash} }, "bank_hashes", "are 1 rows that differ from the 2 it recorded"},
		{"bank hash inserted into a batch", `INSERT INTO bank_hashes (bank_id, kind, hash, quality, added_seq, added_by, added_at, withdrawn_seq, withdrawn_by, withdrawn_at)
			SELECT bank_id, kind, ?, quality, added_seq, added_by, added_at, 0, '', 0 FROM bank_hashes WHERE hash = ?`,
			func(f *fixture) []any { return []any{strings.Repeat("99", 32), f.liveHash} }, "bank_hashes", "are 3 rows that differ from the 2"},
		{"withdrawn hash brought back", `UPDATE bank_hashes SET withdrawn_seq = 0, withdrawn_by = '', withdrawn_at = 0 WHERE hash = ?`,
			func(f *fixture) []any { return []any{f.withdrawnHash} }, "bank_hashes", "withdrew (bank csam) are 0 rows"},
		{"bank hash moved to another bank", `UPDATE bank_hashes SET bank_id = (SELECT id FROM banks WHERE name = 'empty') WHERE hash = ?`,
			func(f *fixture) []any { return []any{f.liveHash} }, "bank_hashes", "not to this one"},
		{"case_counts (the stats by state)", `UPDATE case_counts SET n = n + 5 WHERE state = 'open'`,
			nil, "case_counts", "cases counted in state open"},
		// A case's stored state given another case's id: actions on the row would record
		// their events on the other case (found by an outside review).
		{"cases.doc given another case's id", `UPDATE cases SET doc = REPLACE(doc, '"id":"' || id || '"', '"id":"' || ? || '"') WHERE id = ?`,
			func(f *fixture) []any { return []any{f.caseID, f.openCase} }, "cases", "holds the state of case"},
	}
	for _, engine := range storetest.Engines {
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := build(t, storetest.Open(t, engine))
				var args []any
				if tt.args != nil {
					args = tt.args(f)
				}
				exec(t, f.s, strings.ReplaceAll(tt.tamper, "%CASE%", f.openCase), args...)
				_, err := audit.Verify(context.Background(), f.s, 0, "")
				var p *audit.Problem
				if !errors.As(err, &p) {
					t.Fatalf("tampering went unnoticed or unnamed: %v", err)
				}
				if p.Table != tt.table || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("problem %q (table %q): want table %q and %q", err, p.Table, tt.table, tt.want)
				}
			})
		}
	}
}

// TestVerifyLeavesCountersOutside: what changes at every sign-in (failures, lock, last code
// step) and how a job is scheduled are outside the proof: editing them is no problem.
func TestVerifyLeavesCountersOutside(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := build(t, storetest.Open(t, engine))
			ctx := context.Background()
			// The console account gets a password (an event), then a wrong one is tried: the
			// counters change, with no event.
			accounts := account.New(account.Config{Store: f.s, Logger: quiet()})
			u, err := accounts.StaffByEmail(ctx, f.agent)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := accounts.AddStaff(ctx, u); err != nil {
				t.Fatal(err)
			}
			if _, _, err := accounts.SignIn(ctx, docket.LoginStaff, f.agent, "wrong password", "000000"); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
				t.Fatalf("wrong sign-in: %v", err)
			}
			if _, err := audit.Verify(ctx, f.s, 0, ""); err != nil {
				t.Fatalf("after a new password and a failed sign-in: %v", err)
			}
			exec(t, f.s, `UPDATE logins SET failures = 4, locked_until = 0, totp_step = 7`)
			exec(t, f.s, `UPDATE jobs SET run_at = run_at + 1000000, attempts = 3, last_error = 'relay down'`)
			exec(t, f.s, `UPDATE statements SET next_at = next_at + 1000000, attempts = 9, locked_until = 5, last_error = 'database down'`)
			if _, err := audit.Verify(context.Background(), f.s, 0, ""); err != nil {
				t.Fatalf("counters outside the proof fail verification: %v", err)
			}
		})
	}
}

// TestVerifyNeedsMigratedSchema: verify never migrates; a database without this version's
// migrations (here: without the credentials baseline) is refused, not half-checked.
func TestVerifyNeedsMigratedSchema(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, engine)
			exec(t, s, `DELETE FROM schema_migrations WHERE version = 1000`)
			_, err := audit.Verify(context.Background(), s, 0, "")
			if err == nil || !strings.Contains(err.Error(), "docket migrate") {
				t.Fatalf("verify of an unmigrated store: %v", err)
			}
		})
	}
}

// TestBaselineCoversOldStores: a store written by a version that did not record staff,
// authorities and sign-ins as events gets a credentials_baseline event when this version
// first opens it; it verifies, and later edits of those rows are caught.
func TestBaselineCoversOldStores(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var open func() docket.Store
			switch engine {
			case "sqlite":
				dir := t.TempDir()
				open = func() docket.Store {
					s, err := sqlite.Open(ctx, dir, quiet())
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
			default:
				u := storetest.PostgresURL(t)
				open = func() docket.Store {
					s, err := postgres.Open(ctx, u, quiet())
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
			}
			s := open()
			// What an older version left: rows without events, and no baseline yet.
			err := s.Update(ctx, func(tx docket.Tx) error {
				if err := tx.InsertAuthority(ctx, &docket.Authority{ID: "a1", Name: "Police", Country: "FR", Domains: []string{"police.example"}, CreatedAt: time.Now()}, "hash-a"); err != nil {
					return err
				}
				return tx.InsertUser(ctx, &docket.User{ID: "u1", Email: "old@x.org", Role: docket.RoleAgent, CreatedAt: time.Now()}, "hash-u")
			})
			if err != nil {
				t.Fatal(err)
			}
			exec(t, s, `INSERT INTO logins (id, kind, email, name, authority_id, status, password_hash, totp_secret, totp_step, failures, locked_until, confirm_hash, confirm_expires, created_by, approved_by, created_at)
				VALUES ('u1', 'staff', 'old@x.org', '', '', 'active', 'phc', 'SECRET', 0, 0, 0, '', 0, 'cli', '', 0)`)
			exec(t, s, `DELETE FROM schema_migrations WHERE version = 1000`)
			s.Close()

			s = open()
			rep, err := audit.Verify(ctx, s, 0, "")
			if err != nil {
				t.Fatalf("old store after its baseline: %v", err)
			}
			if rep.Users != 1 || rep.Authorities != 1 || rep.Logins != 1 || rep.Events != 1 {
				t.Fatalf("report %+v: want the baseline event and one user, authority and login", rep)
			}
			s.Close()
			s = open() // a second start records no second baseline
			if rep, err := audit.Verify(ctx, s, 0, ""); err != nil || rep.Events != 1 {
				t.Fatalf("after a restart: %+v, %v", rep, err)
			}
			defer s.Close()
			exec(t, s, `UPDATE users SET role = 'admin'`)
			if _, err := audit.Verify(ctx, s, 0, ""); err == nil || !strings.Contains(err.Error(), `role is "admin"`) {
				t.Fatalf("role raised after the baseline: %v", err)
			}
		})
	}
}

// TestVerifyReadOnly: verify opens the database read-only: it runs on a copy that cannot be
// written, changes nothing, cannot write, and refuses a place that holds no database instead
// of creating one.
func TestVerifyReadOnly(t *testing.T) {
	ctx := context.Background()
	mustFail := func(t *testing.T, s docket.Store) {
		t.Helper()
		err := s.Update(ctx, func(tx docket.Tx) error {
			return tx.Append(ctx, docket.NewEvent("", docket.EventUserAdded, "test", time.Now(), docket.UserAdded{}))
		})
		if err == nil {
			t.Fatal("a write through the read-only store succeeded")
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s, err := sqlite.Open(ctx, dir, quiet())
		if err != nil {
			t.Fatal(err)
		}
		build(t, s)
		s.Close()
		// A copy of the database file alone, in a folder that cannot be written.
		cp := filepath.Join(t.TempDir(), "copy")
		if err := os.Mkdir(cp, 0o700); err != nil {
			t.Fatal(err)
		}
		db, err := os.ReadFile(filepath.Join(dir, sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cp, sqlite.FileName), db, 0o400); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(cp, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(cp, 0o700) })
		ro, err := sqlite.OpenReadOnly(ctx, cp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := audit.Verify(ctx, ro, 0, ""); err != nil {
			t.Fatalf("verify of a read-only copy: %v", err)
		}
		mustFail(t, ro)
		ro.Close()
		after, err := os.ReadFile(filepath.Join(cp, sqlite.FileName))
		if err != nil || !bytes.Equal(after, db) {
			t.Fatalf("the copy changed (%v)", err)
		}

		none := filepath.Join(t.TempDir(), "none")
		if _, err := sqlite.OpenReadOnly(ctx, none); err == nil || !strings.Contains(err.Error(), "no docket database") {
			t.Fatalf("read-only open of a missing folder: %v", err)
		}
		if _, err := os.Stat(none); !os.IsNotExist(err) {
			t.Fatalf("the missing folder was created: %v", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := storetest.PostgresURL(t)
		ro, err := postgres.OpenReadOnly(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		// An empty schema: refused, and nothing is created in it.
		if _, err := audit.Verify(ctx, ro, 0, ""); err == nil || !strings.Contains(err.Error(), "no docket schema") {
			t.Fatalf("verify of an empty database: %v", err)
		}
		var tables int
		if err := ro.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("verify created %d tables (%v)", tables, err)
		}
		s, err := postgres.Open(ctx, u, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		build(t, s)
		rep, err := audit.Verify(ctx, ro, 0, "")
		if err != nil {
			t.Fatalf("read-only verify: %v", err)
		}
		mustFail(t, ro)
		if again, err := audit.Verify(ctx, ro, 0, ""); err != nil || again.Events != rep.Events {
			t.Fatalf("after the refused write: %+v, %v", again, err)
		}
	})
}

// TestVerifyFollowsStaffChanges: a role, an API token, an authority's domains and age key
// changed through the service are events; the store verifies after them, the old token stops
// working, and an edit that undoes a change behind docket's back is caught.
func TestVerifyFollowsStaffChanges(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := build(t, storetest.Open(t, engine))
			svc := workflow.New(workflow.Config{Store: f.s, Logger: quiet()})
			users, err := f.s.Users(ctx)
			if err != nil || len(users) != 1 {
				t.Fatalf("users: %v, %v", users, err)
			}
			token, err := svc.ChangeUser(ctx, "test", users[0].ID, workflow.UserChange{Role: docket.RoleReviewer, RotateToken: true})
			if err != nil {
				t.Fatal(err)
			}
			if u, err := f.s.UserByToken(ctx, docket.HashToken(token)); err != nil || u.Role != docket.RoleReviewer {
				t.Fatalf("user by the new token: %+v, %v", u, err)
			}
			none := ""
			if _, err := svc.ChangeAuthority(ctx, "test", f.authorityID, workflow.AuthorityChange{Domains: []string{"Police.example", "justice.example"}, AgeRecipient: &none}); err != nil {
				t.Fatal(err)
			}
			if a, err := f.s.Authority(ctx, f.authorityID); err != nil || len(a.Domains) != 2 || a.Domains[1] != "justice.example" || a.AgeRecipient != "" {
				t.Fatalf("changed authority: %+v, %v", a, err)
			}
			if _, err := svc.ChangeUser(ctx, "test", "nobody", workflow.UserChange{Role: docket.RoleAdmin}); docket.ErrorCode(err) != docket.ENOTFOUND {
				t.Fatalf("change of an unknown user: %v", err)
			}
			if _, err := audit.Verify(ctx, f.s, 0, ""); err != nil {
				t.Fatalf("after changes through the service: %v", err)
			}
			exec(t, f.s, `UPDATE users SET role = 'agent'`)
			if _, err := audit.Verify(ctx, f.s, 0, ""); err == nil || !strings.Contains(err.Error(), `role is "agent" but the chain says "reviewer"`) {
				t.Fatalf("role set back behind docket's back: %v", err)
			}
		})
	}
}

// TestVerifySnapshot: verify reads one snapshot (as docket audit verify does), so that a
// server writing meanwhile does not make the tables disagree with the chain it read.
func TestVerifySnapshot(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := build(t, storetest.Open(t, engine))
			view, end, err := f.s.(*sqlstore.Store).Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer end()
			seq, _, err := view.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// A write after the snapshot began: a new case, its events and rows.
			svc := workflow.New(workflow.Config{Store: f.s, Logger: quiet()})
			svc.Start(ctx)
			a, err := f.s.Authority(ctx, f.authorityID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte(`{"later":1}`),
				Body: docket.RequestBody{Regime: "eu-tco-removal", Kind: docket.KindRemoval, Reference: "LATER"}}); err != nil {
				t.Fatal(err)
			}
			svc.Stop()
			rep, err := audit.Verify(ctx, view, 0, "")
			if err != nil || rep.HeadSeq != seq {
				t.Fatalf("verify of the snapshot: %+v, %v (want head %d)", rep, err, seq)
			}
			if rep, err := audit.Verify(ctx, f.s, 0, ""); err != nil || rep.HeadSeq <= seq {
				t.Fatalf("verify of the store: %+v, %v", rep, err)
			}
		})
	}
}
