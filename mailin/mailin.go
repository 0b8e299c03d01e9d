// Package mailin is docket's e-mail intake: an SMTP (and LMTP) server for the platform's
// legal addresses. A message is answered 250 only once its raw bytes, its SHA-256, its
// attachments and its sender's verification are committed as a request; if storing fails
// the answer is 451, so that the sending server tries again. Mail to any other address is
// refused at RCPT.
package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/mailauth"
	"github.com/docket-dev/docket/mailmsg"
	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/workflow"
)

// Address is one local address the server accepts mail for.
type Address struct {
	Local string `json:"local"` // "legal" for legal@DOMAIN
	// Queue is the default queue of its cases (triage and rules may move them).
	Queue string `json:"queue,omitempty"`
	// Emergency marks mail to this address as an emergency (fast-tracked, paged) even
	// when its sender is unverified.
	Emergency bool `json:"emergency,omitempty"`
	// Regime, when set, is the regime of its requests (abuse@ → dsa-art16); else triage
	// chooses from the text.
	Regime string `json:"regime,omitempty"`
	// Acknowledge sends the automatic receipt to verified senders.
	Acknowledge bool `json:"acknowledge"`
}

// DefaultAddresses are legal@, emergency@ and abuse@.
func DefaultAddresses() []Address {
	return []Address{
		{Local: "legal", Queue: "legal", Acknowledge: true},
		{Local: "emergency", Queue: "emergency", Emergency: true, Acknowledge: true},
		{Local: "abuse", Queue: "notices", Regime: "dsa-art16", Acknowledge: true},
	}
}

// Config configures the receiver.
type Config struct {
	Service  *workflow.Service
	Store    docket.Store
	Verifier *mailauth.Verifier
	Logger   *slog.Logger
	// Domain is the platform's mail domain (legal@Domain…); also the server's name.
	Domain    string
	Addresses []Address
	// MaxBytes is the largest message accepted (default 25 MB); MaxRecipients the most
	// recipients of one message (default 20).
	MaxBytes      int64
	MaxRecipients int
	// TLS enables STARTTLS; with RequireTLS, MAIL is refused before STARTTLS.
	TLS        *tls.Config
	RequireTLS bool
	// ReceiptJob is the job kind that sends the automatic receipt (mailout.JobReceipt);
	// no receipt is sent when empty.
	ReceiptJob string
	Limits     mailmsg.Limits
}

// Receiver turns delivered mail into requests.
type Receiver struct {
	cfg   Config
	log   *slog.Logger
	addrs map[string]Address

	mu          sync.Mutex
	authorities []*docket.Authority
	loadedAt    time.Time
}

// New returns a Receiver.
func New(cfg Config) (*Receiver, error) {
	if cfg.Domain == "" {
		return nil, errors.New("mail intake: a domain is required (--smtp-domain)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 25 << 20
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 20
	}
	if len(cfg.Addresses) == 0 {
		cfg.Addresses = DefaultAddresses()
	}
	r := &Receiver{cfg: cfg, log: cfg.Logger, addrs: map[string]Address{}}
	for _, a := range cfg.Addresses {
		local := strings.ToLower(a.Local)
		if local == "" || strings.ContainsAny(local, "@ ") {
			return nil, fmt.Errorf("mail intake: bad local address %q", a.Local)
		}
		if a.Regime != "" {
			if _, ok := cfg.Service.Regimes().Lookup(a.Regime); !ok {
				return nil, fmt.Errorf("mail intake: address %s: unknown regime %q", a.Local, a.Regime)
			}
		}
		r.addrs[local] = a
	}
	if cfg.Verifier != nil && cfg.Verifier.Directory == nil {
		cfg.Verifier.Directory = r
	}
	return r, nil
}

// Server returns an SMTP server (or, with lmtp, an LMTP server for a local MTA such as
// Postfix to hand mail over) that delivers to r.
func (r *Receiver) Server(lmtp bool) *smtp.Server {
	s := smtp.NewServer(r)
	s.LMTP = lmtp
	s.Domain = r.cfg.Domain
	s.MaxMessageBytes = r.cfg.MaxBytes
	s.MaxRecipients = r.cfg.MaxRecipients
	s.MaxLineLength = 20000
	s.ReadTimeout = 2 * time.Minute
	s.WriteTimeout = 2 * time.Minute
	s.TLSConfig = r.cfg.TLS
	s.ErrorLog = slogLogger{r.log}
	return s
}

type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) { l.l.Warn("smtp: " + fmt.Sprintf(format, v...)) }
func (l slogLogger) Println(v ...any)               { l.l.Warn("smtp: " + fmt.Sprint(v...)) }

