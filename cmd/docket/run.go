package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/docket-dev/docket/grounds"
	"github.com/docket-dev/docket/translog"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/account"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/mailin"
	"github.com/docket-dev/docket/ncmec"
	"github.com/docket-dev/docket/pager"
	"github.com/docket-dev/docket/postgres"
	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/web"
	"github.com/docket-dev/docket/workflow"
)

// Main is the program, with its outputs and environment injected so tests can run it.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Ready, when set, receives the address the server listens on.
	Ready func(addr string)
	// Listening, when set, receives the address of each further listener ("smtp", "lmtp").
	Listening func(kind, addr string)
	// Now, when set, is the clock of serve (tests move it to expire holds and escalate pages).
	Now func() time.Time
}

// NewMain returns a Main wired to the process.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

const usage = `docket receives, tracks and answers requests from authorities and the public.

Usage:
  docket serve     [common flags] [--addr HOST:PORT] [--public-url URL] [--clock-interval 5s]
                   [--metrics-addr HOST:PORT]
                   [--smtp-addr HOST:PORT --smtp-domain DOMAIN] [--lmtp-addr HOST:PORT]
  docket migrate   [common flags]
  docket authority add --name NAME --country CC [--kind KIND] [--domain D]... [--age-recipient age1…] [--json]
  docket user add      --email EMAIL --role agent|reviewer|policy|admin|auditor [--json]
                       (an API token, and a console sign-in: password and TOTP secret)
  docket user reset-login --email EMAIL [--json]   (a new password and second factor)
  docket user change   --email EMAIL [--role ROLE] [--rotate-token] [--json]
  docket authority change --id ID [--domain D]... [--no-domains] [--age-recipient age1…|""] [--rotate-token] [--json]
                       (each change is an event in the audit chain)
  docket officer add   --authority ID --email EMAIL [--name NAME] [--json]
                       (a portal sign-in for an officer, on a domain of the authority)
  docket audit verify  [--head SEQ:HASH | --since HEAD.json --key KEY] [--json]
  docket audit head
  docket log key       [common flags]   (the public key that verifies receipts: one line, as GET /api/v1/log/key)
  docket log head      [common flags]   (the latest signed tree head: a checkpoint for audit verify --since)
  docket receipt verify RECEIPT.json --key KEY [--proof PROOF.json] [--head NEWER_HEAD.json --consistency PROOF.json]
                       (offline: no server, no database; exit 1 naming what failed)
  docket sor export    [common flags] [--since YYYY-MM-DD] [--state pending|accepted|refused]
                       (the statements of reasons for the EU Transparency Database, one JSON per line)
  docket report requests|dsa [common flags] --from YYYY-MM-DD --to YYYY-MM-DD [--format csv|html|json] [--out DIR]
                       [--explain FIGURE] [--figures] [--upto SEQ]
                       (transparency reports from the audit log alone, read-only; dsa: csv or html)
  docket backup        [common flags] DEST   (a consistent copy of the SQLite database while serving)
  docket triage        < requests.jsonl      (no server, no database)
  docket triage --eval FILE
  docket triage export-corrections [common flags]   (people's corrections as --eval lines)
  docket train         [--data ../shared/data/text/train.tsv] [--out triage/model.bin]
  docket train risk    [--eval-dir testdata/eval] [--hold blind3-g2.jsonl,blind3-g3.jsonl] [--data …] [--out triage/risk.bin]
  docket mail-sink     [--addr 127.0.0.1:2526]   (a local relay that prints mail, for trying docket out)
  docket refplatform   [--addr 127.0.0.1:8090] [--data DIR] [--secret S] [--seed]   (the reference platform)
  docket demo          [--addr 127.0.0.1:8080] [--platform-addr 127.0.0.1:8090] [--data DIR]
                       (docket and the reference platform together, with a few requests acted on)
  docket sim           [--requests N] [--notices N] [--staff N] [--days D] [--seed S] [--config FILE]
                       [--policy docket|fifo|priority[,…]] [--find-staff] [--svg FILE] [--check N] [--json]
                       (a simulated month of arrivals and staff: overdue per regime, answer times; docs/CAPACITY.md)
  docket hash pdq      [--dihedral] [--max-pixels N] [--jobs N] FILE…   (HASH,QUALITY,FILE per
                       image, as Meta's pdq-photo-hasher: JPEG, PNG, GIF, WebP, BMP)
  docket hash sha256|md5 [--jobs N] FILE…   (HEX  FILE per file of any kind, as sha256sum)
  docket bank add NAME --source S --category C [--dsa-category STATEMENT_CATEGORY_…]
                       [--action review|remove|restrict|suspend|terminate] [--disabled] [--json]
  docket bank import NAME FILE [--format lines|csv|hma] [--kind pdq|sha256|md5]
  docket bank withdraw NAME FILE [--format lines|csv|hma] [--kind pdq|sha256|md5]
  docket bank export NAME [--format lines|csv|hma]
  docket bank list [--json]
  docket bank enable|disable NAME
                       (hash banks of known media; every change is an event in the audit chain)
  docket flagger add --name NAME --coordinator DSC --area CATEGORY... [--reference R] [--email E] [--json]
  docket flagger list [--json]
  docket flagger suspend ID --until 2026-03-01|30d --reason TEXT
  docket flagger reinstate|revoke ID --reason TEXT
  docket flagger rotate-token ID [--json]
                       (trusted flaggers, DSA art. 22: their notices go first; every change is an event)
  docket notifier list [--warned] [--key email:ADDRESS|flagger:ID] [--limit N] [--json]
                       (notifiers' assessed notices, warnings and suspensions under DSA art. 23)

Common flags (each also read from the environment, and from --config FILE):
  --data DIR        data folder of the embedded SQLite database (DOCKET_DATA, default ./docket-data)
  --db URL          postgres://… to use PostgreSQL instead (DOCKET_DB)
  --regimes FILE    a regime table replacing the embedded one (DOCKET_REGIMES)
  --grounds FILE    a decision table (refusal grounds, statements) replacing the embedded one (DOCKET_GROUNDS)
  --rules FILE      routing rules (CEL) replacing the embedded ones (DOCKET_RULES)
  --config FILE     a JSON file with any of: data, db, addr, public_url (DOCKET_PUBLIC_URL:
                    the site's address, base of links in mail), regimes, rules, clock_interval,
                    max_body, notices_per_minute, notice_burst, trust_proxy, trusted_proxies, log_level,
                    requests_per_second (DOCKET_REQUESTS_PER_SECOND), request_burst (each
                    authority's submissions; defaults 50 and 500; negative: no limit),
                    signins_per_minute, signin_burst, max_hashes (sign-ins per address, and
                    password hashes at once; defaults 10, 20, GOMAXPROCS),
                    pprof_addr (DOCKET_PPROF_ADDR: profiling on a separate listener),
                    metrics_addr (DOCKET_METRICS_ADDR: /metrics on a separate listener),
                    metrics_token (DOCKET_METRICS_TOKEN: /metrics for this bearer token),
                    intake_batch (DOCKET_INTAKE_BATCH: receipts per commit, default 256),
                    no_triage (DOCKET_NO_TRIAGE=true: no automatic triage on receipt),
                    job_lease (DOCKET_JOB_LEASE: how long a node holds a job before another
                    node may take it over; default 5m, statements of reasons 2m),
                    admin_email (DOCKET_ADMIN_EMAIL: the first admin, created and printed by
                    serve on first start; default admin@docket.local), session_ttl (default 8h),
                    sso (object: name, issuer, client_id, client_secret
                    (DOCKET_SSO_CLIENT_SECRET), redirect_url: staff sign-in through OpenID Connect)
  E-mail (see docs/OPERATIONS.md): smtp_addr, smtp_domain (also --smtp-addr, --smtp-domain,
                    DOCKET_SMTP_ADDR, DOCKET_SMTP_DOMAIN), lmtp_addr, smtp_tls_cert, smtp_tls_key,
                    smtp_require_tls, smtp_max_bytes, smtp_max_recipients, smtp_max_sessions,
                    smtp_addresses, dns,
                    official_domains, relay_addr, relay_username, relay_password
                    (DOCKET_RELAY_PASSWORD), relay_security, relay_ca, mail_from, dkim_key,
                    dkim_selector, dkim_domain
  Platform (see docs/OPERATIONS.md): platform_url, platform_secret (DOCKET_PLATFORM_URL,
                    DOCKET_PLATFORM_SECRET), platform_name, evidence_key (default DATA/evidence.key),
                    log_key (DOCKET_LOG_KEY, default DATA/log.key: signs the log's tree heads),
                    pager (object) or pager_file (DOCKET_PAGER_FILE), threat_contacts
  Transparency Database (see docs/OPERATIONS.md): sor_url, sor_token (DOCKET_SOR_URL,
                    DOCKET_SOR_TOKEN: statements of reasons are submitted when set), sor_interval
  NCMEC CyberTipline (US, 18 U.S.C. 2258A; see docs/OPERATIONS.md): ncmec_url, ncmec_user,
                    ncmec_password (DOCKET_NCMEC_URL, _USER, _PASSWORD: child-protection cases are
                    reported when set), ncmec_reporter (object: first_name, last_name, email…)
`

