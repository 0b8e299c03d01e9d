// Package workflow is docket's service layer: it receives requests into cases, applies the
// staff's actions under the rules (roles, four-eyes, clock pauses), runs the deadline clock
// and registers authorities and staff. Every change it makes is an event appended in the
// same transaction as the change.
package workflow

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/docket-dev/docket/grounds"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/rules"
	"github.com/docket-dev/docket/triage"
)

// Config configures a Service. Zero fields take defaults.
type Config struct {
	Store   docket.Store
	Regimes *regime.Table
	// Grounds is the decision table (reason codes and statements); the embedded one when nil.
	Grounds *grounds.Table
	Logger  *slog.Logger
	// Now is the clock; tests move it.
	Now func() time.Time
	// MaxBatch is how many receipts one intake transaction may commit together.
	MaxBatch int
	// Triager, when set, sorts every request right after its receipt (a JobTriage job is
	// queued in the receipt's transaction).
	Triager *triage.Triager
	// Rules route triaged requests; the embedded default set when nil.
	Rules *rules.Set
	// RefreshRelated, when set, is how often the related-case filter takes in the cases
	// other nodes opened (PostgreSQL with several nodes; SQLite has one writer).
	RefreshRelated time.Duration
	// OnIntake is called after each intake commit (the server wakes its job runner).
	OnIntake func()
	// Paging queues a page (JobPage) whenever a case becomes an emergency.
	Paging bool
	// Media, when set, hashes the attachments of every stored request and looks them up in
	// the hash banks: a JobMediaMatch job is queued in the request's transaction.
	Media MediaMatcher
	// AppealKey keys the tokens of the public appeal links (DSA art. 20); without it there
	// are no links and appeals come in through the platform only.
	AppealKey []byte
	// DisputeBodies are the out-of-court dispute settlement bodies (DSA art. 21) that the
	// answers to appeals name; docket.DefaultDisputeBodies when empty.
	DisputeBodies []docket.DisputeBody
	// Misuse is the rule of DSA art. 23 (zero fields take its defaults).
	Misuse MisuseConfig
	// NCMEC queues a report to NCMEC's CyberTipline (JobNCMECReport) with the action on
	// content that follows a decision to comply on a case of child protection (US law:
	// 18 U.S.C. § 2258A). Off by default.
	NCMEC bool
}

// Service is the workflow.
type Service struct {
	store   docket.Store
	regimes *regime.Table
	grounds *grounds.Table
	tally   ruleTally
	log     *slog.Logger
	now     func() time.Time

	triager  *triage.Triager
	rules    *rules.Set
	related  *relatedFilter
	refresh  time.Duration
	onIntake func()
	paging   bool
	ncmec    bool
	media    MediaMatcher
	// appealKey keys appeal links' tokens; bodies are named in the answers to appeals.
	appealKey []byte
	misuse    MisuseConfig
	bodies    []docket.DisputeBody
	intake    chan *pending
	maxBatch  int
	wg        sync.WaitGroup
	stopOnce  sync.Once
	stop      chan struct{}
}

// New returns a Service; call Start before submitting requests and Stop at the end.
func New(cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if cfg.Regimes == nil {
		cfg.Regimes = regime.DefaultTable()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Grounds == nil {
		cfg.Grounds = grounds.DefaultTable()
	}
	if cfg.Rules == nil {
		cfg.Rules = rules.Default()
	}
	if len(cfg.DisputeBodies) == 0 {
		cfg.DisputeBodies = docket.DefaultDisputeBodies
	}
	return &Service{
		store:     cfg.Store,
		regimes:   cfg.Regimes,
		grounds:   cfg.Grounds,
		log:       cfg.Logger,
		now:       now,
		triager:   cfg.Triager,
		related:   newRelatedFilter(),
		refresh:   cfg.RefreshRelated,
		rules:     cfg.Rules,
		onIntake:  cfg.OnIntake,
		paging:    cfg.Paging,
		ncmec:     cfg.NCMEC,
		media:     cfg.Media,
		appealKey: cfg.AppealKey,
		bodies:    cfg.DisputeBodies,
		misuse:    cfg.Misuse.withDefaults(),
		intake:    make(chan *pending, 4096),
		maxBatch:  cmp.Or(cfg.MaxBatch, 256),
		stop:      make(chan struct{}),
	}
}

// Grounds returns the decision table in use.
func (s *Service) Grounds() *grounds.Table { return s.grounds }

// Regimes returns the regime table in use.
func (s *Service) Regimes() *regime.Table { return s.regimes }

// Store is the store the service works on.
func (s *Service) Store() docket.Store { return s.store }

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.now().UTC() }

