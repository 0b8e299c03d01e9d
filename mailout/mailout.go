// Package mailout sends docket's mail through the platform's relay: the automatic receipt
// to a verified sender, and the answer written in docket to the sender of the mail that
// opened a case. Each message is a job in the database (retried with backoff), optionally
// DKIM-signed; every attempt and its result is an event on the case.
package mailout

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/workflow"
)

// Job kinds.
const (
	JobReceipt = "mail.receipt"
	JobAnswer  = workflow.JobMailAnswer
)

// Relay is the submission server docket sends through.
type Relay struct {
	Addr     string // HOST:PORT
	Username string
	Password string
	// Security is "starttls" (the default: required), "tls" (implicit TLS, port 465) or
	// "none" (a relay on the same host only).
	Security string
	// TLS, when set, is the client TLS configuration (a private CA in tests).
	TLS *tls.Config
	// From is the sender of docket's mail, legal@DOMAIN.
	From string
	// Domain names docket's Message-IDs (<docket.CASE.SEQ@Domain>).
	Domain string
	// DKIM, when set, signs every message.
	DKIM *DKIM
	// Timeout bounds one attempt (default 60 s).
	Timeout time.Duration
}

// DKIM is a signing key for the From domain.
type DKIM struct {
	Domain   string
	Selector string
	Signer   crypto.Signer
}

// LoadDKIMKey reads a PEM private key (PKCS#8, PKCS#1 RSA) from path.
func LoadDKIMKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read DKIM key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("DKIM key %s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("DKIM key %s: %w", path, err)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("DKIM key %s: want an RSA or Ed25519 key, not %T", path, k)
}

// Mailer composes and sends docket's mail.
type Mailer struct {
	Service *workflow.Service
	Store   docket.Store
	Relay   Relay
	Logger  *slog.Logger
}

// Register adds the mail jobs to a runner.
func (m *Mailer) Register(r *jobs.Runner) {
	r.Handle(JobReceipt, m.Receipt)
	r.Handle(JobAnswer, m.Answer)
}

// Receipt sends the automatic receipt of one e-mailed request to its sender: case id,
// time of receipt, deadline and SHA-256. It sends nothing for a request that triage found
// to be spam.
func (m *Mailer) Receipt(ctx context.Context, j *docket.Job) error {
	var p workflow.FollowUp
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("receipt job payload: %w", err)
	}
	req, err := m.Store.Request(ctx, p.RequestID)
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	c, err := m.Store.Case(ctx, req.CaseID)
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	if c.Triage != nil && c.Triage.Spam {
		m.log().InfoContext(ctx, "no receipt for spam", slog.String("request", req.ID))
		return nil
	}
	if req.Body.Email == nil {
		if n := req.Body.Notifier; n != nil && n.Email != "" {
			return m.noticeReceipt(ctx, j, req, c, n.Email)
		}
		return nil
	}
	to := req.Body.Email.From
	deadline := "none (the regime sets no deadline)"
	if !c.DeadlineAt.IsZero() {
		deadline = c.DeadlineAt.UTC().Format(time.RFC3339)
	}
	subject := fmt.Sprintf("Received: %s [docket:%s]", orDefault(req.Body.Email.Subject, "your message"), c.ID)
	proof, line := m.proof(ctx, req)
	text := fmt.Sprintf(`Your message was received and recorded.

Case:         %s
Request:      %s
Received at:  %s
Deadline:     %s
SHA-256:      %s (of your message exactly as received)
%s
Reply to this message, or keep [docket:%s] in the subject, to add to this case.
This receipt is automatic; it does not mean that the request has been examined.
`, c.ID, req.ID, req.ReceivedAt.UTC().Format(time.RFC3339Nano), deadline, req.SHA256, line, c.ID)
	msg, id := m.compose(c.ID, fmt.Sprintf("r%d", j.ID), to, subject, text, req.Body.Email.MessageID, req.Body.Email.References, proof)
	if done, err := m.sent(ctx, c.ID, id); done || err != nil {
		return err
	}
	return m.deliver(ctx, j, c.ID, "receipt", to, id, msg,
		workflow.Entry{Type: docket.EventAcknowledged, Data: docket.Acknowledged{Rule: "mail receipt"}})
}

