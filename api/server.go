// Package api serves docket's HTTP API under /api/v1 (JSON in, JSON or RFC 9457 problem
// documents out), its OpenAPI description, Prometheus metrics and health checks.
package api

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/ratelimit"
	"github.com/docket-dev/docket/workflow"
)

// Config configures a Server. Zero fields take defaults.
type Config struct {
	Service  *workflow.Service
	Store    docket.Store
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// MaxBody limits a request body in bytes (default 16 MiB).
	MaxBody int64
	// NoticesPerMinute and NoticeBurst limit public notices per client address when Notices
	// is not given (see ratelimit.NewNotices).
	NoticesPerMinute float64
	NoticeBurst      int
	// TokenTTL is how long a token lookup is cached (default 30 s).
	TokenTTL time.Duration
	// Proxies are the proxies trusted to name the client in X-Forwarded-For (nil: none).
	Proxies *ratelimit.Proxies
	// Notices, when set, is the limiter of public notices, shared with the notice form so
	// that the limit holds across both; otherwise the API makes its own.
	Notices *ratelimit.Limiter
	// RequestsPerSecond and RequestBurst limit the requests each authority submits (default
	// 50 a second with bursts of 500): one requester flooding the API does not slow the
	// others. A negative rate turns the limit off (load tests).
	RequestsPerSecond float64
	RequestBurst      int
	// Keeper signs package download links; without it no package is offered.
	Keeper *evidence.Keeper
	// MetricsToken, when set, serves /metrics with the API to callers that present it as a
	// bearer token; without it /metrics is only on the handler Metrics returns, for a
	// listener of its own.
	MetricsToken string
	// LogKey is the public key of the log's signed tree heads, served at /api/v1/log/key
	// (nil: the store signs no heads, and that endpoint answers 404).
	LogKey ed25519.PublicKey
}

// Server is the HTTP API.
type Server struct {
	svc     *workflow.Service
	store   docket.Store
	log     *slog.Logger
	maxBody int64
	tokens  *tokenCache
	notices *ratelimit.Limiter
	// requesters limits submissions per authority; nil when off.
	requesters *ratelimit.Limiter
	metrics    *metrics
	proxies    *ratelimit.Proxies
	keeper     *evidence.Keeper
	logKey     ed25519.PublicKey
	mux        *http.ServeMux
	// metricsHandler serves the Prometheus metrics (with the token check when one is set).
	metricsHandler http.Handler
}

// access says who may call a route.
type access int

const (
	public access = iota
	authorityOnly
	staff // any staff role; the workflow checks what each role may change
	admin
	authorityOrStaff
)

// route is one entry of the API; the OpenAPI document must list exactly these.
type route struct {
	method, pattern string
	access          access
	handle          func(http.ResponseWriter, *http.Request) error
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 20
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 30 * time.Second
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		svc: cfg.Service, store: cfg.Store, log: cfg.Logger, maxBody: cfg.MaxBody,
		tokens:  &tokenCache{ttl: cfg.TokenTTL, entries: map[string]cached{}},
		notices: cfg.Notices,
		proxies: cfg.Proxies,
		keeper:  cfg.Keeper,
		logKey:  cfg.LogKey,
		mux:     http.NewServeMux(),
	}
	if s.notices == nil {
		s.notices = ratelimit.NewNotices(cfg.NoticesPerMinute, cfg.NoticeBurst)
	}
	if cfg.RequestsPerSecond >= 0 {
		s.requesters = ratelimit.New(cmp.Or(cfg.RequestsPerSecond, 50), cmp.Or(cfg.RequestBurst, 500))
	}
	s.metrics = newMetrics(cfg.Registry, cfg.Store, cfg.Service)
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	s.metricsHandler = s.metrics.handler(cfg.Registry)
	if cfg.MetricsToken != "" {
		s.metricsHandler = bearerOnly(cfg.MetricsToken, s.metricsHandler)
		s.mux.Handle("GET /metrics", s.metricsHandler)
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, docket.Errorf(docket.ENOTFOUND, "No such endpoint: %s %s. See /api/v1/openapi.json.", r.Method, r.URL.Path))
	})
	return s
}

// Metrics returns the handler of the Prometheus metrics, for a listener of its own
// (metrics_addr); it asks for the metrics token when one is set.
func (s *Server) Metrics() http.Handler { return s.metricsHandler }

