package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/actions"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/mailout"
	"github.com/docket-dev/docket/pager"
	"github.com/docket-dev/docket/platform"
	"github.com/docket-dev/docket/refplatform"
	"github.com/docket-dev/docket/workflow"
)

// startPlatform registers the jobs that act on the platform, keep evidence and page, and
// returns the evidence keeper (it also signs package download links).
// loadEvidenceKey loads (creating it on first start) the evidence key: it seals snapshots,
// signs package links, and keys the tokens of appeal links.
func loadEvidenceKey(cfg *Config) (*evidence.Keeper, error) {
	if cfg.Data != "" {
		if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
			return nil, fmt.Errorf("data folder: %w", err)
		}
	}
	return evidence.LoadOrCreateKey(cfg.EvidenceKey)
}

func startPlatform(cfg *Config, log *slog.Logger, store docket.Store, svc *workflow.Service, runner *jobs.Runner, mailer *mailout.Mailer, keeper *evidence.Keeper) {
	carrier := &actions.Carrier{Service: svc, Store: store, Keeper: keeper, Mail: mailer,
		ThreatContacts: cfg.ThreatContacts, PlatformName: cfg.PlatformName, PublicURL: cfg.PublicURL, Logger: log}
	if cfg.PlatformURL != "" {
		carrier.Platform = &platform.Client{BaseURL: cfg.PlatformURL, Secret: []byte(cfg.PlatformSecret)}
	}
	carrier.Register(runner)
	if cfg.Pager != nil {
		(&pager.Pager{Config: cfg.Pager, Service: svc, Store: store, Mail: mailer, Logger: log}).Register(runner)
	}
}

// refPlatform runs the reference platform.
func (m *Main) refPlatform(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("refplatform", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	data := fs.String("data", "refplatform-data", "data folder of the platform's SQLite database")
	secret := fs.String("secret", m.Getenv("DOCKET_PLATFORM_SECRET"), "shared secret of the connector's signatures (DOCKET_PLATFORM_SECRET)")
	seed := fs.Bool("seed", false, "fill an empty platform with a few accounts, channels and messages")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *secret == "" {
		return exitError{2, "refplatform needs --secret (or DOCKET_PLATFORM_SECRET): docket's calls are signed with it"}
	}
	log := slog.New(slog.NewTextHandler(m.Stderr, nil))
	return runRefPlatform(ctx, *addr, *data, *secret, *seed, log, func(a string) {
		fmt.Fprintf(m.Stdout, "reference platform listening on http://%s\n", a)
		if m.Ready != nil {
			m.Ready(a)
		}
	})
}

func runRefPlatform(ctx context.Context, addr, data, secret string, seed bool, log *slog.Logger, ready func(string)) error {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("refplatform data folder: %w", err)
	}
	db, err := refplatform.Open(ctx, data)
	if err != nil {
		return err
	}
	defer db.Close()
	if seed {
		if _, err := db.Seed(ctx, time.Now()); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("refplatform: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: (&refplatform.Server{DB: db, Verifier: &platform.Verifier{Secret: []byte(secret)}, Log: log}).Handler(),
		ReadHeaderTimeout: 10 * time.Second}
	ready(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