// noticeReceipt confirms a public notice to the address its notifier gave (DSA art. 16(4)).
func (m *Mailer) noticeReceipt(ctx context.Context, j *docket.Job, req *docket.Request, c *docket.Case, to string) error {
	proof, line := m.proof(ctx, req)
	text := fmt.Sprintf(`Your notice was received and recorded. We will examine it and tell you what we decide.

Case:         %s
Received at:  %s
SHA-256:      %s (of your notice exactly as received)
%s
This receipt is automatic; it does not mean that the notice has been examined.
`, c.ID, req.ReceivedAt.UTC().Format(time.RFC3339Nano), req.SHA256, line)
	msg, id := m.compose(c.ID, fmt.Sprintf("r%d", j.ID), to, fmt.Sprintf("Your notice was received [docket:%s]", c.ID), text, "", nil, proof)
	if done, err := m.sent(ctx, c.ID, id); done || err != nil {
		return err
	}
	return m.deliver(ctx, j, c.ID, "receipt", to, id, msg,
		workflow.Entry{Type: docket.EventAcknowledged, Data: docket.Acknowledged{Rule: "notice receipt"}})
}

// Answer sends a case's answer to the sender of the mail that opened the case.
func (m *Mailer) Answer(ctx context.Context, j *docket.Job) error {
	var p workflow.MailAnswer
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("answer job payload: %w", err)
	}
	first, err := m.Store.FirstRequest(ctx, p.CaseID)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	events, err := m.Store.CaseEvents(ctx, p.CaseID)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	var answer *docket.Answered
	for _, e := range events {
		if e.Seq == p.Seq && e.Type == docket.EventAnswered {
			answer = &docket.Answered{}
			if err := json.Unmarshal(e.Data, answer); err != nil {
				return fmt.Errorf("answer event %d: %w", e.Seq, err)
			}
		}
	}
	if answer == nil || first.Body.Email == nil {
		return fmt.Errorf("answer: case %s has no answer %d to send by e-mail", p.CaseID, p.Seq)
	}
	em := first.Body.Email
	to := em.From
	subject := "Re: " + strings.TrimPrefix(orDefault(em.Subject, "your request"), "Re: ") + " [docket:" + p.CaseID + "]"
	msg, id := m.compose(p.CaseID, fmt.Sprint(p.Seq), to, subject, answer.Text+"\n", em.MessageID, em.References, nil)
	if sentAlready(events, id) {
		return nil
	}
	return m.deliver(ctx, j, p.CaseID, "answer", to, id, msg)
}

// sent reports whether the case records the message id as sent: the job ran before, and
// its node stopped between recording the mail and finishing the job (a crash), so the job
// was taken over. The message is not sent again.
func (m *Mailer) sent(ctx context.Context, caseID, id string) (bool, error) {
	events, err := m.Store.CaseEvents(ctx, caseID)
	if err != nil {
		return false, fmt.Errorf("mail %s: %w", id, err)
	}
	return sentAlready(events, id), nil
}

func sentAlready(events []*docket.Event, id string) bool {
	for _, e := range events {
		if e.Type != docket.EventMailSent {
			continue
		}
		var s docket.MailSent
		if json.Unmarshal(e.Data, &s) == nil && s.MessageID == id {
			return true
		}
	}
	return false
}

func (m *Mailer) log() *slog.Logger {
	if m.Logger == nil {
		return slog.Default()
	}
	return m.Logger
}

// compose builds a plain-text UTF-8 message threaded to the requester's mail, with a
// Message-ID that names the case (<docket.CASE.PART@domain>), so that a reply finds it.
// attachment is a file sent with a message.
type attachment struct {
	name, contentType string
	data              []byte
}

