// Package ratelimit keeps a token bucket per client: per address for the public entry points
// (notices by API and by form, sign-ins), per authority for the requests it submits.
package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
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

// NewNotices returns the limiter of public notices per client address: perMinute a minute
// with bursts of burst, 10 and 20 when not given (zero or less). The API and the notice
// form share one.
func NewNotices(perMinute float64, burst int) *Limiter {
	if perMinute <= 0 {
		perMinute = 10
	}
	if burst <= 0 {
		burst = 20
	}
	return New(perMinute/60, burst)
}

// Allow reports whether the client at addr may go on now, and counts it.
func (l *Limiter) Allow(addr string) bool {
	ok, _ := l.Wait(addr)
	return ok
}

// Wait reports whether the client at addr may go on now, and counts it; when it may not,
// it also says how long until it may (for Retry-After).
func (l *Limiter) Wait(addr string) (bool, time.Duration) {
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
	r := c.l.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Proxies says which peers in front of docket may name the client in X-Forwarded-For.
// The nil *Proxies trusts none: the client is the connection's address.
type Proxies struct {
	trusted []netip.Prefix
}

// NewProxies returns the proxy setting of trust_proxy and trusted_proxies (CIDR ranges or
// single addresses). Without trust, and without ranges, it returns nil: X-Forwarded-For is
// ignored. trust without ranges trusts the connection's peer alone, the one proxy in front.
func NewProxies(trust bool, ranges []string) (*Proxies, error) {
	if !trust && len(ranges) == 0 {
		return nil, nil
	}
	p := &Proxies{}
	for _, r := range ranges {
		pfx, err := netip.ParsePrefix(r)
		if err != nil {
			a, aerr := netip.ParseAddr(r)
			if aerr != nil {
				return nil, fmt.Errorf("trusted_proxies: %q is neither a CIDR range nor an address", r)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		p.trusted = append(p.trusted, pfx.Masked())
	}
	return p, nil
}

// trusts reports whether addr is a proxy whose X-Forwarded-For entry counts; with no ranges
// configured only the connection's peer (first) is.
func (p *Proxies) trusts(addr string, peer bool) bool {
	if len(p.trusted) == 0 {
		return peer
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, pfx := range p.trusted {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr is the address of the client of r. Behind trusted proxies it is the right-most
// address of the chain (X-Forwarded-For, then the connection's peer) that is not a trusted
// proxy: entries to its left were written by the client and prove nothing.
func ClientAddr(r *http.Request, p *Proxies) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	if p == nil || !p.trusts(peer, true) {
		return peer
	}
	var chain []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for e := range strings.SplitSeq(h, ",") {
			if e = strings.TrimSpace(e); e != "" {
				chain = append(chain, e)
			}
		}
	}
	client := peer
	for i := len(chain) - 1; i >= 0; i-- {
		client = chain[i]
		if !p.trusts(client, false) {
			break
		}
	}
	return client
}
