package mailin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/mailauth"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

type fixture struct {
	store docket.Store
	addr  string
	lmtp  string
}

// failing is a store whose writes fail, as when the disk is full or the database is down.
type failing struct {
	docket.Store
	fail bool
}

func (f *failing) Update(ctx context.Context, fn func(docket.Tx) error) error {
	if f.fail {
		return errors.New("disk full")
	}
	return f.Store.Update(ctx, fn)
}

func setup(t *testing.T, cfg Config) (*fixture, *failing) {
	t.Helper()
	st := &failing{Store: storetest.Open(t, "sqlite")}
	svc := workflow.New(workflow.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	svc.Start(context.Background())
	t.Cleanup(svc.Stop)
	cfg.Service, cfg.Store, cfg.Domain, cfg.Logger = svc, st, "docket.test", slog.New(slog.DiscardHandler)
	cfg.Verifier = &mailauth.Verifier{Resolver: emptyDNS{}, Official: mailauth.DefaultOfficial()}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st}
	for _, lmtp := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := r.Server(lmtp)
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		if lmtp {
			f.lmtp = ln.Addr().String()
		} else {
			f.addr = ln.Addr().String()
		}
	}
	return f, st
}

// emptyDNS answers every question with "no such name": senders stay unverified.
type emptyDNS struct{}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}
func (emptyDNS) LookupTXT(_ context.Context, n string) ([]string, error) { return nil, notFound(n) }
func (emptyDNS) LookupMX(_ context.Context, n string) ([]*net.MX, error) { return nil, notFound(n) }
func (emptyDNS) LookupIPAddr(_ context.Context, n string) ([]net.IPAddr, error) {
	return nil, notFound(n)
}
func (emptyDNS) LookupAddr(_ context.Context, n string) ([]string, error) { return nil, notFound(n) }