// AuthorityForDomain finds the registered authority whose official domains include domain
// (or a parent of it). The list is read from the store at most every 30 seconds.
func (r *Receiver) AuthorityForDomain(ctx context.Context, domain string) (*docket.Authority, bool) {
	r.mu.Lock()
	if time.Since(r.loadedAt) > 30*time.Second || r.authorities == nil {
		list, err := r.cfg.Store.Authorities(ctx)
		if err != nil {
			r.log.WarnContext(ctx, "list authorities for sender checks", slog.Any("err", err))
		} else {
			r.authorities, r.loadedAt = list, time.Now()
		}
	}
	list := r.authorities
	r.mu.Unlock()
	for _, a := range list {
		if a.OwnsDomain(domain) {
			return a, true
		}
	}
	return nil, false
}

// NewSession is called by the SMTP server for each connection.
func (r *Receiver) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := &session{r: r, conn: c}
	if tcp, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		s.ip = tcp.IP
	}
	return s, nil
}

type session struct {
	r    *Receiver
	conn *smtp.Conn
	ip   net.IP
	from string
	to   []string
	// mailFromSet distinguishes MAIL FROM:<> (bounces) from no MAIL at all.
	mailFromSet bool
}

var (
	errNeedTLS = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	errNoMail  = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "MAIL FROM first"}
)

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.cfg.RequireTLS {
		if _, ok := s.conn.TLSConnectionState(); !ok {
			return errNeedTLS
		}
	}
	s.from, s.mailFromSet = strings.ToLower(from), true
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.mailFromSet {
		return errNoMail
	}
	if _, ok := s.r.address(to); !ok {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: fmt.Sprintf("No such mailbox here: <%s>", truncate(to, 100))}
	}
	s.to = append(s.to, strings.ToLower(to))
	return nil
}

func (r *Receiver) address(to string) (Address, bool) {
	i := strings.LastIndexByte(to, '@')
	if i < 0 || !strings.EqualFold(to[i+1:], r.cfg.Domain) {
		return Address{}, false
	}
	local := strings.ToLower(to[:i])
	if j := strings.IndexByte(local, '+'); j > 0 {
		local = local[:j] // legal+anything@ is legal@
	}
	a, ok := r.addrs[local]
	return a, ok
}

func (s *session) Data(rd io.Reader) error {
	raw, err := io.ReadAll(rd)
	if err != nil {
		// Over the size limit (552), or the connection dropped mid-DATA: nothing is kept.
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se
		}
		if errors.Is(err, smtp.ErrTooLongLine) {
			// The rest of the line is still on the wire: answer, then let the session end.
			_ = s.conn.Conn().SetReadDeadline(time.Now())
			return &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Line too long; nothing was kept"}
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Message not received whole; nothing was kept"}
	}
	helo := s.conn.Hostname()
	_, tlsOn := s.conn.TLSConnectionState()
	return s.r.Deliver(context.Background(), Envelope{RemoteIP: s.ip, Helo: helo, MailFrom: s.from, To: s.to, TLS: tlsOn}, raw)
}

func (s *session) Reset() {
	s.from, s.to, s.mailFromSet = "", nil, false
}

func (s *session) Logout() error { return nil }

// Envelope is the SMTP envelope of a delivered message.
type Envelope struct {
	RemoteIP net.IP
	Helo     string
	MailFrom string
	To       []string
	TLS      bool
}

