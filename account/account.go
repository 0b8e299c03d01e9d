package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docket-dev/docket"
)

// Config configures a Service. Zero fields take defaults.
type Config struct {
	Store  docket.Store
	Logger *slog.Logger
	Now    func() time.Time
	// SessionTTL is how long a session lasts after sign-in (default 8 h).
	SessionTTL time.Duration
	// MaxFailures failed sign-ins in a row lock an account for LockFor (defaults 5, 15 min).
	MaxFailures int
	LockFor     time.Duration
	// ConfirmTTL is how long an address-confirmation link is good (default 48 h).
	ConfirmTTL time.Duration
	// MaxHashes bounds the password hashes computed at once (argon2id takes 19 MiB each;
	// default GOMAXPROCS). A sign-in waits for a free one while its context lasts, at most
	// HashWait (default 5 s), and is then refused as unavailable (503, try again).
	MaxHashes int
	HashWait  time.Duration
}

// Service manages sign-in accounts and sessions.
type Service struct {
	store docket.Store
	log   *slog.Logger
	now   func() time.Time
	cfg   Config
	// hashes holds a token per password hash being computed; waiting counts the sign-ins
	// waiting for one, and hashHook (tests) runs inside each.
	hashes   chan struct{}
	waiting  atomic.Int64
	hashHook func()
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = 15 * time.Minute
	}
	if cfg.ConfirmTTL <= 0 {
		cfg.ConfirmTTL = 48 * time.Hour
	}
	if cfg.MaxHashes <= 0 {
		cfg.MaxHashes = runtime.GOMAXPROCS(0)
	}
	if cfg.HashWait <= 0 {
		cfg.HashWait = 5 * time.Second
	}
	return &Service{store: cfg.Store, log: cfg.Logger, now: cfg.Now, cfg: cfg, hashes: make(chan struct{}, cfg.MaxHashes)}
}

// ErrBusy is the answer when every password hash is taken for longer than a sign-in waits.
var ErrBusy = docket.Errorf(docket.EUNAVAILABLE, "Too many sign-ins at this moment; try again in a few seconds.")

// hashing runs fn (an argon2id hash) once one of the MaxHashes slots is free: the memory
// that hashes take is bounded however many sign-ins arrive at once. It returns ErrBusy
// when ctx ends or HashWait passes first.
func (s *Service) hashing(ctx context.Context, fn func()) error {
	s.waiting.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HashWait)
	defer cancel()
	select {
	case s.hashes <- struct{}{}:
		s.waiting.Add(-1)
	case <-ctx.Done():
		s.waiting.Add(-1)
		s.log.WarnContext(ctx, "sign-in refused: no free password hash", slog.Int("max_hashes", s.cfg.MaxHashes))
		return ErrBusy
	}
	defer func() { <-s.hashes }()
	if s.hashHook != nil {
		s.hashHook()
	}
	fn()
	return nil
}

// checkPassword is CheckPassword within the bound on hashes.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (ok bool, err error) {
	err = s.hashing(ctx, func() { ok = CheckPassword(hash, password) })
	return ok, err
}

// SessionTTL is how long a session lasts after sign-in.
func (s *Service) SessionTTL() time.Duration { return s.cfg.SessionTTL }

// ErrSignIn is the one answer to a wrong address, password or code: it does not say which.
var ErrSignIn = docket.Errorf(docket.EUNAUTHORIZED, "Wrong e-mail address, password or code.")

// NormalizeEmail returns the address in the form accounts are kept under, or an error.
func NormalizeEmail(email string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") || len(a.Address) > 254 {
		return "", docket.Errorf(docket.EINVALID, "%q is not an e-mail address.", email)
	}
	return strings.ToLower(a.Address), nil
}

// newToken returns a session cookie's or a confirmation link's random value and its hash.
func newToken() (token, hash string) { return docket.NewToken("") }

func (s *Service) put(ctx context.Context, l *docket.Login) error {
	return s.store.Update(ctx, func(tx docket.Tx) error { return tx.PutLogin(ctx, l) })
}

