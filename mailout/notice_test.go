package mailout

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// collecting is a relay that accepts every message and keeps it.
type collecting struct {
	mu   sync.Mutex
	to   []string
	msgs []string
}

func (c *collecting) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &collectingSession{c: c}, nil
}

type collectingSession struct {
	c  *collecting
	to string
}

func (s *collectingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *collectingSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *collectingSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.to, s.c.msgs = append(s.c.to, s.to), append(s.c.msgs, string(b))
	return err
}
func (s *collectingSession) Reset()        {}
func (s *collectingSession) Logout() error { return nil }

// TestNoticeReceipt: a notice with an address gets its receipt (DSA art. 16(4)); the case is
// acknowledged when it is delivered.
func TestNoticeReceipt(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, "sqlite")
	svc := workflow.New(workflow.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	svc.Start(ctx)
	defer svc.Stop()
	res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(`{"explanation":"x"}`), ContentType: "application/json",
		Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "x",
			Notifier: &docket.Notifier{Name: "Alex", Email: "alex@example.org", GoodFaith: true}}})
	if err != nil {
		t.Fatal(err)
	}
	relay := &collecting{}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := smtp.NewServer(relay)
	srv.AllowInsecureAuth = true
	go srv.Serve(ln)
	defer srv.Close()
	m := &Mailer{Service: svc, Store: st, Relay: Relay{Addr: ln.Addr().String(), Security: "none", From: "legal@docket.test"}, Logger: slog.New(slog.DiscardHandler)}
	payload, _ := json.Marshal(workflow.FollowUp{RequestID: res.Receipt.ID, CaseID: res.Receipt.CaseID})
	if err := m.Receipt(ctx, &docket.Job{ID: 7, Kind: JobReceipt, Payload: payload, Attempts: 1, MaxAttempts: 12}); err != nil {
		t.Fatal(err)
	}
	relay.mu.Lock()
	defer relay.mu.Unlock()
	if len(relay.msgs) != 1 || relay.to[0] != "alex@example.org" || !strings.Contains(relay.msgs[0], res.Receipt.CaseID) || !strings.Contains(relay.msgs[0], res.Receipt.SHA256) {
		t.Fatalf("receipt: to %v\n%v", relay.to, relay.msgs)
	}
	c, _ := st.Case(ctx, res.Receipt.CaseID)
	if c.AcknowledgedAt.IsZero() {
		t.Error("the notice is not acknowledged after its receipt was delivered")
	}
}