// Deliver stores one message and returns nil once it is committed; otherwise an
// *smtp.SMTPError: 5xx when the message is refused for good, 451 when it should be sent
// again.
func (r *Receiver) Deliver(ctx context.Context, env Envelope, raw []byte) error {
	start := time.Now()
	msg, err := mailmsg.Parse(raw, r.cfg.Limits)
	if err != nil {
		r.log.WarnContext(ctx, "mail refused", slog.String("mail_from", env.MailFrom), slog.Any("err", err))
		if errors.Is(err, mailmsg.ErrTooLarge) {
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message header too large"}
		}
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused: " + err.Error()}
	}
	check := docket.SenderCheck{Level: docket.SenderUnverified, DMARC: "none", SPF: "none", Reason: "Sender checks are off."}
	if r.cfg.Verifier != nil {
		check = r.cfg.Verifier.Check(ctx, raw, mailauth.Envelope{RemoteIP: env.RemoteIP, Helo: env.Helo, MailFrom: env.MailFrom, From: msg.From})
	}
	sub, err := r.submission(ctx, env, raw, msg, check)
	if err != nil {
		return err
	}
	res, err := r.cfg.Service.Submit(ctx, sub)
	if err != nil {
		r.log.ErrorContext(ctx, "mail not stored; the sender will retry", slog.String("from", msg.From), slog.Any("err", err))
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Message not stored; try again later"}
	}
	if len(msg.Problems) > 0 {
		r.log.WarnContext(ctx, "mail kept, but parts of it could not be read", slog.String("request", res.Receipt.ID), slog.Any("problems", msg.Problems))
	}
	r.log.InfoContext(ctx, "mail received", slog.String("request", res.Receipt.ID), slog.String("case", res.Receipt.CaseID),
		slog.String("from", msg.From), slog.String("sender", check.Level), slog.Bool("replayed", res.Replayed),
		slog.Int("attachments", len(msg.Attachments)), slog.Duration("took", time.Since(start)))
	return nil
}

func (r *Receiver) submission(ctx context.Context, env Envelope, raw []byte, msg *mailmsg.Message, check docket.SenderCheck) (*workflow.Submission, error) {
	body := docket.RequestBody{Kind: docket.KindOther, Regime: regime.Default, RegimeSource: "default"}
	ack, queue := false, ""
	for _, to := range env.To {
		a, _ := r.address(to)
		ack = ack || a.Acknowledge
		if a.Emergency {
			body.Emergency = true
			body.Justification = "Sent to the emergency address " + to + "."
		}
		if a.Regime != "" {
			body.Regime, body.RegimeSource = a.Regime, "address"
		}
		if queue == "" || a.Emergency {
			queue = a.Queue
		}
	}
	if body.Emergency && body.RegimeSource == "default" {
		body.Regime = regime.Emergency
	}
	if body.Regime == "dsa-art16" {
		body.Kind = docket.KindNotice
		body.Notifier = &docket.Notifier{Name: msg.FromName, Email: msg.From}
	}
	body.Description = strings.TrimSpace(msg.Text)
	var extracted strings.Builder
	sub := &workflow.Submission{
		Channel: docket.ChannelEmail, Raw: raw, ContentType: "message/rfc822", Sender: check.Level,
		// The same message delivered twice (a 250 lost on the way back) is one request.
		IdempotencyKey: "sha256:" + workflow.SHA256(raw),
	}
	for _, a := range msg.Attachments {
		body.Attachments = append(body.Attachments, docket.Attachment{SHA256: a.SHA256, Filename: a.Filename, ContentType: a.ContentType, Size: int64(len(a.Data)), TextNotRead: a.NotRead})
		sub.Blobs = append(sub.Blobs, docket.Blob{SHA256: a.SHA256, Data: a.Data})
		switch {
		case a.Text != "":
			fmt.Fprintf(&extracted, "[%s]\n%s\n", a.Filename, a.Text)
		case a.NotRead != "":
			// The case says what was not read, so that a person opens the file.
			fmt.Fprintf(&extracted, "[%s]\n(%s; the file is kept: open it)\n", a.Filename, a.NotRead)
		}
	}
	body.Extracted = strings.TrimSpace(extracted.String())
	body.Email = &docket.Email{
		MailFrom: env.MailFrom, From: msg.From, FromName: msg.FromName, ReplyTo: msg.ReplyTo, To: env.To,
		Subject: msg.Subject, MessageID: msg.MessageID, InReplyTo: msg.InReplyTo, References: msg.References,
		Date: docket.OptTime(msg.Date), Helo: env.Helo, TLS: env.TLS, HTML: msg.FromHTML, Sender: check,
		Problems: msg.Problems,
	}
	if env.RemoteIP != nil {
		body.Email.RemoteIP = env.RemoteIP.String()
	}
	if check.Level == docket.SenderRegistered {
		// The check found the authority in the receiver's cached list: take it from there.
		a, ok := r.AuthorityForDomain(ctx, check.Domain)
		if !ok || a.ID != check.AuthorityID {
			var err error
			if a, err = r.cfg.Store.Authority(ctx, check.AuthorityID); err != nil {
				return nil, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Sender lookup failed; try again later"}
			}
		}
		sub.Authority = a
	}
	if msg.MessageID != "" {
		// Later mail names this one in In-Reply-To or References: it threads by it.
		sub.Keys = []docket.Target{{Kind: KeyMessageID, Value: strings.ToLower(msg.MessageID)}}
	}
	sub.ThreadCase, sub.ThreadWhy = r.findThread(ctx, msg, sub.Authority, check.Level)
	if ack && check.Aligned && check.Level != docket.SenderUnverified && r.cfg.ReceiptJob != "" {
		// Never to unverified or DMARC-failing senders (no backscatter to forged
		// addresses); the job itself skips what triage found to be spam.
		sub.FollowUps = append(sub.FollowUps, r.cfg.ReceiptJob)
	}
	sub.Body, sub.Queue = body, queue
	return sub, nil
}

