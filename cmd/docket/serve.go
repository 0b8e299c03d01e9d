package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/account"
	"github.com/docket-dev/docket/api"
	"github.com/docket-dev/docket/hashbank"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/mailout"
	"github.com/docket-dev/docket/ratelimit"
	"github.com/docket-dev/docket/rules"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/web"
	"github.com/docket-dev/docket/workflow"
)

func (m *Main) withService(ctx context.Context, resolve func() (*Config, error), fn func(context.Context, *workflow.Service) error) error {
	cfg, err := resolve()
	if err != nil {
		return err
	}
	log := m.logger(cfg)
	regimes, err := loadRegimes(cfg)
	if err != nil {
		return err
	}
	decisions, err := loadGrounds(cfg)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(ctx, workflow.New(workflow.Config{Store: s, Regimes: regimes, Grounds: decisions, Logger: log}))
}

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	resolve := m.flags(fs)
	addr := fs.String("addr", "", "listen address HOST:PORT (DOCKET_ADDR, default 127.0.0.1:8080)")
	metricsAddr := fs.String("metrics-addr", "", "listen address HOST:PORT of /metrics, apart from the public listener (DOCKET_METRICS_ADDR; off by default)")
	publicURL := fs.String("public-url", "", "the site's address as people reach it, base of links in mail (DOCKET_PUBLIC_URL; default http://ADDR)")
	clockEvery := fs.Duration("clock-interval", 0, "how often the deadline clock runs (DOCKET_CLOCK_INTERVAL, default 5s)")
	smtpAddr := fs.String("smtp-addr", "", "SMTP listen address HOST:PORT for the legal addresses (DOCKET_SMTP_ADDR; off by default)")
	smtpDomain := fs.String("smtp-domain", "", "the platform's mail domain: legal@, emergency@, abuse@ at it (DOCKET_SMTP_DOMAIN)")
	lmtpAddr := fs.String("lmtp-addr", "", "LMTP listen address HOST:PORT or unix:/path, for a local MTA to hand mail over (DOCKET_LMTP_ADDR)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if *metricsAddr != "" {
		cfg.MetricsAddr = *metricsAddr
	}
	if *publicURL != "" {
		cfg.PublicURL = *publicURL
	}
	if *smtpAddr != "" {
		cfg.SMTPAddr = *smtpAddr
	}
	if *smtpDomain != "" {
		cfg.SMTPDomain = *smtpDomain
	}
	if *lmtpAddr != "" {
		cfg.LMTPAddr = *lmtpAddr
	}
	if *clockEvery <= 0 {
		d, err := time.ParseDuration(cfg.ClockInterval)
		if err != nil || d <= 0 {
			return fmt.Errorf("clock_interval %q: want a positive duration such as 5s", cfg.ClockInterval)
		}
		*clockEvery = d
	}
	log := m.logger(cfg)
	regimes, err := loadRegimes(cfg)
	if err != nil {
		return err
	}
	decisions, err := loadGrounds(cfg)
	if err != nil {
		return err
	}
	// Bind before anything is created: the first admin's sign-in is printed once, and a
	// start that cannot listen (port busy, bad --addr) must not consume it.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	var metricsLn net.Listener // /metrics apart from the public listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("listen on metrics_addr %s: %w", cfg.MetricsAddr, err)
		}
		defer metricsLn.Close()
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = localURL(ln.Addr())
	}
	if cfg.PublicURL, err = web.PublicBase(cfg.PublicURL); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	// Every commit signs the head of the log's Merkle tree; receipts carry it.
	logKey, err := translog.LoadOrCreateKey(cfg.LogKey)
	if err != nil {
		return err
	}
	store.SetSigner(logKey)

	var triager *triage.Triager
	if !cfg.NoTriage {
		if triager, err = triage.New(); err != nil {
			return err
		}
	}
	routing, err := rules.Load(cfg.Rules)
	if err != nil {
		return err
	}
	// The hash banks, in memory: loaded now, brought up to date before each look-up.
	matcher := hashbank.New(hashbank.Config{Store: store})
	if err := matcher.Refresh(ctx); err != nil {
		return err
	}
	if n := matcher.Len(); n > 0 {
		log.Info("hash banks loaded", slog.Int("hashes", n))
	}
	lease, _ := cfg.jobLease() // checked when the config was read
	runner := jobs.New(jobs.Config{Store: store, Logger: log, Batch: 64, Now: m.Now, Lease: lease})
	var refresh time.Duration
	if cfg.DB != "" {
		refresh = 5 * time.Second // other nodes may share the database
	}
	keeper, err := loadEvidenceKey(cfg)
	if err != nil {
		return err
	}
	misuse, err := misuseConfig(cfg.Misuse)
	if err != nil {
		return err
	}
	svc := workflow.New(workflow.Config{Store: store, Regimes: regimes, Grounds: decisions, Logger: log, MaxBatch: cfg.IntakeBatch,
		Triager: triager, Rules: routing, OnIntake: runner.Wake, RefreshRelated: refresh, Paging: cfg.Pager != nil, Now: m.Now,
		Media: matcher, AppealKey: keeper.DeriveKey("appeal-token"), DisputeBodies: cfg.DisputeBodies, Misuse: misuse,
		NCMEC: cfg.NCMECURL != ""})
	if err := svc.LoadAutomationReviews(ctx); err != nil {
		return err
	}
	if n, err := svc.LearnCorrections(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("triage learnt people's corrections", slog.Int("corrections", n))
	}
	svc.Start(ctx)
	defer svc.Stop()

	runner.HandleBatch(workflow.JobTriage, svc.TriageJobs)
	runner.Handle(workflow.JobMediaMatch, svc.MatchMediaJob)
	runner.Every(workflow.JobClock, *clockEvery, func(ctx context.Context, _ *docket.Job) error {
		_, err := svc.MarkClocks(ctx)
		return err
	})
	mailer, err := newMailer(cfg, log, store, svc)
	if err != nil {
		return err
	}
	stopMail, err := m.startMail(ctx, cfg, log, store, svc, runner, mailer)
	if err != nil {
		return err
	}
	startPlatform(cfg, log, store, svc, runner, mailer, keeper)
	startTransparency(cfg, log, store, svc, runner)
	startNCMEC(cfg, log, store, svc, runner, keeper)
	defer stopMail() // before the service stops: messages in DATA are committed first
	if err := runner.Start(ctx); err != nil {
		return err
	}
	defer runner.Stop()

	proxies, err := ratelimit.NewProxies(cfg.TrustProxy, cfg.TrustedProxies)
	if err != nil {
		return err
	}
	// One limiter for notices by API and by form: the documented limit holds across both.
	notices := ratelimit.NewNotices(cfg.NoticesPerMinute, cfg.NoticeBurst)
	reg := prometheus.NewRegistry()
	apiHandler := api.New(api.Config{
		Service: svc, Store: store, Logger: log, Registry: reg, MaxBody: cfg.MaxBody,
		Proxies: proxies, Notices: notices,
		RequestsPerSecond: cfg.RequestsPerSecond, RequestBurst: cfg.RequestBurst, Keeper: keeper, MetricsToken: cfg.MetricsToken,
		LogKey: logKey.Public(),
	})
	sessionTTL, err := time.ParseDuration(cfg.SessionTTL)
	if err != nil || sessionTTL <= 0 {
		return fmt.Errorf("session_ttl %q: want a positive duration such as 8h", cfg.SessionTTL)
	}
	accounts := account.New(account.Config{Store: store, Logger: log, Now: svc.Now, SessionTTL: sessionTTL, MaxHashes: cfg.MaxHashes})
	noticeReceipt := "" // a notice's receipt by e-mail, when there is a relay to send it
	if mailer.Configured() {
		noticeReceipt = mailout.JobReceipt
	}
	pages, err := web.New(web.Config{Service: svc, Store: store, Accounts: accounts, Logger: log, Mailer: mailer, PublicURL: cfg.PublicURL,
		NoticeReceipt: noticeReceipt, MaxUpload: cfg.MaxBody,
		SignInsPerMinute: cfg.SignInsPerMinute, SignInBurst: cfg.SignInBurst, Proxies: proxies, Notices: notices, SSO: cfg.SSO,
		PlatformName: cfg.PlatformName})
	if err != nil {
		return err
	}
	if err := m.bootstrapAdmin(ctx, cfg, svc, accounts); err != nil {
		return err
	}
	// The pages (console, portal, notice form) and the API share the listener.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.Paths(r.URL.Path) {
			pages.ServeHTTP(w, r)
			return
		}
		apiHandler.ServeHTTP(w, r)
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if metricsLn != nil {
		msrv := &http.Server{Handler: apiHandler.Metrics(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: srv.ErrorLog}
		defer msrv.Close()
		go func() {
			if err := msrv.Serve(metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("metrics listener", slog.Any("err", err))
			}
		}()
		log.InfoContext(ctx, "metrics listening", slog.String("addr", metricsLn.Addr().String()))
		if m.Listening != nil {
			m.Listening("metrics", metricsLn.Addr().String())
		}
	}
	engine := "sqlite in " + cfg.Data
	if cfg.DB != "" {
		engine = "postgres"
	}
	log.InfoContext(ctx, "docket listening", slog.String("addr", ln.Addr().String()), slog.String("store", engine))
	fmt.Fprintf(m.Stdout, "docket listening on http://%s (%s)\nconsole: http://%s/console · portal: http://%s/portal · notices: http://%s/notice\n", ln.Addr(), engine, ln.Addr(), ln.Addr(), ln.Addr())
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	if cfg.PprofAddr != "" {
		// Profiling stays on its own listener, never on the public one.
		go func() {
			log.Info("pprof listening", slog.String("addr", cfg.PprofAddr))
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			if err := http.ListenAndServe(cfg.PprofAddr, mux); err != nil {
				log.Warn("pprof listener", slog.Any("err", err))
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// localURL is the default public URL: http:// and the address listened on, for local use
// (an unspecified host is written localhost).
func localURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// bootstrapAdmin creates the first admin when there is no staff at all, and prints how to
// sign in: the console is usable from the first start.
func (m *Main) bootstrapAdmin(ctx context.Context, cfg *Config, svc *workflow.Service, accounts *account.Service) error {
	users, err := svc.Store().Users(ctx)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return nil
	}
	u := &docket.User{Email: cfg.AdminEmail, Role: docket.RoleAdmin}
	token, err := svc.AddUser(ctx, docket.Actor("system:bootstrap"), u)
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	cred, err := accounts.AddStaff(ctx, u)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\nFirst start: an admin was created (shown once — keep it safe).\nAPI token:        %s\n", token)
	m.printCredentials(cred)
	fmt.Fprintln(m.Stdout)
	return nil
}