// Config is docket's configuration: flags over environment over the config file.
type Config struct {
	Data string `json:"data"`
	DB   string `json:"db"`
	Addr string `json:"addr"`
	// PublicURL is the site's address as people reach it: the base of links in mail
	// (default http:// and the address serve listens on).
	PublicURL        string  `json:"public_url"`
	Regimes          string  `json:"regimes"`
	Grounds          string  `json:"grounds"`
	Rules            string  `json:"rules"`
	ClockInterval    string  `json:"clock_interval"`
	MaxBody          int64   `json:"max_body"`
	NoticesPerMinute float64 `json:"notices_per_minute"`
	// RequestsPerSecond and RequestBurst limit each authority's submissions (default 50/s,
	// bursts of 500; negative: no limit).
	RequestsPerSecond float64 `json:"requests_per_second"`
	RequestBurst      int     `json:"request_burst"`
	NoticeBurst       int     `json:"notice_burst"`
	TrustProxy        bool    `json:"trust_proxy"`
	// TrustedProxies are the CIDR ranges of the proxies in front of docket whose
	// X-Forwarded-For entries count (with trust_proxy and none, the connection's peer).
	TrustedProxies []string `json:"trusted_proxies"`
	// SignInsPerMinute and SignInBurst limit console and portal sign-ins per client
	// address; MaxHashes bounds the password hashes computed at once.
	SignInsPerMinute float64 `json:"signins_per_minute"`
	SignInBurst      int     `json:"signin_burst"`
	MaxHashes        int     `json:"max_hashes"`
	LogLevel         string  `json:"log_level"`
	PprofAddr        string  `json:"pprof_addr"`
	// MetricsAddr is a listener of its own for /metrics; MetricsToken, a bearer token that
	// /metrics asks for (on the public listener too). Without either, no metrics are served.
	MetricsAddr  string `json:"metrics_addr"`
	MetricsToken string `json:"metrics_token"`
	IntakeBatch  int    `json:"intake_batch"`
	NoTriage     bool   `json:"no_triage"`
	// AdminEmail is the first admin's address, created on first start.
	AdminEmail string `json:"admin_email"`
	// SessionTTL is how long a console or portal sign-in lasts.
	SessionTTL string `json:"session_ttl"`
	// JobLease is how long a node holds a background job (and a statement of reasons it
	// is submitting) before another node may take it over: the longest a job of a node
	// that died waits (default 5m for jobs, 2m for statements; when set, both).
	JobLease string `json:"job_lease"`
	// SSO is an OpenID Connect provider for staff sign-in (its client_secret may come from
	// DOCKET_SSO_CLIENT_SECRET).
	SSO *web.SSO `json:"sso"`

	// E-mail intake (off unless smtp_addr or lmtp_addr is set).
	SMTPAddr          string `json:"smtp_addr"`
	SMTPDomain        string `json:"smtp_domain"`
	LMTPAddr          string `json:"lmtp_addr"`
	SMTPTLSCert       string `json:"smtp_tls_cert"`
	SMTPTLSKey        string `json:"smtp_tls_key"`
	SMTPRequireTLS    bool   `json:"smtp_require_tls"`
	SMTPMaxBytes      int64  `json:"smtp_max_bytes"`
	SMTPMaxRecipients int    `json:"smtp_max_recipients"`
	// SMTPMaxSessions caps the SMTP and LMTP sessions open at once (default 100; beyond, 421).
	SMTPMaxSessions int              `json:"smtp_max_sessions"`
	SMTPAddresses   []mailin.Address `json:"smtp_addresses"`
	DNS             string           `json:"dns"`
	OfficialDomains string           `json:"official_domains"`
	// Outbound mail.
	RelayAddr     string `json:"relay_addr"`
	RelayUsername string `json:"relay_username"`
	RelayPassword string `json:"relay_password"`
	RelaySecurity string `json:"relay_security"`
	RelayCA       string `json:"relay_ca"`
	MailFrom      string `json:"mail_from"`
	DKIMKey       string `json:"dkim_key"`
	DKIMSelector  string `json:"dkim_selector"`
	DKIMDomain    string `json:"dkim_domain"`

	// Platform connector, evidence and emergency paging (see docs/OPERATIONS.md).
	PlatformURL    string `json:"platform_url"`
	PlatformSecret string `json:"platform_secret"`
	PlatformName   string `json:"platform_name"`
	// EvidenceKey is the age identity file that seals preserved snapshots (default
	// DATA/evidence.key, created on first start).
	EvidenceKey string `json:"evidence_key"`
	// LogKey is the Ed25519 key file that signs the heads of the event log's Merkle tree,
	// which receipts carry (default DATA/log.key, created on first start).
	LogKey string `json:"log_key"`
	// Pager is the on-call configuration; PagerFile a file holding it.
	Pager     *pager.Config `json:"pager"`
	PagerFile string        `json:"pager_file"`
	// ThreatContacts maps a country code to its authority's address for threat-to-life
	// notices; "*" is the fallback (Europol).
	ThreatContacts map[string]string `json:"threat_contacts"`
	// DisputeBodies are the out-of-court dispute settlement bodies (DSA art. 21) that the
	// answers to appeals name: [{"name", "url", "note"}]; by default the Commission's list.
	DisputeBodies []docket.DisputeBody `json:"dispute_bodies"`

	// The EU Transparency Database (DSA art. 24(5)): its address and the platform's API
	// token; statements of reasons are submitted when SORURL is set, every SORInterval.
	SORURL      string `json:"sor_url"`
	SORToken    string `json:"sor_token"`
	SORInterval string `json:"sor_interval"`
	// Misuse is the rule of DSA art. 23 (warning, then suspension of a notifier's notices).
	Misuse *MisuseFile `json:"misuse"`
	// NCMEC's CyberTipline Reporting API (18 U.S.C. § 2258A): its address and the
	// credentials NCMEC issued; decided child-protection cases are reported when NCMECURL is
	// set, naming NCMECReporter.
	NCMECURL      string        `json:"ncmec_url"`
	NCMECUser     string        `json:"ncmec_user"`
	NCMECPassword string        `json:"ncmec_password"`
	NCMECReporter NCMECReporter `json:"ncmec_reporter"`
}