// Start loads the related-case filter and runs the intake committer until Stop.
func (s *Service) Start(ctx context.Context) {
	if err := s.loadRelated(ctx, time.Time{}); err != nil {
		// Without the filter every request asks the store: slower, never wrong.
		s.log.WarnContext(ctx, "load related-case filter; asking the store for every request", slog.Any("err", err))
		s.related = nil
	}
	if s.related != nil && s.refresh > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.refreshRelated(context.WithoutCancel(ctx), s.refresh)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.commitLoop(context.WithoutCancel(ctx))
	}()
}

// Stop lets the committer finish what it holds, then returns.
func (s *Service) Stop() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
}

// SHA256 returns the hex SHA-256 of b, as receipts carry it.
func SHA256(b []byte) string { return sha(b) }

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RegisterAuthority adds an authority and returns its bearer token, shown once.
func (s *Service) RegisterAuthority(ctx context.Context, by docket.Actor, a *docket.Authority) (token string, err error) {
	a.Name = strings.TrimSpace(a.Name)
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	switch {
	case a.Name == "":
		return "", docket.Errorf(docket.EINVALID, "An authority needs a name.")
	case len(a.Country) != 2 || strings.Trim(a.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "":
		return "", docket.Errorf(docket.EINVALID, "An authority needs a two-letter ISO 3166 country code.")
	}
	a.Domains = normalDomains(a.Domains)
	if a.AgeRecipient, err = checkAgeRecipient(a.AgeRecipient); err != nil {
		return "", err
	}
	a.ID, a.CreatedAt = docket.NewID(), s.Now()
	token, hash := docket.NewToken("dka")
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		if err := tx.InsertAuthority(ctx, a, hash); err != nil {
			return err
		}
		return tx.Append(ctx, docket.NewEvent("", docket.EventAuthorityRegistered, by, a.CreatedAt, docket.AuthorityRegistered{Authority: *a, TokenHash: hash}))
	})
	if err != nil {
		return "", fmt.Errorf("register authority: %w", err)
	}
	return token, nil
}

// AddUser adds a staff member and returns its bearer token, shown once.
func (s *Service) AddUser(ctx context.Context, by docket.Actor, u *docket.User) (token string, err error) {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if !strings.Contains(u.Email, "@") {
		return "", docket.Errorf(docket.EINVALID, "A user needs an e-mail address.")
	}
	if !u.Role.Valid() {
		return "", docket.Errorf(docket.EINVALID, "Unknown role %q: agent, reviewer, policy, admin or auditor.", u.Role)
	}
	u.ID, u.CreatedAt = docket.NewID(), s.Now()
	token, hash := docket.NewToken("dku")
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		if err := tx.InsertUser(ctx, u, hash); err != nil {
			return err
		}
		return tx.Append(ctx, docket.NewEvent("", docket.EventUserAdded, by, u.CreatedAt, docket.UserAdded{User: *u, TokenHash: hash}))
	})
	if err != nil {
		return "", fmt.Errorf("add user: %w", err)
	}
	return token, nil
}

// record applies e to c and appends it: the one way a case changes. When e changes what the
// approval of the decision in effect covers, the approval is voided in the same transaction
// (approval_voided) and the decision waits for a new one.
func record(ctx context.Context, tx docket.Tx, c *docket.Case, e *docket.Event) error {
	before := scopeOf(c)
	if err := tx.Append(ctx, e); err != nil {
		return err
	}
	if err := c.Apply(e); err != nil {
		return fmt.Errorf("record %s on case %s: %w", e.Type, c.ID, err)
	}
	return voidIfChanged(ctx, tx, c, e, before)
}

// notFound hides whether a thing exists from those who may not see it.
// normalDomains returns an authority's domains lower-cased and trimmed, without empty ones.
func normalDomains(domains []string) []string {
	out := make([]string, 0, len(domains))
	for _, d := range domains {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// checkAgeRecipient trims an authority's age key and checks it ("" means none).
func checkAgeRecipient(key string) (string, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return "", nil
	}
	if _, err := evidence.ParseRecipient(key); err != nil {
		return "", &docket.Error{Code: docket.EINVALID, Message: "Field age_recipient: " + err.Error(), Fields: map[string]string{"age_recipient": "invalid"}}
	}
	return key, nil
}

func notFound(what string) error { return docket.Errorf(docket.ENOTFOUND, "No such %s.", what) }

func isNotFound(err error) bool { return errors.Is(err, docket.ErrNotFound) }

// Entry is one event for Record.
type Entry struct {
	Type docket.EventType
	Data any
}

// Record appends events of a background part (the mailer) to a case, in one transaction.
func (s *Service) Record(ctx context.Context, caseID string, actor docket.Actor, entries ...Entry) error {
	return s.Change(ctx, caseID, actor, func(_ docket.Tx, _ *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
		for _, e := range entries {
			if _, err := rec(e.Type, e.Data); err != nil {
				return err
			}
		}
		return nil
	})
}