func (f *fixture) requests(t *testing.T) int {
	t.Helper()
	n := 0
	if err := f.store.ScanRequests(context.Background(), func(*docket.Request) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// conv speaks SMTP by hand, to see each reply code.
type conv struct {
	t    *testing.T
	conn net.Conn
	tp   *textproto.Conn
}

func dial(t *testing.T, addr, hello string) *conv {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	s := &conv{t: t, conn: c, tp: textproto.NewConn(c)}
	t.Cleanup(func() { c.Close() })
	s.expect(220)
	s.cmd(hello+" client.test", 250)
	return s
}

func (s *conv) expect(code int) string {
	s.t.Helper()
	got, msg, err := s.tp.ReadResponse(0)
	if err != nil && got == 0 {
		s.t.Fatalf("read reply: %v", err)
	}
	if got != code {
		s.t.Fatalf("reply %d %s, want %d", got, msg, code)
	}
	return msg
}

func (s *conv) cmd(line string, code int) string {
	s.t.Helper()
	if err := s.tp.PrintfLine("%s", line); err != nil {
		s.t.Fatal(err)
	}
	return s.expect(code)
}

// data sends a message body (already CRLF, dot-stuffed) and the end of DATA.
func (s *conv) data(body string, code int) string {
	s.t.Helper()
	s.cmd("DATA", 354)
	if _, err := io.WriteString(s.conn, body+"\r\n.\r\n"); err != nil {
		s.t.Fatal(err)
	}
	return s.expect(code)
}

func msg(headers, body string) string {
	return strings.ReplaceAll(headers+"\n\n"+body, "\n", "\r\n")
}

func TestSMTPCodes(t *testing.T) {
	f, st := setup(t, Config{MaxBytes: 64 << 10, MaxRecipients: 3})
	good := msg("From: officer@police.example\nTo: legal@docket.test\nSubject: hello\nMessage-ID: <g1@police.example>", "Please preserve the account @someone.")

	t.Run("accepted", func(t *testing.T) {
		n := f.requests(t)
		s := dial(t, f.addr, "EHLO")
		s.cmd("MAIL FROM:<officer@police.example>", 250)
		s.cmd("RCPT TO:<legal@docket.test>", 250)
		s.data(good, 250)
		if f.requests(t) != n+1 {
			t.Fatal("not stored")
		}
	})
	t.Run("unknown recipient 550, other domain 550", func(t *testing.T) {
		s := dial(t, f.addr, "EHLO")
		s.cmd("MAIL FROM:<a@b.example>", 250)
		s.cmd("RCPT TO:<ceo@docket.test>", 550)
		s.cmd("RCPT TO:<legal@other.example>", 550)
		s.cmd("RCPT TO:<LEGAL+urgent@Docket.Test>", 250)
	})
	t.Run("RCPT before MAIL", func(t *testing.T) {
		s := dial(t, f.addr, "EHLO")
		s.cmd("RCPT TO:<legal@docket.test>", 502)
	})
	t.Run("DATA without recipients", func(t *testing.T) {
		s := dial(t, f.addr, "EHLO")
		s.cmd("MAIL FROM:<a@b.example>", 250)
		s.cmd("DATA", 502)
	})
	t.Run("too many recipients 452", func(t *testing.T) {
		s := dial(t, f.addr, "EHLO")
		s.cmd("MAIL FROM:<a@b.example>", 250)
		for range 3 {
			s.cmd("RCPT TO:<legal@docket.test>", 250)
		}
		s.cmd("RCPT TO:<abuse@docket.test>", 452)
	})
	t.Run("over the size limit 552 at DATA, nothing kept", func(t *testing.T) {
		n := f.requests(t)
		s := dial(t, f.addr, "EHLO")
		s.cmd("MAIL FROM:<a@b.example>", 250)
		s.cmd("RCPT TO:<legal@docket.test>", 250)
		s.data(msg("From: a@b.example", strings.Repeat("x", 76)+strings.Repeat("\n"+strings.Repeat("y", 76), 1000)), 552)
		s.cmd("NOOP", 250) // the session goes on
		if f.requests(t) != n {
			t.Fatal("an oversized message was stored")
		}
	})
	t.Run("SIZE announced over the limit 552 at MAIL", func(t *testing.T) {
		s := dial(t, f.addr, "EHLO")
		s.cmd(fmt.Sprintf("MAIL FROM:<a@b.example> SIZE=%d", 1<<30), 552)
	})
	t.Run("connection dropped mid-DATA: nothing kept", func(t *testing.T) {
		n := f.requests(t)
		s := dial(t, f.addr, "EHLO")
		s.cmd("MAIL FROM:<a@b.example>", 250)
		s.cmd("RCPT TO:<legal@docket.test>", 250)
		s.cmd("DATA", 354)
		io.WriteString(s.conn, msg("From: a@b.example\nSubject: cut", "half a message"))
		s.conn.Close()
		time.Sleep(200 * time.Millisecond)
		if f.requests(t) != n {
			t.Fatal("a half-received message was stored")
		}
	})
	t.Run("pipelined commands", func(t *testing.T) {
		n := f.requests(t)
		s := dial(t, f.addr, "EHLO")
		// Everything in one write, as a PIPELINING client (or an abusive one) sends it.
		io.WriteString(s.conn, "MAIL FROM:<officer@police.example>\r\nRCPT TO:<legal@docket.test>\r\nRCPT TO:<nobody@docket.test>\r\nDATA\r\n")
		s.expect(250)
		s.expect(250)
		s.expect(550)
		s.expect(354)
		io.WriteString(s.conn, msg("From: officer@police.example\nSubject: piped", "text")+"\r\n.\r\nQUIT\r\n")
		s.expect(250)
		s.expect(221)
		if f.requests(t) != n+1 {
			t.Fatal("pipelined message not stored")
		}
	})
	t.Run("store down 451, then accepted on retry", func(t *testing.T) {
		n := f.requests(t)
		st.fail = true
		s := dial(t, f.addr, "EHLO")
		s.cmd("MAIL FROM:<a@b.example>", 250)
		s.cmd("RCPT TO:<legal@docket.test>", 250)
		retry := msg("From: a@b.example\nSubject: retry\nMessage-ID: <retry@b.example>", "body")
		s.data(retry, 451)
		st.fail = false
		s.cmd("MAIL FROM:<a@b.example>", 250)
		s.cmd("RCPT TO:<legal@docket.test>", 250)
		s.data(retry, 250)
		// The same message delivered again (a lost 250) is the same request.
		s.cmd("MAIL FROM:<a@b.example>", 250)
		s.cmd("RCPT TO:<legal@docket.test>", 250)
		s.data(retry, 250)
		if f.requests(t) != n+1 {
			t.Fatalf("%d requests stored, want 1", f.requests(t)-n)
		}
	})
}

func nested(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@b.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"n%d\"\r\n\r\n--n%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nbottom")
	return b.String()
}

func TestBadMessages(t *testing.T) {
	f, _ := setup(t, Config{})
	for _, tc := range []struct {
		name   string
		body   string
		code   int
		stored bool
	}{
		{"broken MIME, missing closing boundary", msg("From: a@b.example\nContent-Type: multipart/mixed; boundary=x", "--x\nContent-Type: text/plain\n\nkept"), 250, true},
		{"boundary missing from the header", msg("From: a@b.example\nContent-Type: multipart/mixed", "--x\nhello"), 250, true},
		{"deeply nested multiparts", nested(60), 554, false},
		{"many parts (MIME bomb)", msg("From: a@b.example\nContent-Type: multipart/mixed; boundary=x", strings.Repeat("--x\nContent-Type: text/plain\n\nhi\n", 800)+"--x--"), 554, false},
		{"enormous header", msg("From: a@b.example\n"+strings.Repeat("X-Big: "+strings.Repeat("a", 900)+"\n", 300), "body"), 552, false},
		{"enormous header line", msg("From: a@b.example\nX-Big: "+strings.Repeat("a", 300<<10), "body"), 500, false},
		{"wrong charset", msg("From: a@b.example\nContent-Type: text/plain; charset=klingon", "qapla"), 250, true},
		{"NUL bytes", msg("From: a@b.example\nSubject: nul\x00here", "te\x00xt"), 250, true},
		{"no From: kept, the envelope sender identifies it", msg("Subject: anonymous", "body"), 250, true},
		{"mbox envelope line first", "From officer@police.example  Mon Nov 30 10:00:00 2026\r\n" + msg("From: officer@police.example\nSubject: PV 2026/12", "requisition"), 250, true},
		{"no header at all: read as text", "this is not a header\r\n\r\nbut a lawful request all the same\r\n", 250, true},
		{"zip bomb attachment stored, not opened", msg("From: a@b.example\nContent-Type: multipart/mixed; boundary=x", "--x\nContent-Type: text/plain\n\nsee zip\n--x\nContent-Type: application/zip; name=bomb.zip\nContent-Transfer-Encoding: base64\n\nUEsDBBQAAAAIAAAAIQAAAAAAAAAAAAAAAAAEAAAAYS50eHQ=\n--x--"), 250, true},
		{"script in the subject and file name", msg("From: a@b.example\nSubject: <script>alert(1)</script>\nContent-Type: multipart/mixed; boundary=x", "--x\nContent-Type: text/plain\n\nhi\n--x\nContent-Type: text/plain; name=\"<img src=x onerror=alert(1)>.txt\"\nContent-Disposition: attachment; filename=\"../<img src=x onerror=alert(1)>.txt\"\n\nfile\n--x--"), 250, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := f.requests(t)
			s := dial(t, f.addr, "EHLO")
			s.cmd("MAIL FROM:<a@b.example>", 250)
			s.cmd("RCPT TO:<legal@docket.test>", 250)
			s.data(strings.ReplaceAll(tc.body, "\r\n.", "\r\n.."), tc.code)
			if got := f.requests(t) - n; got != map[bool]int{true: 1, false: 0}[tc.stored] {
				t.Fatalf("%d requests stored", got)
			}
		})
	}
}

