package mailout

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
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