// flags registers the common flags on fs and returns a function that resolves the config
// once fs is parsed.
func (m *Main) flags(fs *flag.FlagSet) func() (*Config, error) {
	var cfg Config
	configFile := fs.String("config", m.Getenv("DOCKET_CONFIG"), "JSON config file")
	fs.StringVar(&cfg.Data, "data", "", "data folder (embedded SQLite)")
	fs.StringVar(&cfg.DB, "db", "", "postgres://… URL")
	fs.StringVar(&cfg.Regimes, "regimes", "", "regime table file")
	fs.StringVar(&cfg.Grounds, "grounds", "", "decision table file (refusal grounds and statements)")
	fs.StringVar(&cfg.Rules, "rules", "", "routing rules file (CEL)")
	fs.StringVar(&cfg.LogLevel, "log-level", "", "debug, info, warn or error")
	return func() (*Config, error) {
		base := Config{}
		if *configFile != "" {
			b, err := os.ReadFile(*configFile)
			if err != nil {
				return nil, fmt.Errorf("read config: %w", err)
			}
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&base); err != nil {
				return nil, fmt.Errorf("read config %s: %w", *configFile, err)
			}
		}
		pick := func(flagVal, env, file, def string) string {
			for _, v := range []string{flagVal, m.Getenv(env), file, def} {
				if v != "" {
					return v
				}
			}
			return ""
		}
		out := base
		out.Data = pick(cfg.Data, "DOCKET_DATA", base.Data, "docket-data")
		out.DB = pick(cfg.DB, "DOCKET_DB", base.DB, "")
		out.Regimes = pick(cfg.Regimes, "DOCKET_REGIMES", base.Regimes, "")
		out.Grounds = pick(cfg.Grounds, "DOCKET_GROUNDS", base.Grounds, "")
		out.Rules = pick(cfg.Rules, "DOCKET_RULES", base.Rules, "")
		out.LogLevel = pick(cfg.LogLevel, "DOCKET_LOG_LEVEL", base.LogLevel, "info")
		out.Addr = pick("", "DOCKET_ADDR", base.Addr, "127.0.0.1:8080")
		if v, err := strconv.ParseBool(m.Getenv("DOCKET_NO_TRIAGE")); err == nil {
			out.NoTriage = v
		}
		if v, err := strconv.Atoi(m.Getenv("DOCKET_INTAKE_BATCH")); err == nil && v > 0 {
			out.IntakeBatch = v
		}
		if v, err := strconv.ParseFloat(m.Getenv("DOCKET_REQUESTS_PER_SECOND"), 64); err == nil {
			out.RequestsPerSecond = v
		}
		out.PublicURL = pick("", "DOCKET_PUBLIC_URL", base.PublicURL, "")
		out.MetricsAddr = pick("", "DOCKET_METRICS_ADDR", base.MetricsAddr, "")
		out.MetricsToken = pick("", "DOCKET_METRICS_TOKEN", base.MetricsToken, "")
		out.PprofAddr = pick("", "DOCKET_PPROF_ADDR", base.PprofAddr, "")
		out.AdminEmail = pick("", "DOCKET_ADMIN_EMAIL", base.AdminEmail, "admin@docket.local")
		out.SessionTTL = pick("", "DOCKET_SESSION_TTL", base.SessionTTL, "8h")
		out.ClockInterval = pick("", "DOCKET_CLOCK_INTERVAL", base.ClockInterval, "5s")
		out.JobLease = pick("", "DOCKET_JOB_LEASE", base.JobLease, "")
		out.SMTPAddr = pick("", "DOCKET_SMTP_ADDR", base.SMTPAddr, "")
		out.SMTPDomain = pick("", "DOCKET_SMTP_DOMAIN", base.SMTPDomain, "")
		out.LMTPAddr = pick("", "DOCKET_LMTP_ADDR", base.LMTPAddr, "")
		out.RelayAddr = pick("", "DOCKET_RELAY_ADDR", base.RelayAddr, "")
		out.RelayUsername = pick("", "DOCKET_RELAY_USERNAME", base.RelayUsername, "")
		out.RelayPassword = pick("", "DOCKET_RELAY_PASSWORD", base.RelayPassword, "")
		out.RelaySecurity = pick("", "DOCKET_RELAY_SECURITY", base.RelaySecurity, "")
		out.DNS = pick("", "DOCKET_DNS", base.DNS, "")
		out.PlatformURL = pick("", "DOCKET_PLATFORM_URL", base.PlatformURL, "")
		out.PlatformSecret = pick("", "DOCKET_PLATFORM_SECRET", base.PlatformSecret, "")
		out.PlatformName = pick("", "DOCKET_PLATFORM_NAME", base.PlatformName, "the platform")
		out.EvidenceKey = pick("", "DOCKET_EVIDENCE_KEY", base.EvidenceKey, filepath.Join(out.Data, "evidence.key"))
		out.LogKey = pick("", "DOCKET_LOG_KEY", base.LogKey, filepath.Join(out.Data, "log.key"))
		out.SORURL = pick("", "DOCKET_SOR_URL", base.SORURL, "")
		out.SORToken = pick("", "DOCKET_SOR_TOKEN", base.SORToken, "")
		out.SORInterval = pick("", "DOCKET_SOR_INTERVAL", base.SORInterval, "10s")
		out.NCMECURL = pick("", "DOCKET_NCMEC_URL", base.NCMECURL, "")
		out.NCMECUser = pick("", "DOCKET_NCMEC_USER", base.NCMECUser, "")
		out.NCMECPassword = pick("", "DOCKET_NCMEC_PASSWORD", base.NCMECPassword, "")
		out.PagerFile = pick("", "DOCKET_PAGER_FILE", base.PagerFile, "")
		if out.PagerFile != "" {
			pc, err := pager.Load(out.PagerFile)
			if err != nil {
				return nil, err
			}
			out.Pager = pc
		} else if out.Pager != nil {
			if err := out.Pager.Validate(); err != nil {
				return nil, err
			}
		}
		if out.SSO != nil {
			out.SSO.ClientSecret = pick("", "DOCKET_SSO_CLIENT_SECRET", out.SSO.ClientSecret, "")
			if err := out.SSO.Validate(); err != nil {
				return nil, err
			}
		}
		for i, b := range out.DisputeBodies {
			if strings.TrimSpace(b.Name) == "" {
				return nil, fmt.Errorf("dispute_bodies[%d]: a body needs its name", i)
			}
		}
		if out.PlatformURL != "" && out.PlatformSecret == "" {
			return nil, errors.New("platform_url needs platform_secret (DOCKET_PLATFORM_SECRET): calls to the platform are signed")
		}
		if out.SORURL != "" {
			if u, err := url.Parse(out.SORURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("sor_url %q: want the Transparency Database's address, such as https://transparency.dsa.ec.europa.eu", out.SORURL)
			}
			if out.SORToken == "" {
				return nil, errors.New("sor_url needs sor_token (DOCKET_SOR_TOKEN): the platform's API token of the Transparency Database")
			}
		}
		if out.NCMECURL != "" {
			if u, err := url.Parse(out.NCMECURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("ncmec_url %q: want the CyberTipline Reporting API's address, such as %s", out.NCMECURL, ncmec.TestingURL)
			}
			if out.NCMECUser == "" || out.NCMECPassword == "" {
				return nil, errors.New("ncmec_url needs ncmec_user and ncmec_password (DOCKET_NCMEC_USER, DOCKET_NCMEC_PASSWORD): the credentials NCMEC issued")
			}
			if strings.TrimSpace(out.NCMECReporter.Email) == "" {
				return nil, errors.New("ncmec_url needs ncmec_reporter.email: the reports name who NCMEC and law enforcement may contact")
			}
		}
		if _, err := out.jobLease(); err != nil {
			return nil, err
		}
		if d, err := time.ParseDuration(out.SORInterval); err != nil || d <= 0 {
			return nil, fmt.Errorf("sor_interval %q: want a positive duration such as 10s", out.SORInterval)
		}
		return &out, nil
	}
}