// proof returns the receipt of req as the API gives it — proven against the latest signed
// head of the log — as an attachment, and the lines of the mail's text that say so; nothing
// when the log holds no proof of it (a head not signed yet, or a request received before
// receipts carried proofs).
func (m *Mailer) proof(ctx context.Context, req *docket.Request) (*attachment, string) {
	if req.Seq < 1 {
		return nil, ""
	}
	l, facts, err := m.Service.ReceiptLog(ctx, req.Seq, 0)
	if err != nil {
		m.log().WarnContext(ctx, "receipt mailed without its proof", slog.String("request", req.ID), slog.Any("err", err))
		return nil, ""
	}
	if l == nil {
		return nil, ""
	}
	r := docket.Receipt{ID: req.ID, CaseID: l.Event.CaseID, ReceivedAt: req.ReceivedAt, Deadline: facts.Deadline, SHA256: req.SHA256, Log: l}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, ""
	}
	name := "receipt-" + req.ID + ".json"
	line := fmt.Sprintf(`Log entry:    %d of the log of %d events signed at %s
              (%s, attached, proves this receipt: check it offline with the
              platform's public log key and docket receipt verify)
`, l.LeafIndex, l.TreeHead.TreeSize, l.TreeHead.Time().Format(time.RFC3339Nano), name)
	return &attachment{name: name, contentType: "application/json", data: append(js, '\n')}, line
}

