// Package web serves docket's pages: the staff console (/console), the authority portal
// (/portal) and the public notice form (/notice). Pages are rendered on the server from
// embedded templates; the little script there is (static/app.js) only helps. Forms are
// protected from cross-site posts by http.CrossOriginProtection, every page carries a
// strict Content-Security-Policy, and the session cookie is Secure, HttpOnly and SameSite.
package web

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/account"
	"github.com/docket-dev/docket/ratelimit"
	"github.com/docket-dev/docket/workflow"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures a Server. Zero fields take defaults.
type Config struct {
	Service  *workflow.Service
	Store    docket.Store
	Accounts *account.Service
	Logger   *slog.Logger
	// Mailer sends address-confirmation links; without a configured relay the links are
	// written to the log for the operator to pass on.
	Mailer docket.Mailer
	// PublicURL is the address of the site as people reach it (https://docket.example),
	// the only base of links in mail: never the request's Host header (default
	// http://127.0.0.1:8080, docket's default listen address).
	PublicURL string
	// NoticeReceipt is the job kind that mails a notice's receipt to its notifier (empty:
	// none is sent).
	NoticeReceipt string
	// MaxUpload limits a form with files, in bytes (default 16 MiB).
	MaxUpload int64
	// NoticesPerMinute and NoticeBurst limit notices per client address when Notices is not
	// given (see ratelimit.NewNotices).
	NoticesPerMinute float64
	NoticeBurst      int
	// SignInsPerMinute and SignInBurst limit sign-ins (and registrations and confirmations)
	// per client address (defaults 10, 20).
	SignInsPerMinute float64
	SignInBurst      int
	// Proxies are the proxies trusted to name the client in X-Forwarded-For (nil: none).
	Proxies *ratelimit.Proxies
	// Notices, when set, is the limiter of public notices shared with the API; otherwise the
	// form makes its own.
	Notices *ratelimit.Limiter
	// SSO, when set, lets staff sign in through an OpenID Connect provider.
	SSO *SSO
	// Now is the clock (default the service's).
	Now func() time.Time
	// PlatformName names the service in the DSA report (default "the platform").
	PlatformName string
}

// Server serves the pages.
type Server struct {
	cfg      Config
	svc      *workflow.Service
	store    docket.Store
	accounts *account.Service
	log      *slog.Logger
	notices  *ratelimit.Limiter
	signins  *ratelimit.Limiter
	sso      *sso // nil without single sign-on
	pages    map[string]*template.Template
	mux      *http.ServeMux
	handler  http.Handler
}

// access says who may open a page.
type access int

const (
	public access = iota
	staffOnly
	officerOnly
)

// who is the signed-in person of a request.
type who struct {
	Login     *docket.Login
	User      *docket.User      // staff
	Authority *docket.Authority // officers
	Token     string
}

func (w *who) staff() bool   { return w != nil && w.User != nil }
func (w *who) officer() bool { return w != nil && w.Authority != nil }

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 16 << 20
	}
	if cfg.SignInsPerMinute <= 0 {
		cfg.SignInsPerMinute = 10
	}
	if cfg.SignInBurst <= 0 {
		cfg.SignInBurst = 20
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Service.Now
	}
	cfg.PlatformName = cmp.Or(cfg.PlatformName, "the platform")
	s := &Server{cfg: cfg, svc: cfg.Service, store: cfg.Store, accounts: cfg.Accounts, log: cfg.Logger,
		notices: cfg.Notices,
		signins: ratelimit.New(cfg.SignInsPerMinute/60, cfg.SignInBurst), mux: http.NewServeMux(), sso: newSSO(cfg.SSO)}
	base, err := PublicBase(cmp.Or(cfg.PublicURL, "http://127.0.0.1:8080"))
	if err != nil {
		return nil, err
	}
	s.cfg.PublicURL = base
	if s.notices == nil {
		s.notices = ratelimit.NewNotices(cfg.NoticesPerMinute, cfg.NoticeBurst)
	}
	if cfg.SSO != nil {
		if err := cfg.SSO.Validate(); err != nil {
			return nil, err
		}
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.WarnContext(r.Context(), "cross-origin form refused", slog.String("path", r.URL.Path),
			slog.String("origin", r.Header.Get("Origin")), slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")))
		s.renderError(w, r, nil, docket.Errorf(docket.EFORBIDDEN, "This form was sent from another site, so it was refused. Open the page in docket and send it from there."))
	}))
	s.handler = cop.Handler(s.mux)
	return s, nil
}

// PublicBase checks a public base URL (public_url) and returns it without a trailing
// slash: http or https, a host, nothing after the path.
func PublicBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("public_url %q: want the site's address as people reach it, such as https://docket.example", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// csp allows this site's own scripts, styles and images (and data: images: the QR code of
// a second factor), nothing else; no framing, no base, forms only to this site.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP serves a page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	s.handler.ServeHTTP(w, r)
}

// Paths reports whether the web pages serve path (the API keeps the rest).
func Paths(path string) bool {
	for _, p := range []string{"/console", "/portal", "/notice", "/static/", "/lang", "/appeal/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return path == "/"
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *page) error

// handle registers a page: it finds who is signed in, checks access, and renders errors.
func (s *Server) handle(pattern string, a access, fn handlerFunc) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(r)
		defer func() {
			if v := recover(); v != nil {
				s.log.ErrorContext(r.Context(), "panic in page", slog.String("path", r.URL.Path), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				s.renderError(w, r, p, errors.New("panic"))
			}
		}()
		ok, err := s.signedIn(r, p, a)
		if err != nil {
			s.renderError(w, r, p, err)
			return
		}
		if !ok {
			s.toSignIn(w, r, a, p)
			return
		}
		if err := fn(w, r, p); err != nil {
			s.renderError(w, r, p, err)
		}
	}))
}

