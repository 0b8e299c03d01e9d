package audit_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// filled returns a store holding three worked cases, and the ids of the first case and its request.
func filled(t *testing.T, engine string) (docket.Store, string, string) {
	t.Helper()
	ctx := context.Background()
	s := storetest.Open(t, engine)
	svc := workflow.New(workflow.Config{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	svc.Start(ctx)
	defer svc.Stop()
	a := &docket.Authority{Name: "Parquet", Country: "FR"}
	if _, err := svc.RegisterAuthority(ctx, "test", a); err != nil {
		t.Fatal(err)
	}
	u := &docket.User{Email: "agent@x.org", Role: docket.RoleAgent}
	if _, err := svc.AddUser(ctx, "test", u); err != nil {
		t.Fatal(err)
	}
	var firstCase, firstReq string
	for i := range 3 {
		res, err := svc.Submit(ctx, &workflow.Submission{
			Channel: docket.ChannelAPI, Authority: a, Raw: []byte(`{"n":` + string(rune('0'+i)) + `}`),
			Body: docket.RequestBody{Regime: "eu-tco-removal", Kind: docket.KindRemoval, Reference: "R"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			firstCase, firstReq = res.Receipt.CaseID, res.Receipt.ID
		}
		for _, act := range []workflow.Action{{Type: "assign"}, {Type: "decide", Outcome: "comply", Statement: "removed"}, {Type: "answer", Text: "done"}} {
			if _, _, err := svc.Act(ctx, u, res.Receipt.CaseID, act); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := audit.Verify(ctx, s, 0, ""); err != nil {
		t.Fatalf("untouched store fails verification: %v", err)
	}
	return s, firstCase, firstReq
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
