package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/mailauth"
	"github.com/docket-dev/docket/mailin"
	"github.com/docket-dev/docket/mailmsg"
	"github.com/docket-dev/docket/mailout"
	"github.com/docket-dev/docket/pdftext"
	"github.com/docket-dev/docket/workflow"
)

// startMail registers the mail jobs and, when configured, starts the SMTP and LMTP
// listeners. It returns a function that stops them.
func (m *Main) startMail(ctx context.Context, cfg *Config, log *slog.Logger, store docket.Store, svc *workflow.Service, runner *jobs.Runner, mailer *mailout.Mailer) (func(), error) {
	mailer.Register(runner)
	if cfg.SMTPAddr == "" && cfg.LMTPAddr == "" {
		return func() {}, nil
	}
	official, err := mailauth.LoadOfficial(cfg.OfficialDomains)
	if err != nil {
		return nil, err
	}
	var tlsConfig *tls.Config
	if cfg.SMTPTLSCert != "" || cfg.SMTPTLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.SMTPTLSCert, cfg.SMTPTLSKey)
		if err != nil {
			return nil, fmt.Errorf("SMTP TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.SMTPRequireTLS && tlsConfig == nil {
		return nil, errors.New("smtp_require_tls needs smtp_tls_cert and smtp_tls_key")
	}
	recv, err := mailin.New(mailin.Config{
		Service: svc, Store: store, Logger: log, Domain: cfg.SMTPDomain, Addresses: cfg.SMTPAddresses,
		MaxBytes: cfg.SMTPMaxBytes, MaxRecipients: cfg.SMTPMaxRecipients, TLS: tlsConfig, RequireTLS: cfg.SMTPRequireTLS,
		Verifier:   &mailauth.Verifier{Resolver: mailauth.NewResolver(cfg.DNS), Official: official},
		ReceiptJob: mailout.JobReceipt,
		Limits:     mailmsg.Limits{PDFText: pdftext.Isolated{}.Extract},
	})
	if err != nil {
		return nil, err
	}
	var servers []*smtp.Server
	sessions := mailin.NewSessionLimit(cfg.SMTPMaxSessions, log) // one cap for SMTP and LMTP
	for _, l := range []struct {
		kind, addr string
		lmtp       bool
	}{{"smtp", cfg.SMTPAddr, false}, {"lmtp", cfg.LMTPAddr, true}} {
		if l.addr == "" {
			continue
		}
		network, addr := "tcp", l.addr
		if p, ok := strings.CutPrefix(addr, "unix:"); ok {
			network, addr = "unix", p
			_ = os.Remove(addr)
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			for _, s := range servers {
				s.Close()
			}
			return nil, fmt.Errorf("listen for %s on %s: %w", l.kind, l.addr, err)
		}
		srv := recv.Server(l.lmtp)
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(sessions.Listener(ln)); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
				log.Error(l.kind+" server stopped", slog.Any("err", err))
			}
		}()
		log.InfoContext(ctx, "mail listening", slog.String("protocol", l.kind), slog.String("addr", ln.Addr().String()), slog.String("domain", cfg.SMTPDomain))
		fmt.Fprintf(m.Stdout, "docket %s listening on %s for @%s\n", l.kind, ln.Addr(), cfg.SMTPDomain)
		if m.Listening != nil {
			m.Listening(l.kind, ln.Addr().String())
		}
	}
	return func() {
		for _, s := range servers {
			// Messages in DATA finish (each is committed or answered 451) before this returns.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_ = s.Shutdown(sctx)
			cancel()
		}
	}, nil
}

func newMailer(cfg *Config, log *slog.Logger, store docket.Store, svc *workflow.Service) (*mailout.Mailer, error) {
	relay := mailout.Relay{
		Addr: cfg.RelayAddr, Username: cfg.RelayUsername, Password: cfg.RelayPassword, Security: cfg.RelaySecurity,
		From: cfg.MailFrom, Domain: cfg.SMTPDomain,
	}
	switch relay.Security {
	case "", "starttls", "tls", "none":
	default:
		return nil, fmt.Errorf("relay_security %q: want starttls, tls or none", relay.Security)
	}
	if relay.From == "" && cfg.SMTPDomain != "" {
		relay.From = "legal@" + cfg.SMTPDomain
	}
	if cfg.RelayAddr != "" && relay.From == "" {
		return nil, errors.New("relay_addr needs mail_from (or smtp_domain, for legal@DOMAIN)")
	}
	if relay.From != "" {
		if _, err := mailout.CheckAddress(relay.From); err != nil {
			return nil, fmt.Errorf("mail_from: %w", err)
		}
	}
	if cfg.RelayCA != "" {
		pem, err := os.ReadFile(cfg.RelayCA)
		if err != nil {
			return nil, fmt.Errorf("relay_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("relay_ca %s: no certificate", cfg.RelayCA)
		}
		host, _, _ := net.SplitHostPort(cfg.RelayAddr)
		relay.TLS = &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
	}
	if cfg.DKIMKey != "" {
		key, err := mailout.LoadDKIMKey(cfg.DKIMKey)
		if err != nil {
			return nil, err
		}
		if cfg.DKIMSelector == "" {
			return nil, errors.New("dkim_key needs dkim_selector")
		}
		domain := cfg.DKIMDomain
		if domain == "" {
			if i := strings.LastIndexByte(relay.From, '@'); i >= 0 {
				domain = relay.From[i+1:]
			}
		}
		relay.DKIM = &mailout.DKIM{Domain: domain, Selector: cfg.DKIMSelector, Signer: key}
	}
	return &mailout.Mailer{Service: svc, Store: store, Relay: relay, Logger: log}, nil
}