// SignIn checks an address, password and second-factor code and opens a session. It
// returns the session's token (the cookie's value; only its hash is stored). Every attempt
// is counted in the store before the password is checked, in one statement, and a code's
// step is taken by compare-and-set in the transaction that opens the session: attempts made
// at once can neither outrun the lockout nor use one code twice. Every failure is logged.
func (s *Service) SignIn(ctx context.Context, kind, email, password, code string) (*docket.Login, string, error) {
	now := s.now()
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, "", ErrSignIn
	}
	l, err := s.store.LoginByEmail(ctx, kind, email)
	if errors.Is(err, docket.ErrNotFound) {
		if _, err := s.checkPassword(ctx, dummyHash(), password); err != nil { // the same work as for a real account
			return nil, "", err
		}
		s.log.WarnContext(ctx, "sign-in refused: no such account", slog.String("kind", kind), slog.String("email", email))
		return nil, "", ErrSignIn
	} else if err != nil {
		return nil, "", fmt.Errorf("sign in: %w", err)
	}
	if now.Before(l.LockedUntil) {
		return nil, "", s.locked(ctx, l.ID, l.LockedUntil)
	}
	var attempt int
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		attempt, err = tx.CountSignIn(ctx, l.ID, now)
		if err == nil && attempt > s.cfg.MaxFailures {
			// More attempts at once than the lockout allows: lock without checking.
			err = tx.LockLogin(ctx, l.ID, now.Add(s.cfg.LockFor))
		}
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("sign in: count attempt: %w", err)
	}
	switch {
	case attempt == 0: // locked meanwhile
		if l, err = s.store.Login(ctx, l.ID); err != nil {
			return nil, "", fmt.Errorf("sign in: %w", err)
		}
		return nil, "", s.locked(ctx, l.ID, l.LockedUntil)
	case attempt > s.cfg.MaxFailures:
		return nil, "", s.locked(ctx, l.ID, now.Add(s.cfg.LockFor))
	}
	step, codeOK := checkCode(l.TOTPSecret, code, now, l.TOTPStep)
	passwordOK, err := s.checkPassword(ctx, l.PasswordHash, password)
	if err != nil {
		return nil, "", err
	}
	if !passwordOK || !codeOK {
		why := "wrong password or code"
		if attempt >= s.cfg.MaxFailures {
			why = "wrong password or code; account locked"
			if err := s.store.Update(ctx, func(tx docket.Tx) error { return tx.LockLogin(ctx, l.ID, now.Add(s.cfg.LockFor)) }); err != nil {
				return nil, "", fmt.Errorf("sign in: lock account: %w", err)
			}
		}
		s.log.WarnContext(ctx, "sign-in refused: "+why, slog.String("login", l.ID), slog.String("email", email), slog.Int("attempt", attempt))
		return nil, "", ErrSignIn
	}
	switch l.Status {
	case docket.LoginActive:
	case docket.LoginAwaitingApproval:
		return nil, "", docket.Errorf(docket.EFORBIDDEN, "Your account waits for approval by the platform's staff.")
	default:
		return nil, "", docket.Errorf(docket.EFORBIDDEN, "This account is not active (%s).", l.Status)
	}
	token, err := s.openSession(ctx, l, now, func(tx docket.Tx) error {
		ok, err := tx.UseTOTPStep(ctx, l.ID, step)
		if err == nil && !ok {
			err = errCodeUsed
		}
		return err
	})
	if errors.Is(err, errCodeUsed) {
		s.log.WarnContext(ctx, "sign-in refused: code already used", slog.String("login", l.ID), slog.String("email", email))
		return nil, "", ErrSignIn
	} else if err != nil {
		return nil, "", fmt.Errorf("sign in: %w", err)
	}
	l.Failures, l.TOTPStep = 0, step
	s.log.InfoContext(ctx, "signed in", slog.String("login", l.ID), slog.String("kind", kind))
	return l, token, nil
}

// errCodeUsed: another sign-in took this code's step (or a later one) first.
var errCodeUsed = errors.New("second-factor code already used")

// locked is the answer to a sign-in on a locked account, logged.
func (s *Service) locked(ctx context.Context, id string, until time.Time) error {
	s.log.WarnContext(ctx, "sign-in refused: account locked", slog.String("login", id), slog.Time("until", until))
	return docket.Errorf(docket.ERATELIMIT, "Too many failed sign-ins: this account is locked until %s UTC.", until.UTC().Format("15:04"))
}