func (m *Mailer) compose(caseID, part, to, subject, text, inReplyTo string, refs []string, attach *attachment) ([]byte, string) {
	domain := orDefault(m.Relay.Domain, "docket.invalid")
	id := fmt.Sprintf("docket.%s.%s@%s", caseID, part, domain)
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", m.Relay.From)
	if _, err := CheckAddress(to); err != nil {
		to = "undisclosed-recipients:;" // never sent: signAndSend refuses the address
	}
	h("To", to)
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", m.Service.Now().Format(time.RFC1123Z))
	h("Message-ID", "<"+id+">")
	if inReplyTo != "" {
		h("In-Reply-To", "<"+inReplyTo+">")
		refs = append(append([]string(nil), refs...), inReplyTo)
	}
	if len(refs) > 0 {
		ids := make([]string, 0, len(refs))
		for _, r := range refs[max(0, len(refs)-10):] {
			ids = append(ids, "<"+r+">")
		}
		h("References", strings.Join(ids, " "))
	}
	h("Auto-Submitted", "auto-generated")
	h("MIME-Version", "1.0")
	body := strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
	if attach == nil {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n")
		b.WriteString(body)
		return b.Bytes(), id
	}
	mw := multipart.NewWriter(&b)
	h("Content-Type", `multipart/mixed; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"8bit"}})
	pw.Write([]byte(body))
	pw, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {attach.contentType}, "Content-Transfer-Encoding": {"base64"},
		"Content-Disposition": {mime.FormatMediaType("attachment", map[string]string{"filename": attach.name})}})
	enc := base64.StdEncoding.EncodeToString(attach.data)
	for len(enc) > 76 {
		pw.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	pw.Write([]byte(enc + "\r\n"))
	mw.Close()
	return b.Bytes(), id
}

// deliver signs and sends one message; it records the attempt on the case. A refusal for
// good (5xx) ends the job with a final failure; anything else is retried by the job queue.
func (m *Mailer) deliver(ctx context.Context, j *docket.Job, caseID, purpose, to, id string, msg []byte, onSent ...workflow.Entry) error {
	msg, err := m.signAndSend(ctx, purpose, to, msg)

	if err == nil {
		sent := workflow.Entry{Type: docket.EventMailSent, Data: docket.MailSent{
			Purpose: purpose, To: to, MessageID: id, Attempt: j.Attempts, Relay: m.Relay.Addr, SHA256: workflow.SHA256(msg),
		}}
		return m.Service.Record(ctx, caseID, docket.ActorMail, append([]workflow.Entry{sent}, onSent...)...)
	}
	var se *smtp.SMTPError
	// An address that cannot be written safely never will be: refused for good.
	final := errors.Is(err, errAddress) || (errors.As(err, &se) && se.Code >= 500) || j.Attempts >= j.MaxAttempts
	failed := docket.MailFailed{Purpose: purpose, To: to, Attempt: j.Attempts, Error: err.Error(), Final: final}
	if !final {
		failed.NextAt = docket.OptTime(m.Service.Now().Add(jobs.Backoff(j.Attempts)))
	}
	if rerr := m.Service.Record(ctx, caseID, docket.ActorMail, workflow.Entry{Type: docket.EventMailFailed, Data: failed}); rerr != nil {
		return errors.Join(err, rerr)
	}
	m.log().WarnContext(ctx, "mail not sent", slog.String("case", caseID), slog.String("purpose", purpose), slog.Int("attempt", j.Attempts), slog.Bool("final", final), slog.Any("err", err))
	if final {
		return nil // recorded as failed for good on the case; no more attempts
	}
	return fmt.Errorf("send %s for case %s: %w", purpose, caseID, err)
}

// Mail composes, signs and sends one plain-text message about a case (a page, a threat
// notice) and returns its Message-ID and the SHA-256 of what was sent; it records nothing.
func (m *Mailer) Mail(ctx context.Context, caseID, part, to, subject, text string) (id, sha string, err error) {
	if _, err := CheckAddress(to); err != nil {
		return "", "", err
	}
	msg, id := m.compose(caseID, part, to, subject, text, "", nil, nil)
	msg, err = m.signAndSend(ctx, part, to, msg)
	if err != nil {
		return "", "", err
	}
	return id, workflow.SHA256(msg), nil
}

// Configured reports whether a relay is set.
func (m *Mailer) Configured() bool { return m != nil && m.Relay.Addr != "" }

func (m *Mailer) signAndSend(ctx context.Context, purpose, to string, msg []byte) ([]byte, error) {
	if _, err := CheckAddress(to); err != nil {
		return nil, err
	}
	if _, err := CheckAddress(m.Relay.From); err != nil {
		return nil, fmt.Errorf("mail_from: %w", err)
	}
	if m.Relay.DKIM != nil {
		var signed bytes.Buffer
		err := dkim.Sign(&signed, bytes.NewReader(msg), &dkim.SignOptions{Domain: m.Relay.DKIM.Domain, Selector: m.Relay.DKIM.Selector, Signer: m.Relay.DKIM.Signer})
		if err != nil {
			return nil, fmt.Errorf("DKIM-sign %s: %w", purpose, err)
		}
		msg = signed.Bytes()
	}
	return msg, m.send(ctx, to, msg)
}

func (m *Mailer) send(ctx context.Context, to string, msg []byte) error {
	r := m.Relay
	if r.Addr == "" {
		return errors.New("no relay configured (relay_addr)")
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, _ := net.SplitHostPort(r.Addr)
	tlsConfig := r.TLS
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return fmt.Errorf("connect to relay %s: %w", r.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var c *smtp.Client
	switch r.Security {
	case "tls", "none":
		if r.Security == "tls" {
			conn = tls.Client(conn, tlsConfig)
		}
		c = smtp.NewClient(conn)
		if err := c.Hello(orDefault(r.Domain, "localhost")); err != nil {
			c.Close()
			return fmt.Errorf("EHLO: %w", err)
		}
	default:
		// STARTTLS is required: a relay that does not offer it is an error, never a
		// fallback to clear text.
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			conn.Close()
			return fmt.Errorf("STARTTLS with relay %s: %w", r.Addr, err)
		}
	}
	defer c.Close()
	if r.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", r.Username, r.Password)); err != nil {
			return fmt.Errorf("relay auth: %w", err)
		}
	}
	if err := c.SendMail(r.From, []string{to}, bytes.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