// jobLease is job_lease as a duration, 0 when unset (each service's default).
func (c *Config) jobLease() (time.Duration, error) {
	if c.JobLease == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.JobLease)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("job_lease %q: want a duration of at least 1s, such as 5m", c.JobLease)
	}
	return d, nil
}

func (m *Main) logger(cfg *Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
}

// cliAccounts is the sign-in accounts as the command line manages them.
func cliAccounts(svc *workflow.Service) *account.Service {
	return account.New(account.Config{Store: svc.Store(), Logger: quietLog()})
}

// quietLog discards what a one-shot command's parts would log.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (*sqlstore.Store, error) {
	if strings.HasPrefix(cfg.DB, "postgres://") || strings.HasPrefix(cfg.DB, "postgresql://") {
		return postgres.Open(ctx, cfg.DB, log)
	}
	if cfg.DB != "" {
		return nil, fmt.Errorf("--db must be a postgres:// URL (leave it empty for the embedded SQLite database in --data)")
	}
	return sqlite.Open(ctx, cfg.Data, log)
}

// openReadOnly opens the store for reading only (audit verify, audit head): nothing is
// created, migrated or written, and a data folder without a database is an error.
func openReadOnly(ctx context.Context, cfg *Config) (*sqlstore.Store, error) {
	if strings.HasPrefix(cfg.DB, "postgres://") || strings.HasPrefix(cfg.DB, "postgresql://") {
		return postgres.OpenReadOnly(ctx, cfg.DB)
	}
	if cfg.DB != "" {
		return nil, fmt.Errorf("--db must be a postgres:// URL (leave it empty for the embedded SQLite database in --data)")
	}
	return sqlite.OpenReadOnly(ctx, cfg.Data)
}