// bearerOnly serves h only to requests that carry token as their bearer token.
func bearerOnly(token string, h http.Handler) http.Handler {
	want := sha256.Sum256([]byte("Bearer " + token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="docket metrics"`)
			http.Error(w, "metrics need the metrics token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/api/v1/openapi.json", public, s.openAPI},
		{"GET", "/api/v1/regimes", public, s.listRegimes},
		{"GET", "/api/v1/me", authorityOrStaff, s.me},
		{"POST", "/api/v1/requests", authorityOnly, s.createRequest},
		{"GET", "/api/v1/requests", authorityOnly, s.listOwnRequests},
		{"GET", "/api/v1/requests/{id}", authorityOrStaff, s.getRequest},
		{"GET", "/api/v1/requests/{id}/raw", authorityOrStaff, s.getRequestRaw},
		{"GET", "/api/v1/requests/{id}/proof", authorityOrStaff, s.requestProof},
		{"POST", "/api/v1/requests/{id}/replies", authorityOnly, s.createReply},
		{"GET", "/api/v1/requests/{id}/packages", authorityOnly, s.listPackages},
		{"GET", "/api/v1/packages/{case}/{blob}", authorityOnly, s.downloadPackage},
		{"POST", "/api/v1/notices", public, s.createNotice},
		{"POST", "/api/v1/appeals", public, s.createAppeal},
		{"GET", "/api/v1/appeals/{decision}", public, s.getAppeal},
		{"GET", "/api/v1/cases", staff, s.listCases},
		{"GET", "/api/v1/cases/{id}", staff, s.getCase},
		{"POST", "/api/v1/cases/{id}/events", staff, s.createCaseEvent},
		{"GET", "/api/v1/attachments/{sha256}", staff, s.getAttachment},
		{"GET", "/api/v1/stats", staff, s.stats},
		{"GET", "/api/v1/audit/head", staff, s.auditHead},
		{"GET", "/api/v1/log/key", public, s.logKeyLine},
		{"GET", "/api/v1/log/head", public, s.logHead},
		{"GET", "/api/v1/log/consistency", public, s.logConsistency},
		{"POST", "/api/v1/authorities", admin, s.createAuthority},
		{"POST", "/api/v1/users", admin, s.createUser},
		{"GET", "/api/v1/flaggers", staff, s.listFlaggers},
		{"POST", "/api/v1/flaggers", admin, s.createFlagger},
		{"POST", "/api/v1/flaggers/{id}/changes", admin, s.changeFlagger},
		{"GET", "/api/v1/notifiers", staff, s.listNotifiers},
	}
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) wrap(rt route) http.Handler {
	name := rt.method + " " + rt.pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "panic in handler", slog.String("route", name), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				if !sw.wrote {
					s.writeError(sw, r, errors.New("panic"))
				}
			}
			s.metrics.observe(name, sw.status, time.Since(start))
		}()
		p, err := s.authenticate(r.Context(), r.Header.Get("Authorization"))
		if err == nil {
			err = allowed(rt.access, p)
		}
		if err != nil {
			s.writeError(sw, r, err)
			return
		}
		if p != nil {
			r = r.WithContext(context.WithValue(r.Context(), principalKey, p))
		}
		if err := rt.handle(sw, r); err != nil {
			s.writeError(sw, r, err)
		}
	})
}

func allowed(a access, p *principal) error {
	if a == public {
		return nil
	}
	if p == nil {
		return docket.Errorf(docket.EUNAUTHORIZED, "This endpoint needs a bearer token.")
	}
	ok := false
	switch a {
	case authorityOnly:
		ok = p.authority != nil
	case staff:
		ok = p.user != nil
	case admin:
		ok = p.user != nil && p.user.Role == docket.RoleAdmin
	case authorityOrStaff:
		ok = p.authority != nil || p.user != nil
	}
	if !ok {
		return docket.Errorf(docket.EFORBIDDEN, "Your token does not allow this.")
	}
	return nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// readBody reads a JSON body within the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, string, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return nil, "", docket.Errorf(docket.EUNSUPPORTED, "Send the body as Content-Type: application/json (got %q).", ct)
	}
	if cs, ok := params["charset"]; ok && cs != "utf-8" && cs != "UTF-8" {
		return nil, "", docket.Errorf(docket.EUNSUPPORTED, "The body must be UTF-8 (got charset %q).", cs)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, "", docket.Errorf(docket.ETOOLARGE, "The body is larger than %d bytes.", s.maxBody)
	} else if err != nil {
		return nil, "", docket.Errorf(docket.EMALFORMED, "The body could not be read.")
	}
	return body, ct, nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", slog.Any("err", err))
		s.writeError(w, r, docket.Errorf(docket.EUNAVAILABLE, "The database does not answer."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