const cookieName = "docket_session"

// signedIn fills p.Who from the session cookie and checks the page's access. It returns
// false when the page needs a sign-in that is missing or ended.
func (s *Server) signedIn(r *http.Request, p *page, a access) (bool, error) {
	c, err := r.Cookie(cookieName)
	if err == nil && c.Value != "" {
		l, err := s.accounts.Session(r.Context(), c.Value)
		switch {
		case err == nil:
			p.Who, err = s.whoIs(r.Context(), l, c.Value)
			if err != nil {
				return false, err
			}
		case docket.ErrorCode(err) == docket.EUNAUTHORIZED:
			p.Ended = docket.ErrorMessage(err)
		default:
			return false, err
		}
	}
	switch a {
	case staffOnly:
		if p.Who == nil {
			return false, nil
		}
		if !p.Who.staff() {
			s.log.WarnContext(r.Context(), "page refused", slog.String("path", r.URL.Path), slog.String("login", p.Who.Login.ID))
			return false, docket.Errorf(docket.EFORBIDDEN, "This page is for the platform's staff.")
		}
	case officerOnly:
		if p.Who == nil {
			return false, nil
		}
		if !p.Who.officer() {
			s.log.WarnContext(r.Context(), "page refused", slog.String("path", r.URL.Path), slog.String("login", p.Who.Login.ID))
			return false, docket.Errorf(docket.EFORBIDDEN, "This page is for authorities' officers.")
		}
	}
	return true, nil
}

func (s *Server) whoIs(ctx context.Context, l *docket.Login, token string) (*who, error) {
	wh := &who{Login: l, Token: token}
	var err error
	switch l.Kind {
	case docket.LoginStaff:
		wh.User, err = s.store.User(ctx, l.ID)
	case docket.LoginOfficer:
		wh.Authority, err = s.store.Authority(ctx, l.AuthorityID)
	}
	if err != nil {
		return nil, fmt.Errorf("read signed-in account %s: %w", l.ID, err)
	}
	return wh, nil
}

// toSignIn sends a visitor who is not signed in to the right sign-in page, and back after.
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request, a access, p *page) {
	to := "/console/signin"
	if a == officerOnly {
		to = "/portal/signin"
	}
	if r.Method != http.MethodGet {
		why := p.Ended
		if why == "" {
			why = "You are not signed in."
		}
		p.Ended = ""
		s.renderError(w, r, p, docket.Errorf(docket.EUNAUTHORIZED, "%s Sign in, then send the form again.", why))
		return
	}
	http.Redirect(w, r, to+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else def: a sign-in or a language
// switch never sends anyone to another site. next must parse (net/url) as a path alone —
// no scheme, no host — start with a single "/", and, before and after percent-decoding,
// hold no "//" at its start, no backslash and no control character: browsers drop tabs and
// line breaks and read a backslash as a slash (WHATWG URL), so "/\t/evil.example" and
// "/\\evil.example" lead elsewhere.
func safeNext(next, def string) string {
	if !sameSitePath(next) {
		return def
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return def
	}
	query, err := url.QueryUnescape(u.RawQuery)
	if err != nil {
		return def
	}
	fragment, err := url.PathUnescape(u.EscapedFragment())
	if err != nil || !sameSitePath(u.Path) || strings.ContainsFunc(query+fragment, unsafeInURL) {
		return def
	}
	return next
}

// sameSitePath reports whether p starts with one "/" and holds nothing a browser reads
// differently (control characters, backslashes).
func sameSitePath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.ContainsFunc(p, unsafeInURL)
}

func unsafeInURL(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\\' || r == utf8.RuneError
}

// allowSignIn counts a sign-in, registration or confirmation from the client's address:
// beyond the limit it is refused before any password is hashed.
func (s *Server) allowSignIn(r *http.Request) error {
	if !s.signins.Allow(ratelimit.ClientAddr(r, s.cfg.Proxies)) {
		s.log.WarnContext(r.Context(), "sign-in refused: too many from this address", slog.String("path", r.URL.Path))
		return docket.Errorf(docket.ERATELIMIT, "Too many sign-ins from your address; try again in a minute.")
	}
	return nil
}

func (s *Server) setSession(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", Expires: expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Server) routes() {
	s.handle("GET /{$}", public, s.home)
	s.handle("GET /lang", public, s.setLang)
	// A trailing slash typed by hand leads to the page, not to a 404.
	for _, section := range []string{"/console", "/portal", "/notice"} {
		s.handle("GET "+section+"/{$}", public, func(w http.ResponseWriter, r *http.Request, p *page) error {
			http.Redirect(w, r, section, http.StatusMovedPermanently)
			return nil
		})
	}
	s.consoleRoutes()
	s.portalRoutes()
	s.noticeRoutes()
	s.appealRoutes()
	s.handle("/", public, func(w http.ResponseWriter, r *http.Request, p *page) error {
		return docket.Errorf(docket.ENOTFOUND, "There is no page at %s.", r.URL.Path)
	})
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, p *page) error {
	p.Title = "Welcome"
	switch {
	case p.Who.staff():
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return nil
	case p.Who.officer():
		http.Redirect(w, r, "/portal", http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, p, http.StatusOK, "home", nil)
}