// KeyMessageID is the key kind under which a request's Message-ID is stored.
const KeyMessageID = "message-id"

var caseTag = regexp.MustCompile(`\[docket:([0-9a-fA-F-]{36})\]`)

// ourMessageID matches the Message-IDs docket gives its own mail: <docket.CASE.SEQ@domain>.
var ourMessageID = regexp.MustCompile(`^docket\.([0-9a-fA-F-]{36})\.`)

// findThread finds the case a message replies to: a [docket:ID] tag in its subject, one of
// docket's own Message-IDs in In-Reply-To or References, or the Message-ID of an earlier
// request. The message joins it only if it comes from the same requester — the same
// registered authority, or the same address — so that nobody can slip mail into another's
// case by quoting its number.
func (r *Receiver) findThread(ctx context.Context, msg *mailmsg.Message, a *docket.Authority, level string) (caseID, why string) {
	type candidate struct {
		caseID, why string
		from        string // the address of the mail it replies to, when known
	}
	var candidates []candidate
	if m := caseTag.FindStringSubmatch(msg.Subject); m != nil {
		candidates = append(candidates, candidate{caseID: strings.ToLower(m[1]), why: "its subject names the case"})
	}
	// In-Reply-To and the newest References are enough: a long thread is not looked up whole.
	ids := append(append([]string(nil), msg.InReplyTo...), msg.References[max(0, len(msg.References)-10):]...)
	for _, id := range ids {
		if m := ourMessageID.FindStringSubmatch(id); m != nil {
			candidates = append(candidates, candidate{caseID: strings.ToLower(m[1]), why: "it replies to docket's mail " + id})
		} else if req, err := r.cfg.Store.RequestByKey(ctx, KeyMessageID, strings.ToLower(id)); err == nil && req.Body.Email != nil {
			candidates = append(candidates, candidate{caseID: req.CaseID, why: "it replies to the earlier mail " + id, from: req.Body.Email.From})
		}
	}
	for _, c := range candidates {
		if r.sameRequester(ctx, c.caseID, c.from, msg.From, a, level) {
			return c.caseID, c.why
		}
	}
	return "", ""
}

// sameRequester says whether mail from `from` (verified at level, from authority a if
// registered) may join the case: the same registered authority, or the same address as the
// mail it replies to (replyTo; the case's first mail when unknown) and at least as verified.
func (r *Receiver) sameRequester(ctx context.Context, caseID, replyTo, from string, a *docket.Authority, level string) bool {
	c, err := r.cfg.Store.Case(ctx, caseID)
	if err != nil {
		return false
	}
	if a != nil && c.AuthorityID == a.ID {
		return true
	}
	if rank(level) < rank(c.Sender) || (c.Sender == "" && c.AuthorityID != "") {
		// A From header is easy to forge: a less verified message than the one that
		// opened the case does not join it on its From alone.
		return false
	}
	if from == "" {
		return false // a message without a From joins no case on its address
	}
	if replyTo == "" {
		first, err := r.cfg.Store.FirstRequest(ctx, caseID)
		if err != nil || first.Body.Email == nil {
			return false
		}
		replyTo = first.Body.Email.From
	}
	return strings.EqualFold(replyTo, from)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// rank orders sender levels: unverified < official < registered.
func rank(level string) int {
	switch level {
	case docket.SenderRegistered:
		return 2
	case docket.SenderOfficial:
		return 1
	}
	return 0
}
