package mailin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/mailauth"
	"github.com/docket-dev/docket/mailmsg"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// TestSessionLimit: beyond the cap a connection is answered 421 and closed before any
// dialogue; a closed session frees its place. Counted in sessions, not timed.
func TestSessionLimit(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	svc := workflow.New(workflow.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	r, err := New(Config{Service: svc, Store: st, Domain: "docket.test", Logger: slog.New(slog.DiscardHandler),
		Verifier: &mailauth.Verifier{Resolver: emptyDNS{}, Official: mailauth.DefaultOfficial()}})
	if err != nil {
		t.Fatal(err)
	}
	limit := NewSessionLimit(2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := r.Server(false)
	go srv.Serve(limit.Listener(ln))
	t.Cleanup(func() { srv.Close() })

	greet := func() (net.Conn, string) {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		return c, line
	}
	var open []net.Conn
	for i := range 2 {
		c, line := greet()
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("session %d: %q, want 220", i+1, line)
		}
		open = append(open, c)
	}
	if n := limit.Active(); n != 2 {
		t.Fatalf("%d sessions counted, want 2", n)
	}
	for i := range 3 {
		c, line := greet()
		if !strings.HasPrefix(line, "421 ") {
			t.Errorf("session beyond the cap (%d): %q, want 421", i+3, line)
		}
		c.Close()
	}
	open[0].Close()
	for limit.Active() != 1 {
		runtime.Gosched() // until the server has closed its side
	}
	c, line := greet()
	if !strings.HasPrefix(line, "220 ") {
		t.Errorf("after one session ended: %q, want 220", line)
	}
	c.Close()
	open[1].Close()
}

// TestPDFBudgetOnTheCase: a message with more PDFs than its budget is kept whole, and its
// request says which files were not read, so that a person opens them.
func TestPDFBudgetOnTheCase(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	svc := workflow.New(workflow.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	svc.Start(context.Background())
	t.Cleanup(svc.Stop)
	reads := 0
	r, err := New(Config{Service: svc, Store: st, Domain: "docket.test", Logger: slog.New(slog.DiscardHandler),
		Verifier: &mailauth.Verifier{Resolver: emptyDNS{}, Official: mailauth.DefaultOfficial()},
		Limits: mailmsg.Limits{MaxPDFs: 2, PDFText: func(context.Context, []byte) (string, error) {
			reads++
			return "Requisition text", nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("From: officer@police.example\r\nTo: legal@docket.test\r\nSubject: PDFs\r\nMessage-ID: <pdfs@police.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n")
	for i := range 4 {
		fmt.Fprintf(&b, "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"p%d.pdf\"\r\n\r\n%%PDF-1.4\r\n%d\r\n", i, i)
	}
	b.WriteString("--b--\r\n")
	ctx := context.Background()
	if err := r.Deliver(ctx, Envelope{MailFrom: "officer@police.example", To: []string{"legal@docket.test"}}, []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	if reads != 2 {
		t.Errorf("%d PDFs read, want 2", reads)
	}
	cases, err := st.Cases(ctx, docket.CaseFilter{})
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases: %d, %v", len(cases), err)
	}
	req, err := st.FirstRequest(ctx, cases[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Body.Attachments) != 4 {
		t.Fatalf("%d attachments kept, want 4", len(req.Body.Attachments))
	}
	for i, a := range req.Body.Attachments {
		if (a.TextNotRead != "") != (i >= 2) {
			t.Errorf("attachment %d (%s): text_not_read %q", i, a.Filename, a.TextNotRead)
		}
	}
	if !strings.Contains(req.Body.Extracted, "[p3.pdf]\n(text not read") {
		t.Errorf("the request does not say which PDFs were not read:\n%s", req.Body.Extracted)
	}
}