// withReadOnlyStore resolves the configuration, opens the store read-only and runs fn.
func (m *Main) withReadOnlyStore(ctx context.Context, resolve func() (*Config, error), fn func(*sqlstore.Store) error) error {
	cfg, err := resolve()
	if err != nil {
		return err
	}
	s, err := openReadOnly(ctx, cfg)
	if err != nil {
		return exitError{1, err.Error()}
	}
	defer s.Close()
	return fn(s)
}

// Run runs one command.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return exitError{2, "no command given"}
	}
	cmd, rest := args[0], args[1:]
	if len(rest) > 0 && (cmd == "authority" || cmd == "user" || cmd == "officer" || cmd == "audit" || cmd == "sor" || cmd == "hash" || cmd == "report" || cmd == "bank" || cmd == "flagger" || cmd == "notifier" || cmd == "log" || cmd == "receipt" || (cmd == "triage" && rest[0] == "export-corrections") || (cmd == "train" && rest[0] == "risk")) {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return m.serve(ctx, rest)
	case "migrate":
		return m.migrate(ctx, rest)
	case "authority add":
		return m.authorityAdd(ctx, rest)
	case "user add":
		return m.userAdd(ctx, rest)
	case "user change":
		return m.userChange(ctx, rest)
	case "authority change":
		return m.authorityChange(ctx, rest)
	case "officer add":
		return m.officerAdd(ctx, rest)
	case "user reset-login":
		return m.userResetLogin(ctx, rest)
	case "audit verify":
		return m.auditVerify(ctx, rest)
	case "audit head":
		return m.auditHead(ctx, rest)
	case "log key":
		return m.logKey(ctx, rest)
	case "log head":
		return m.logHead(ctx, rest)
	case "receipt verify":
		return m.receiptVerify(ctx, rest)
	case "sor export":
		return m.sorExport(ctx, rest)
	case "report requests":
		return m.reportCmd(ctx, "requests", rest)
	case "report dsa":
		return m.reportCmd(ctx, "dsa", rest)
	case "backup":
		return m.backup(ctx, rest)
	case "triage":
		return m.triageCmd(ctx, rest)
	case "triage export-corrections":
		return m.exportCorrections(ctx, rest)
	case "train":
		return m.train(ctx, rest)
	case "train risk":
		return m.trainRisk(ctx, rest)
	case "mail-sink":
		return m.mailSink(ctx, rest)
	case "refplatform":
		return m.refPlatform(ctx, rest)
	case "demo":
		return m.demo(ctx, rest)
	case "sim":
		return m.simCmd(ctx, rest)
	case "hash pdq":
		return m.hashPDQ(ctx, rest)
	case "hash sha256", "hash md5":
		return m.hashExact(ctx, strings.TrimPrefix(cmd, "hash "), rest)
	case "bank add":
		return m.bankAdd(ctx, rest)
	case "bank import":
		return m.bankImport(ctx, rest, false)
	case "bank withdraw":
		return m.bankImport(ctx, rest, true)
	case "bank export":
		return m.bankExport(ctx, rest)
	case "bank list":
		return m.bankList(ctx, rest)
	case "bank enable", "bank disable":
		return m.bankEnable(ctx, rest, cmd == "bank enable")
	case "flagger add":
		return m.flaggerAdd(ctx, rest)
	case "flagger list":
		return m.flaggerList(ctx, rest)
	case "flagger suspend":
		return m.flaggerChange(ctx, rest, docket.FlaggerSuspended)
	case "flagger reinstate":
		return m.flaggerChange(ctx, rest, docket.FlaggerActive)
	case "flagger revoke":
		return m.flaggerChange(ctx, rest, docket.FlaggerRevoked)
	case "flagger rotate-token":
		return m.flaggerChange(ctx, rest, "")
	case "notifier list":
		return m.notifierList(ctx, rest)
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	if subs, ok := subcommands[cmd]; ok {
		if len(rest) == 0 || rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help" {
			fmt.Fprintf(m.Stdout, "usage: docket %s %s [flags]   (docket %s SUBCOMMAND --help for its flags)\n", cmd, strings.Join(subs, "|"), cmd)
			if len(rest) == 0 {
				return exitError{2, fmt.Sprintf("%q needs a subcommand: %s", cmd, strings.Join(subs, ", "))}
			}
			return nil
		}
		return exitError{2, fmt.Sprintf("unknown subcommand %q of %q: want %s", rest[0], cmd, strings.Join(subs, ", "))}
	}
	fmt.Fprint(m.Stderr, usage)
	return exitError{2, fmt.Sprintf("unknown command %q (docket help lists them)", strings.Join(args, " "))}
}

// subcommands lists the commands that take one, for a helpful refusal of "docket user".
var subcommands = map[string][]string{
	"authority": {"add", "change"},
	"user":      {"add", "change", "reset-login"},
	"officer":   {"add"},
	"audit":     {"verify", "head"},
	"log":       {"key", "head"},
	"receipt":   {"verify"},
	"sor":       {"export"},
	"hash":      {"pdq", "sha256", "md5"},
	"report":    {"requests", "dsa"},
	"bank":      {"add", "import", "withdraw", "export", "list", "enable", "disable"},
	"flagger":   {"add", "list", "suspend", "reinstate", "revoke", "rotate-token"},
	"notifier":  {"list"},
}