// openSession opens a session for an account in one transaction with claim, which records
// what the sign-in changes on the account; it returns the session's token.
func (s *Service) openSession(ctx context.Context, l *docket.Login, now time.Time, claim func(docket.Tx) error) (string, error) {
	token, hash := newToken()
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		if err := claim(tx); err != nil {
			return err
		}
		return tx.InsertSession(ctx, &docket.Session{Hash: hash, LoginID: l.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)})
	})
	return token, err
}

// StaffByEmail finds the staff member with an address (case aside), or ErrNotFound.
func (s *Service) StaffByEmail(ctx context.Context, email string) (*docket.User, error) {
	users, err := s.store.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, email) {
			return u, nil
		}
	}
	return nil, docket.ErrNotFound
}

// SignInVerified opens a session for the staff member whose address a single sign-on
// provider vouched for (OIDC: a verified e-mail claim). Only existing staff may: a staff
// member without a console account gets one that has no password (it signs in only through
// the provider); a disabled account stays out. via names the provider, for the log.
func (s *Service) SignInVerified(ctx context.Context, email, via string) (*docket.Login, string, error) {
	now := s.now()
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, "", docket.Errorf(docket.EFORBIDDEN, "The sign-in provider gave no usable e-mail address.")
	}
	l, err := s.store.LoginByEmail(ctx, docket.LoginStaff, email)
	if errors.Is(err, docket.ErrNotFound) {
		u, err := s.StaffByEmail(ctx, email)
		if errors.Is(err, docket.ErrNotFound) {
			s.log.WarnContext(ctx, "single sign-on refused: not a staff member", slog.String("email", email), slog.String("via", via))
			return nil, "", docket.Errorf(docket.EFORBIDDEN, "%s is not a staff member of this docket: an admin adds staff (docket user add, or POST /api/v1/users).", email)
		} else if err != nil {
			return nil, "", fmt.Errorf("single sign-on: %w", err)
		}
		l = &docket.Login{ID: u.ID, Kind: docket.LoginStaff, Email: email, Status: docket.LoginActive, CreatedBy: via, CreatedAt: now}
	} else if err != nil {
		return nil, "", fmt.Errorf("single sign-on: %w", err)
	}
	if l.Status != docket.LoginActive {
		s.log.WarnContext(ctx, "single sign-on refused: account not active", slog.String("login", l.ID), slog.String("status", l.Status))
		return nil, "", docket.Errorf(docket.EFORBIDDEN, "This account is not active (%s).", l.Status)
	}
	token, err := s.openSession(ctx, l, now, func(tx docket.Tx) error { return tx.PutLogin(ctx, l) })
	if err != nil {
		return nil, "", fmt.Errorf("single sign-on: %w", err)
	}
	s.log.InfoContext(ctx, "signed in", slog.String("login", l.ID), slog.String("kind", l.Kind), slog.String("via", via))
	return l, token, nil
}

// dummyHash is checked when no account has the address, so that the answer takes as long.
// It is made on first use, not at every start of the program.
var dummyHash = sync.OnceValue(func() string { return HashPassword("no account has this password") })

// Session returns the active account of a session token, or EUNAUTHORIZED.
func (s *Service) Session(ctx context.Context, token string) (*docket.Login, error) {
	if token == "" {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Please sign in.")
	}
	se, err := s.store.Session(ctx, docket.HashToken(token))
	if errors.Is(err, docket.ErrNotFound) {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Your session has ended; please sign in again.")
	} else if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if !s.now().Before(se.ExpiresAt) {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Your session has expired; please sign in again.")
	}
	l, err := s.store.Login(ctx, se.LoginID)
	if err != nil {
		return nil, fmt.Errorf("read session's account: %w", err)
	}
	if l.Status != docket.LoginActive {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "This account is not active any more.")
	}
	return l, nil
}

// SignOut ends a session.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.store.Update(ctx, func(tx docket.Tx) error { return tx.DeleteSession(ctx, docket.HashToken(token)) })
}

// Credentials are what a new account's holder needs to sign in the first time.
type Credentials struct {
	Email    string
	Password string
	Secret   string // TOTP secret (base32)
	URL      string // otpauth:// URL of the secret
}