func TestRequireTLS(t *testing.T) {
	f, _ := setup(t, Config{RequireTLS: true})
	s := dial(t, f.addr, "EHLO")
	s.cmd("MAIL FROM:<a@b.example>", 530)
}

func TestLMTP(t *testing.T) {
	f, _ := setup(t, Config{})
	c, err := net.Dial("tcp", f.lmtp)
	if err != nil {
		t.Fatal(err)
	}
	cl := smtp.NewClientLMTP(c)
	defer cl.Close()
	if err := cl.Hello("postfix.test"); err != nil {
		t.Fatal(err)
	}
	n := f.requests(t)
	if err := cl.Mail("officer@police.example", nil); err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"legal@docket.test", "emergency@docket.test"} {
		if err := cl.Rcpt(rcpt, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, msg("From: officer@police.example\nSubject: via postfix", "handed over by the MTA"))
	statuses, err := w.CloseWithLMTPResponse()
	if err != nil || len(statuses) != 2 {
		t.Fatalf("LMTP statuses %v, %v", statuses, err)
	}
	if f.requests(t) != n+1 {
		t.Fatal("LMTP message not stored once")
	}
	var emergency bool
	cases, _ := f.store.Cases(context.Background(), docket.CaseFilter{Queue: "emergency"})
	for _, c := range cases {
		emergency = emergency || c.Emergency
	}
	if !emergency {
		t.Fatal("mail to emergency@ did not open an emergency case")
	}
}