// descriptions are the one line each command's --help begins with.
var descriptions = map[string]string{
	"sim":                       "Simulate a month of requests and notices answered by a team, under a virtual clock, with docket's own clocks and routing (docs/CAPACITY.md).",
	"serve":                     "Run docket: the API, the console and portal, the notice form, e-mail intake if configured, and the jobs.",
	"migrate":                   "Create or bring the database up to date, then exit.",
	"authority add":             "Register an authority; its API token is printed once.",
	"authority change":          "Change an authority's domains, age key or API token (each change is an audit event).",
	"user add":                  "Add a staff member: an API token, and a console sign-in (password and TOTP secret), printed once.",
	"user change":               "Change a staff member's role or API token (each change is an audit event).",
	"user reset-login":          "Give a staff member a new console password and second factor (ends their sessions).",
	"officer add":               "Give an officer of an authority a portal sign-in, on a domain of the authority.",
	"audit verify":              "Check the hash chain and every table against it, read-only; exit 1 naming the first problem.",
	"audit head":                "Print the chain's head (SEQ:HASH), to keep somewhere else.",
	"log key":                   "Print the public key that verifies the log's signed tree heads, and so receipts: one line, the one GET /api/v1/log/key serves (the key is created on first use).",
	"log head":                  "Print the latest signed tree head (JSON, as GET /api/v1/log/head gives it): keep it after a full audit verify, and check later only what was added since with audit verify --since.",
	"receipt verify":            "Check a receipt offline with the platform's public log key: its signed tree head, its event's inclusion, every field; with --proof, its inclusion in a newer tree; with --head and --consistency, that the log only grew since. Exit 1 naming what failed.",
	"sor export":                "Write the statements of reasons kept for the EU Transparency Database to stdout, one JSON object per line with the API's field names, read-only.",
	"report requests":           "A government-requests report from the audit log alone, read-only: per country and requester type, accounts named, data produced, refusals by reason, emergencies and removal orders with their times.",
	"report dsa":                "The DSA transparency report (Implementing Regulation 2024/2835's tables) from the audit log alone, read-only: orders, notices, own-initiative measures, complaints, automated means.",
	"backup":                    "Copy the SQLite database (and the evidence and log keys) to a folder, consistently, while docket serves.",
	"triage":                    "Sort requests given as JSON lines on stdin (no server, no database); --eval scores a labelled file.",
	"triage export-corrections": "Write people's corrections of the triage as --eval lines.",
	"train":                     "Re-train the content classifier (triage/model.bin).",
	"train risk":                "Re-train the risk model (triage/risk.bin) on the labelled requests and ordinary posts.",
	"mail-sink":                 "A local relay that prints the mail it is given and delivers none, for trying docket out.",
	"refplatform":               "The reference platform: a small messenger that implements the connector.",
	"demo":                      "docket and the reference platform together, with a few requests acted on.",
	"hash pdq":                  "Print each image's PDQ perceptual hash and quality (0-100; below 50, do not trust the hash) as HASH,QUALITY,FILE, like Meta's pdq-photo-hasher; --dihedral adds its 7 rotations and flips.",
	"hash sha256":               "Print each file's SHA-256 as HEX  FILE (any kind of file, videos included, read as a stream).",
	"hash md5":                  "Print each file's MD5 as HEX  FILE (any kind of file, videos included, read as a stream).",
	"bank add":                  "Create a hash bank of known media (an audit event); serve matches every attachment against the enabled banks.",
	"bank import":               "Add the hashes of a file to a bank, in batches, each an audit event; a malformed file is refused whole, naming its line.",
	"bank withdraw":             "Withdraw the hashes of a file from a bank (they stay on record, matching nothing), each batch an audit event.",
	"bank export":               "Write a bank's live hashes to stdout, sorted, read-only.",
	"bank list":                 "List the hash banks: state, count of hashes, categories, default action, source; read-only.",
	"bank enable":               "Enable a hash bank (an audit event): its hashes match again.",
	"bank disable":              "Disable a hash bank (an audit event): it keeps its hashes and matches nothing.",
	"flagger add":               "Register a trusted flagger (DSA art. 22; an audit event); its API token (dkf_) is printed once: notices sent with it are handled first.",
	"flagger list":              "List the trusted flaggers: status, coordinator, notices actioned, unfounded and manifestly unfounded, accuracy, standing; read-only.",
	"flagger suspend":           "Suspend a trusted flagger's status until a time (an audit event): meanwhile its notices are ordinary notices.",
	"flagger reinstate":         "End a suspension of a trusted flagger's status (an audit event).",
	"flagger revoke":            "Revoke a trusted flagger's status for good (an audit event): its token is refused.",
	"flagger rotate-token":      "Give a trusted flagger a new API token (an audit event); the old one stops working.",
	"notifier list":             "List notifiers (e-mail addresses, trusted flaggers) with their assessed notices, warnings and suspensions under DSA art. 23; read-only.",
}

func (m *Main) parse(fs *flag.FlagSet, args []string) error {
	rest, err := m.parseArgs(fs, args, "")
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return exitError{2, fmt.Sprintf("unexpected argument %q", rest[0])}
	}
	return nil
}

// parseArgs is parse for a command that takes arguments after its flags (operands names
// them in the usage, "FILE…"): it returns them.
func (m *Main) parseArgs(fs *flag.FlagSet, args []string, operands string) ([]string, error) {
	// The flag package prints the usage itself on -h and on a bad flag: into out, which goes
	// to stdout when asked for and to stderr with an error.
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: docket %s [flags]%s\n\n", fs.Name(), operands)
		if d := descriptions[fs.Name()]; d != "" {
			fmt.Fprintf(out, "%s\n\n", d)
		}
		fmt.Fprintln(out, "flags:")
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	fs.SetOutput(m.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		// Asked for: the usage goes to stdout and the command stops without an error.
		m.Stdout.Write(out.Bytes())
		return nil, exitError{0, ""}
	}
	if err != nil {
		m.Stderr.Write(out.Bytes())
		return nil, exitError{2, err.Error()}
	}
	return fs.Args(), nil
}

