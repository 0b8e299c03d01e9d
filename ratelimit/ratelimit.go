// Package ratelimit keeps a token bucket per client address, for the public entry points
// (notices by API and by form).
package ratelimit

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter keeps one token bucket per client address.
type Limiter struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	clients map[string]*client
	swept   time.Time
}

type client struct {
	l    *rate.Limiter
	seen time.Time
}

// New returns a Limiter allowing perSec a second with bursts of burst.
func New(perSec float64, burst int) *Limiter {
	return &Limiter{perSec: rate.Limit(perSec), burst: burst, clients: map[string]*client{}}
}

// Allow reports whether the client at addr may go on now, and counts it.
func (l *Limiter) Allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.swept) > time.Minute {
		for k, c := range l.clients {
			if now.Sub(c.seen) > 10*time.Minute {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c, ok := l.clients[addr]
	if !ok {
		c = &client{l: rate.NewLimiter(l.perSec, l.burst)}
		l.clients[addr] = c
	}
	c.seen = now
	return c.l.AllowN(now, 1)
}

// clientAddr is the caller's IP address; behind a trusted proxy, the first X-Forwarded-For.
// ClientAddr is the address of the client of r: the first X-Forwarded-For entry when the
// proxy in front is trusted, else the connection's address.
func ClientAddr(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
