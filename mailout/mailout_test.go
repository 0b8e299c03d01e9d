package mailout

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// refusing is a relay that refuses every message for good.
type refusing struct{}

func (refusing) NewSession(*smtp.Conn) (smtp.Session, error) { return refusing{}, nil }
func (refusing) Mail(string, *smtp.MailOptions) error        { return nil }
func (refusing) Rcpt(string, *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
}
func (refusing) Data(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
func (refusing) Reset()                 {}
func (refusing) Logout() error          { return nil }

func TestFailures(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, "sqlite")
	svc := workflow.New(workflow.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	svc.Start(ctx)
	defer svc.Stop()
	res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelEmail, Raw: []byte("From: a@b.example\r\n\r\nhi"),
		ContentType: "message/rfc822", Sender: docket.SenderOfficial,
		Body: docket.RequestBody{Regime: "national-other", Kind: docket.KindOther, Description: "hi",
			Email: &docket.Email{From: "a@b.example", MessageID: "m1@b.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(workflow.FollowUp{RequestID: res.Receipt.ID, CaseID: res.Receipt.CaseID})

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := smtp.NewServer(refusing{})
	go srv.Serve(ln)
	defer srv.Close()
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close() // nothing listens there: the relay is down

	for _, tc := range []struct {
		name      string
		relay     Relay
		attempt   int
		wantErr   bool // the job is retried
		wantFinal bool
	}{
		{"relay down: retried", Relay{Addr: downAddr, Security: "none", From: "legal@docket.test"}, 1, true, false},
		{"relay down on the last attempt: final", Relay{Addr: downAddr, Security: "none", From: "legal@docket.test"}, 12, false, true},
		{"refused for good: final at once", Relay{Addr: ln.Addr().String(), Security: "none", From: "legal@docket.test"}, 1, false, true},
		{"STARTTLS required but not offered: retried", Relay{Addr: ln.Addr().String(), From: "legal@docket.test"}, 2, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Mailer{Service: svc, Store: st, Relay: tc.relay, Logger: slog.New(slog.DiscardHandler)}
			err := m.Receipt(ctx, &docket.Job{ID: 1, Kind: JobReceipt, Payload: payload, Attempts: tc.attempt, MaxAttempts: 12})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			events, _ := st.CaseEvents(ctx, res.Receipt.CaseID)
			last := events[len(events)-1]
			var f docket.MailFailed
			json.Unmarshal(last.Data, &f)
			if last.Type != docket.EventMailFailed || f.Final != tc.wantFinal || f.Attempt != tc.attempt || f.Error == "" {
				t.Fatalf("last event %s %+v", last.Type, f)
			}
			if !tc.wantFinal && f.NextAt == nil {
				t.Fatal("a retried failure does not say when the next attempt is")
			}
			if strings.Contains(string(last.Data), "acknowledged") {
				t.Fatal("acknowledged without a delivery")
			}
		})
	}
	c, _ := st.Case(ctx, res.Receipt.CaseID)
	if !c.AcknowledgedAt.IsZero() {
		t.Fatal("the case counts as acknowledged though no receipt was delivered")
	}

	// Once a person (or triage) says it is spam, no receipt is sent: no backscatter.
	u := &docket.User{ID: docket.NewID(), Email: "agent@platform.example", Role: docket.RoleAgent}
	spam := true
	if _, _, err := svc.Act(ctx, u, res.Receipt.CaseID, workflow.Action{Type: workflow.ActRetriage, Spam: &spam, Text: "spam"}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.CaseEvents(ctx, res.Receipt.CaseID)
	m := &Mailer{Service: svc, Store: st, Relay: Relay{Addr: downAddr, Security: "none", From: "legal@docket.test"}}
	if err := m.Receipt(ctx, &docket.Job{ID: 2, Kind: JobReceipt, Payload: payload, Attempts: 1, MaxAttempts: 12}); err != nil {
		t.Fatalf("receipt for spam: %v", err)
	}
	if after, _ := st.CaseEvents(ctx, res.Receipt.CaseID); len(after) != len(before) {
		t.Fatal("a receipt was attempted for spam")
	}
}

// counting is a relay that takes every message and counts them.
type counting struct{ n *atomic.Int32 }

func (c counting) NewSession(*smtp.Conn) (smtp.Session, error) { return c, nil }
func (counting) Mail(string, *smtp.MailOptions) error          { return nil }
func (counting) Rcpt(string, *smtp.RcptOptions) error          { return nil }
func (c counting) Data(r io.Reader) error {
	c.n.Add(1)
	_, err := io.Copy(io.Discard, r)
	return err
}
func (counting) Reset()        {}
func (counting) Logout() error { return nil }

// TestSentOnceAfterTakeover: a mail job whose node recorded the mail sent and died before
// finishing the job is taken over by another node, which must not send it again (found by
// docket-load chaos --effects: an answer mailed and recorded twice).
func TestSentOnceAfterTakeover(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, "sqlite")
	svc := workflow.New(workflow.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	svc.Start(ctx)
	defer svc.Stop()
	res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelEmail, Raw: []byte("From: a@b.example\r\n\r\nhi"),
		ContentType: "message/rfc822", Sender: docket.SenderOfficial,
		Body: docket.RequestBody{Regime: "national-other", Kind: docket.KindOther, Description: "hi",
			Email: &docket.Email{From: "a@b.example", MessageID: "m1@b.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	caseID := res.Receipt.CaseID
	var delivered atomic.Int32
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := smtp.NewServer(counting{&delivered})
	go srv.Serve(ln)
	defer srv.Close()
	m := &Mailer{Service: svc, Store: st, Relay: Relay{Addr: ln.Addr().String(), Security: "none", From: "legal@docket.test", Domain: "docket.test"},
		Logger: slog.New(slog.DiscardHandler)}
	sentEvents := func() int {
		events, _ := st.CaseEvents(ctx, caseID)
		n := 0
		for _, e := range events {
			if e.Type == docket.EventMailSent {
				n++
			}
		}
		return n
	}

	receipt, _ := json.Marshal(workflow.FollowUp{RequestID: res.Receipt.ID, CaseID: caseID})
	u := &docket.User{ID: docket.NewID(), Email: "agent@platform.example", Role: docket.RoleAgent}
	if _, _, err := svc.Act(ctx, u, caseID, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeRefuse, ReasonCode: "unverified_sender", Statement: "Not verified."}); err != nil {
		t.Fatal(err)
	}
	_, ev, err := svc.Act(ctx, u, caseID, workflow.Action{Type: workflow.ActAnswer, Text: "Please write from your official address."})
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := json.Marshal(workflow.MailAnswer{CaseID: caseID, Seq: ev.Seq})
	for i, job := range []struct {
		run func(context.Context, *docket.Job) error
		j   docket.Job
	}{
		{m.Receipt, docket.Job{ID: 7, Kind: JobReceipt, Payload: receipt, MaxAttempts: 12}},
		{m.Answer, docket.Job{ID: 8, Kind: JobAnswer, Payload: answer, MaxAttempts: 12}},
	} {
		for attempt := 1; attempt <= 2; attempt++ { // the second: the job taken over
			job.j.Attempts = attempt
			if err := job.run(ctx, &job.j); err != nil {
				t.Fatalf("%s attempt %d: %v", job.j.Kind, attempt, err)
			}
		}
		if n := delivered.Load(); n != int32(i+1) {
			t.Fatalf("%s: %d messages reached the relay, want %d", job.j.Kind, n, i+1)
		}
		if n := sentEvents(); n != i+1 {
			t.Fatalf("%s: mail_sent recorded %d times, want %d", job.j.Kind, n, i+1)
		}
	}
}