// withStore resolves the configuration, opens the store (applying migrations) and runs fn.
func (m *Main) withStore(ctx context.Context, resolve func() (*Config, error), fn func(*sqlstore.Store) error) error {
	cfg, err := resolve()
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg, m.logger(cfg))
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	resolve := m.flags(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withStore(ctx, resolve, func(*sqlstore.Store) error {
		fmt.Fprintln(m.Stdout, "database is up to date")
		return nil
	})
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func (m *Main) printCreated(asJSON bool, id, token, what string, cred *account.Credentials) {
	if asJSON {
		out := map[string]string{"id": id}
		if token != "" {
			out["token"] = token
		}
		if cred != nil {
			out["email"], out["password"], out["totp_secret"], out["totp_url"] = cred.Email, cred.Password, cred.Secret, cred.URL
		}
		json.NewEncoder(m.Stdout).Encode(out)
		return
	}
	fmt.Fprintf(m.Stdout, "%s %s\n", what, id)
	if token != "" {
		fmt.Fprintf(m.Stdout, "API token (shown once, store it safely): %s\n", token)
	}
	if cred != nil {
		m.printCredentials(cred)
	}
}

// printCredentials tells a new account's holder how to sign in the first time.
func (m *Main) printCredentials(c *account.Credentials) {
	fmt.Fprintf(m.Stdout, "sign-in e-mail:   %s\npassword:         %s  (shown once)\nsecond factor:    add this TOTP secret to an authenticator app: %s\n                  (or open %s)\n",
		c.Email, c.Password, c.Secret, c.URL)
}

func (m *Main) authorityAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("authority add", flag.ContinueOnError)
	resolve := m.flags(fs)
	name := fs.String("name", "", "name of the authority")
	country := fs.String("country", "", "ISO 3166 two-letter country code")
	kind := fs.String("kind", "", "police, prosecutor, court, regulator, intelligence…")
	asJSON := fs.Bool("json", false, `print {"id","token"}`)
	key := fs.String("age-recipient", "", "the authority's age public key (age1…): disclosure packages are encrypted to it")
	var domains listFlag
	fs.Var(&domains, "domain", "official e-mail domain (repeatable)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		a := &docket.Authority{Name: *name, Country: *country, Kind: *kind, Domains: domains, AgeRecipient: *key}
		token, err := svc.RegisterAuthority(ctx, docket.Actor("cli"), a)
		if err != nil {
			return err
		}
		m.printCreated(*asJSON, a.ID, token, "authority", nil)
		return nil
	})
}

func (m *Main) userAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	resolve := m.flags(fs)
	email := fs.String("email", "", "e-mail address")
	role := fs.String("role", "", "agent, reviewer, policy, admin or auditor")
	asJSON := fs.Bool("json", false, `print {"id","token"}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		u := &docket.User{Email: *email, Role: docket.Role(*role)}
		token, err := svc.AddUser(ctx, docket.Actor("cli"), u)
		if err != nil {
			return err
		}
		cred, err := cliAccounts(svc).AddStaff(ctx, u)
		if err != nil {
			return err
		}
		m.printCreated(*asJSON, u.ID, token, "user", cred)
		return nil
	})
}

// userChange changes a staff member's role or API token.
func (m *Main) userChange(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user change", flag.ContinueOnError)
	resolve := m.flags(fs)
	email := fs.String("email", "", "the staff member's address")
	role := fs.String("role", "", "the new role: agent, reviewer, policy, admin or auditor")
	rotate := fs.Bool("rotate-token", false, "replace the API token (the old one stops working; the new one is shown once)")
	asJSON := fs.Bool("json", false, `print {"id","token"}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		u, err := cliAccounts(svc).StaffByEmail(ctx, *email)
		if errors.Is(err, docket.ErrNotFound) {
			return exitError{1, fmt.Sprintf("no staff member has the address %q", *email)}
		} else if err != nil {
			return err
		}
		token, err := svc.ChangeUser(ctx, docket.Actor("cli"), u.ID, workflow.UserChange{Role: docket.Role(*role), RotateToken: *rotate})
		if err != nil {
			return err
		}
		m.printCreated(*asJSON, u.ID, token, "changed user", nil)
		return nil
	})
}

// authorityChange changes an authority's domains, age key or API token.
func (m *Main) authorityChange(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("authority change", flag.ContinueOnError)
	resolve := m.flags(fs)
	id := fs.String("id", "", "the authority's id")
	var domains listFlag
	fs.Var(&domains, "domain", "official e-mail domain (repeatable): the list replaces the authority's domains")
	noDomains := fs.Bool("no-domains", false, "remove every domain")
	key := fs.String("age-recipient", "", `the authority's new age public key (age1…), or "" for none`)
	rotate := fs.Bool("rotate-token", false, "replace the API token (the old one stops working; the new one is shown once)")
	asJSON := fs.Bool("json", false, `print {"id","token"}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	ch := workflow.AuthorityChange{RotateToken: *rotate}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "domain":
			ch.Domains = domains
		case "no-domains":
			if *noDomains {
				ch.Domains = []string{}
			}
		case "age-recipient":
			ch.AgeRecipient = key
		}
	})
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		token, err := svc.ChangeAuthority(ctx, docket.Actor("cli"), *id, ch)
		if err != nil {
			return err
		}
		m.printCreated(*asJSON, *id, token, "changed authority", nil)
		return nil
	})
}

// userResetLogin gives a staff member a new console password and second factor (lost
// phone, forgotten password, locked account); the old ones stop working.
func (m *Main) userResetLogin(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user reset-login", flag.ContinueOnError)
	resolve := m.flags(fs)
	email := fs.String("email", "", "the staff member's address")
	asJSON := fs.Bool("json", false, `print {"id","email","password","totp_secret","totp_url"}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		accounts := cliAccounts(svc)
		u, err := accounts.StaffByEmail(ctx, *email)
		if errors.Is(err, docket.ErrNotFound) {
			return exitError{1, fmt.Sprintf("no staff member has the address %q", *email)}
		} else if err != nil {
			return err
		}
		cred, err := accounts.AddStaff(ctx, u)
		if err != nil {
			return err
		}
		m.printCreated(*asJSON, u.ID, "", "user", cred)
		return nil
	})
}