func TestSTARTTLS(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.docket.test"}, DNSNames: []string{"mx.docket.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	f, _ := setup(t, Config{RequireTLS: true, TLS: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}})
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c, err := smtp.DialStartTLS(f.addr, &tls.Config{RootCAs: pool, ServerName: "mx.docket.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := f.requests(t)
	if err := c.SendMail("officer@police.example", []string{"legal@docket.test"}, strings.NewReader(msg("From: officer@police.example\nSubject: over TLS", "hello"))); err != nil {
		t.Fatal(err)
	}
	if f.requests(t) != n+1 {
		t.Fatal("not stored")
	}
	var tlsSeen bool
	f.store.ScanRequests(context.Background(), func(r *docket.Request) error {
		full, err := f.store.Request(context.Background(), r.ID)
		if err == nil && full.Body.Email != nil && full.Body.Email.TLS {
			tlsSeen = true
		}
		return nil
	})
	if !tlsSeen {
		t.Fatal("the request does not record that it came over TLS")
	}
}

// A reply joins its case only from the same sender: quoting a case number is not enough.
func TestThreadingNeedsTheSameSender(t *testing.T) {
	f, _ := setup(t, Config{})
	send := func(from, headers, body string) {
		t.Helper()
		s := dial(t, f.addr, "EHLO")
		s.cmd("MAIL FROM:<"+from+">", 250)
		s.cmd("RCPT TO:<legal@docket.test>", 250)
		s.data(msg("From: "+from+"\n"+headers, body), 250)
	}
	cases := func() []*docket.Case {
		cs, err := f.store.Cases(context.Background(), docket.CaseFilter{Sort: "received"})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	send("lawyer@firm.example", "Subject: preservation please\nMessage-ID: <first@firm.example>", "Please preserve @someone.")
	first := cases()[0].ID
	send("intruder@evil.example", "Subject: Re: [docket:"+first+"]\nIn-Reply-To: <first@firm.example>", "Add this to the case.")
	if n := len(cases()); n != 2 {
		t.Fatalf("a reply from another address joined the case (%d cases)", n)
	}
	send("lawyer@firm.example", "Subject: more [docket:"+first+"]", "Also @other.")
	send("lawyer@firm.example", "Subject: more\nIn-Reply-To: <first@firm.example>", "And @third.")
	if n := len(cases()); n != 2 {
		t.Fatalf("replies from the sender did not join the case (%d cases)", n)
	}
	reqs, _ := f.store.CaseRequests(context.Background(), first)
	if len(reqs) != 3 {
		t.Fatalf("case has %d requests, want 3", len(reqs))
	}
}

// TestDefectiveMailKeptExactly: a message as an mbox archive holds it (an envelope line
// first), with no From header, is answered 250, stored byte for byte, and its request says
// what was odd about it.
func TestDefectiveMailKeptExactly(t *testing.T) {
	f, _ := setup(t, Config{})
	raw := "From officer@police.example  Mon Nov 30 10:00:00 2026\r\n" + msg("Subject: PV 2026/12\nMessage-ID: <mbox1@police.example>", "Requisition: identity of @someone.")
	s := dial(t, f.addr, "EHLO")
	s.cmd("MAIL FROM:<officer@police.example>", 250)
	s.cmd("RCPT TO:<legal@docket.test>", 250)
	s.data(raw, 250)
	var got *docket.Request
	if err := f.store.ScanRequests(context.Background(), func(r *docket.Request) error { got = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("nothing stored")
	}
	got, err := f.store.Request(context.Background(), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Raw) != raw+"\r\n" { // DATA ends the message with its own line break
		t.Errorf("raw not kept byte for byte:\n%q\n%q", got.Raw, raw)
	}
	e := got.Body.Email
	if e == nil || e.MailFrom != "officer@police.example" || e.From != "" {
		t.Fatalf("email = %+v", e)
	}
	problems := strings.Join(e.Problems, "|")
	for _, want := range []string{"mbox envelope", "no From"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems %q do not mention %q", problems, want)
		}
	}
	if !strings.Contains(got.Body.Description, "identity of @someone") {
		t.Errorf("text = %q", got.Body.Description)
	}
}