// AddStaff gives an existing staff member (a User) a console account with a random
// password and a new TOTP secret, and returns them; for a member who had one, it replaces
// it and ends its sessions.
func (s *Service) AddStaff(ctx context.Context, u *docket.User) (*Credentials, error) {
	key, err := NewTOTP(u.Email)
	if err != nil {
		return nil, fmt.Errorf("new TOTP secret: %w", err)
	}
	pw := NewPassword()
	l := &docket.Login{ID: u.ID, Kind: docket.LoginStaff, Email: strings.ToLower(u.Email), Status: docket.LoginActive,
		PasswordHash: HashPassword(pw), TOTPSecret: key.Secret(), CreatedBy: "cli", CreatedAt: s.now()}
	// A reset replaces the account: sessions opened with the old credentials end.
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		if err := tx.PutLogin(ctx, l); err != nil {
			return err
		}
		return tx.EndSessions(ctx, l.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("add console account for %s: %w", u.Email, err)
	}
	return &Credentials{Email: l.Email, Password: pw, Secret: key.Secret(), URL: key.URL()}, nil
}

// OnDomain reports whether an address is on one of an authority's official domains (or a
// subdomain of one).
func OnDomain(email string, a *docket.Authority) bool {
	_, domain, ok := strings.Cut(email, "@")
	return ok && a.OwnsDomain(domain)
}

// Register opens an officer's account for an authority: the address must be on the
// authority's registered domain. It returns the token of the confirmation link to mail to
// the address. by is "self" for a registration from the portal, or the id of the officer
// who added a delegate; a delegate's account needs no approval by staff.
func (s *Service) Register(ctx context.Context, a *docket.Authority, email, name, by string) (*docket.Login, string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, "", err
	}
	if !OnDomain(email, a) {
		return nil, "", docket.Errorf(docket.EINVALID, "%s is not on a registered domain of %s; use your official address.", email, a.Name)
	}
	name = strings.TrimSpace(name)
	if len(name) > 200 {
		return nil, "", docket.Errorf(docket.EINVALID, "The name is longer than 200 characters.")
	}
	key, err := NewTOTP(email)
	if err != nil {
		return nil, "", fmt.Errorf("new TOTP secret: %w", err)
	}
	token, hash := newToken()
	now := s.now()
	l := &docket.Login{ID: docket.NewID(), Kind: docket.LoginOfficer, Email: email, Name: name, AuthorityID: a.ID,
		Status: docket.LoginConfirmEmail, TOTPSecret: key.Secret(), ConfirmHash: hash, ConfirmExpires: now.Add(s.cfg.ConfirmTTL),
		CreatedBy: by, CreatedAt: now}
	if err := s.put(ctx, l); err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "officer registered", slog.String("login", l.ID), slog.String("authority", a.ID), slog.String("by", by))
	return l, token, nil
}

// Confirming returns the account a confirmation token opens, while it is good.
func (s *Service) Confirming(ctx context.Context, token string) (*docket.Login, error) {
	l, err := s.store.LoginByConfirm(ctx, docket.HashToken(token))
	if errors.Is(err, docket.ErrNotFound) || (err == nil && (l.Status != docket.LoginConfirmEmail || !s.now().Before(l.ConfirmExpires))) {
		return nil, docket.Errorf(docket.ENOTFOUND, "This link is not valid any more. Register again, or ask whoever added you.")
	}
	return l, err
}