// officerAdd opens an active portal account for an officer of a registered authority.
func (m *Main) officerAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("officer add", flag.ContinueOnError)
	resolve := m.flags(fs)
	authority := fs.String("authority", "", "id of the authority the officer acts for")
	email := fs.String("email", "", "the officer's address, on a domain of the authority")
	name := fs.String("name", "", "the officer's name")
	asJSON := fs.Bool("json", false, `print {"id","email","password","totp_secret","totp_url"}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		a, err := svc.Store().Authority(ctx, *authority)
		if err != nil {
			return fmt.Errorf("authority %q: %w", *authority, err)
		}
		cred, err := cliAccounts(svc).AddOfficer(ctx, a, *email, *name)
		if err != nil {
			return err
		}
		m.printCreated(*asJSON, a.ID, "", "officer of "+a.Name+", authority", cred)
		return nil
	})
}

func (m *Main) auditVerify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	resolve := m.flags(fs)
	head := fs.String("head", "", "SEQ:HASH recorded earlier by docket audit head; the chain must still contain it")
	since := fs.String("since", "", "a signed tree head kept as a checkpoint (JSON, as GET /api/v1/log/head gave it): check only what was added since")
	keyArg := fs.String("key", "", "with --since: the platform's public log key (its line, or a file holding it)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *since != "" {
		if *keyArg == "" || *head != "" {
			return exitError{2, "--since wants --key (the platform's public log key), and no --head"}
		}
		return m.verifySince(ctx, resolve, *since, *keyArg, *asJSON)
	}
	var seq int64
	var hash string
	if *head != "" {
		s, h, ok := strings.Cut(*head, ":")
		if _, err := fmt.Sscanf(s, "%d", &seq); !ok || err != nil || seq <= 0 || len(h) != 64 {
			return exitError{2, "--head wants SEQ:HASH as printed by docket audit head"}
		}
		hash = h
	}
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		return m.printVerify(ctx, s, seq, hash, *asJSON)
	})
}

func (m *Main) printVerify(ctx context.Context, s *sqlstore.Store, seq int64, hash string, asJSON bool) error {
	start := time.Now()
	// One snapshot: a server writing meanwhile cannot make the tables disagree.
	view, end, err := s.Snapshot(ctx)
	if err != nil {
		return err
	}
	defer end()
	rep, err := audit.Verify(ctx, view, seq, hash)
	var problem *audit.Problem
	if errors.As(err, &problem) {
		if asJSON {
			json.NewEncoder(m.Stdout).Encode(map[string]any{"ok": false, "problem": err.Error(), "seq": problem.Seq, "case_id": problem.CaseID, "table": problem.Table})
		}
		return exitError{1, "audit verify FAILED: " + err.Error()}
	} else if err != nil {
		return err
	}
	if asJSON {
		json.NewEncoder(m.Stdout).Encode(map[string]any{"ok": true, "report": rep, "seconds": time.Since(start).Seconds()})
		return nil
	}
	fmt.Fprintf(m.Stdout, "audit OK: %d events, %d cases, %d requests, %d targets, %d blobs, %d users, %d authorities, %d logins, %d sessions, %d jobs, %d statements, %d banks, %d bank hashes verified, %d trusted flaggers, %d notifiers, %d assessed notices verified in %s; head %d:%s; Merkle tree: %d subtrees and %d signed heads verified, root %s\n",
		rep.Events, rep.Cases, rep.Requests, rep.Targets, rep.Blobs, rep.Users, rep.Authorities, rep.Logins, rep.Sessions, rep.Jobs, rep.Statements, rep.Banks, rep.BankHashes,
		rep.Flaggers, rep.Notifiers, rep.Assessments, time.Since(start).Round(time.Millisecond), rep.HeadSeq, rep.HeadHash, rep.TreeNodes, rep.TreeHeads, rep.TreeRoot)
	return nil
}

// verifySince checks what was added to the log since a checkpoint (audit.VerifySince).
func (m *Main) verifySince(ctx context.Context, resolve func() (*Config, error), file, keyArg string, asJSON bool) error {
	key, err := readKey(keyArg)
	if err != nil {
		return exitError{2, "--key: " + err.Error()}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return exitError{2, "--since: " + err.Error()}
	}
	var cp translog.SignedTreeHead
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cp); err != nil {
		return exitError{2, "--since: not a signed tree head as GET /api/v1/log/head gives it: " + err.Error()}
	}
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		start := time.Now()
		view, end, err := s.Snapshot(ctx)
		if err != nil {
			return err
		}
		defer end()
		rep, err := audit.VerifySince(ctx, view, &cp, key)
		var problem *audit.Problem
		if errors.As(err, &problem) {
			if asJSON {
				json.NewEncoder(m.Stdout).Encode(map[string]any{"ok": false, "problem": err.Error(), "seq": problem.Seq, "case_id": problem.CaseID, "table": problem.Table})
			}
			return exitError{1, "audit verify FAILED: " + err.Error()}
		} else if err != nil {
			return err
		}
		if asJSON {
			json.NewEncoder(m.Stdout).Encode(map[string]any{"ok": true, "since": rep, "seconds": time.Since(start).Seconds()})
			return nil
		}
		fmt.Fprintf(m.Stdout, "audit OK since the checkpoint: events %d to %d (%d events) chained and in the signed tree (root %s), %d cases they touched replayed, in %s; the rest is the full verification's\n",
			rep.From+1, rep.To, rep.Events, rep.Root, rep.Cases, time.Since(start).Round(time.Millisecond))
		return nil
	})
}

func (m *Main) auditHead(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit head", flag.ContinueOnError)
	resolve := m.flags(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		seq, hash, err := s.Head(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%d:%s\n", seq, hash)
		return nil
	})
}

// backup copies the SQLite database, consistently, while docket may be serving.
func (m *Main) backup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	resolve := m.flags(fs)
	var dest string
	if n := len(args); n > 0 && !strings.HasPrefix(args[n-1], "-") {
		dest, args = args[n-1], args[:n-1]
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if dest == "" {
		return exitError{2, "backup needs a destination folder: docket backup [--data DIR] DEST"}
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	if cfg.DB != "" {
		return exitError{2, "backup copies the embedded SQLite database; for PostgreSQL use pg_basebackup or pg_dump (docs/OPERATIONS.md)"}
	}
	if err := sqlite.Backup(ctx, cfg.Data, dest); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "backed up %s to %s; check it with: docket audit verify --data %s\n", cfg.Data, dest, dest)
	return nil
}

func loadRegimes(cfg *Config) (*regime.Table, error) { return regime.Load(cfg.Regimes) }

func loadGrounds(cfg *Config) (*grounds.Table, error) { return grounds.Load(cfg.Grounds) }