// Confirm completes a registration from its link: the password chosen and a first code
// from the authenticator app, which proves the second factor is set up. A self-registered
// officer then waits for approval by staff; a delegate is active at once.
func (s *Service) Confirm(ctx context.Context, token, password, code string) (*docket.Login, error) {
	l, err := s.Confirming(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := CheckNewPassword(password); err != nil {
		return nil, docket.Errorf(docket.EINVALID, "%s.", upperFirst(err.Error()))
	}
	step, ok := checkCode(l.TOTPSecret, code, s.now(), l.TOTPStep)
	if !ok {
		return nil, docket.Errorf(docket.EINVALID, "The code is not the one your authenticator app shows now; check its clock and try again.")
	}
	if err := s.hashing(ctx, func() { l.PasswordHash = HashPassword(password) }); err != nil {
		return nil, err
	}
	l.TOTPStep, l.ConfirmHash = step, ""
	l.Status = docket.LoginAwaitingApproval
	switch {
	case l.ApprovedBy != "": // a reset of an account approved before
		l.Status = docket.LoginActive
	case l.CreatedBy != "self":
		l.Status, l.ApprovedBy = docket.LoginActive, l.CreatedBy
	}
	if err := s.put(ctx, l); err != nil {
		return nil, fmt.Errorf("confirm account: %w", err)
	}
	s.log.InfoContext(ctx, "officer confirmed address", slog.String("login", l.ID), slog.String("status", l.Status))
	return l, nil
}

// ResetOfficer starts over an officer's sign-in (a forgotten password, a lost second
// factor, a locked account): the password and second factor stop working, open sessions
// end, and a new confirmation link (returned, to be mailed to the account's address) lets
// the officer choose a password and set up a new second factor. An account approved before
// needs no new approval. by is the staff member or officer who asked.
func (s *Service) ResetOfficer(ctx context.Context, id, by string) (*docket.Login, string, error) {
	l, err := s.store.Login(ctx, id)
	if errors.Is(err, docket.ErrNotFound) || (err == nil && l.Kind != docket.LoginOfficer) {
		return nil, "", docket.Errorf(docket.ENOTFOUND, "No such officer account.")
	} else if err != nil {
		return nil, "", err
	}
	if l.Status == docket.LoginDisabled {
		return nil, "", docket.Errorf(docket.ESTATE, "This account is disabled.")
	}
	key, err := NewTOTP(l.Email)
	if err != nil {
		return nil, "", fmt.Errorf("new TOTP secret: %w", err)
	}
	token, hash := newToken()
	now := s.now()
	l.PasswordHash, l.TOTPSecret, l.TOTPStep, l.Failures, l.LockedUntil = "", key.Secret(), 0, 0, time.Time{}
	l.ConfirmHash, l.ConfirmExpires, l.Status = hash, now.Add(s.cfg.ConfirmTTL), docket.LoginConfirmEmail
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		if err := tx.PutLogin(ctx, l); err != nil {
			return err
		}
		return tx.EndSessions(ctx, l.ID)
	})
	if err != nil {
		return nil, "", fmt.Errorf("reset officer account: %w", err)
	}
	s.log.InfoContext(ctx, "officer sign-in reset", slog.String("login", l.ID), slog.String("by", by))
	return l, token, nil
}

// Approve activates a self-registered officer's account; by is the approving staff member.
func (s *Service) Approve(ctx context.Context, id, by string) error {
	l, err := s.store.Login(ctx, id)
	if errors.Is(err, docket.ErrNotFound) || (err == nil && l.Kind != docket.LoginOfficer) {
		return docket.Errorf(docket.ENOTFOUND, "No such officer account.")
	} else if err != nil {
		return err
	}
	if l.Status != docket.LoginAwaitingApproval {
		return docket.Errorf(docket.ESTATE, "This account is %s, not awaiting approval.", l.Status)
	}
	l.Status, l.ApprovedBy = docket.LoginActive, by
	if err := s.put(ctx, l); err != nil {
		return fmt.Errorf("approve account: %w", err)
	}
	s.log.InfoContext(ctx, "officer approved", slog.String("login", l.ID), slog.String("by", by))
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// AddOfficer opens an active portal account for an officer of an authority, as the
// operator does from the command line: the address must still be on the authority's
// domain. It returns a random password and a new TOTP secret.
func (s *Service) AddOfficer(ctx context.Context, a *docket.Authority, email, name string) (*Credentials, error) {
	l, _, err := s.Register(ctx, a, email, name, "cli")
	if err != nil {
		return nil, err
	}
	pw := NewPassword()
	l.PasswordHash, l.Status, l.ConfirmHash, l.ApprovedBy = HashPassword(pw), docket.LoginActive, "", "cli"
	if err := s.put(ctx, l); err != nil {
		return nil, fmt.Errorf("add officer %s: %w", l.Email, err)
	}
	return &Credentials{Email: l.Email, Password: pw, Secret: l.TOTPSecret, URL: TOTPURL(l.Email, l.TOTPSecret)}, nil
}
