// Package mailauth tells verified e-mail senders from unverified ones: it checks SPF (the
// connecting IP against the envelope domain), every DKIM signature, and DMARC alignment of
// either with the From domain, then matches the From domain against the registered
// authorities' official domains and a table of known government domains.
//
// Levels (docket.SenderRegistered, SenderOfficial, SenderUnverified): a forged From —
// the known way to steal data with fake "emergency" mail from hijacked or look-alike police
// addresses — fails alignment and is unverified whatever domain it names.
package mailauth

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"

	"github.com/docket-dev/docket"
)

// Resolver is the DNS the checks use: net.DefaultResolver, or a net.Resolver pointed at a
// chosen server.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// NewResolver returns the system resolver, or, when server (HOST:PORT) is set, a resolver
// that asks that server only.
func NewResolver(server string) Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// Directory says who owns a domain.
type Directory interface {
	// AuthorityForDomain returns the registered authority whose official domains include
	// domain (or a parent of it).
	AuthorityForDomain(ctx context.Context, domain string) (*docket.Authority, bool)
}

// Verifier checks senders.
type Verifier struct {
	Resolver  Resolver
	Directory Directory
	Official  *Official
	// Timeout bounds all DNS work for one message (default 10 s).
	Timeout time.Duration
}

// Envelope is what the SMTP session knew of a message.
type Envelope struct {
	RemoteIP net.IP
	Helo     string
	MailFrom string
	From     string // the From header's address
}

// Check verifies the sender of raw, the whole message as received.
func (v *Verifier) Check(ctx context.Context, raw []byte, env Envelope) docket.SenderCheck {
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := docket.SenderCheck{Domain: domainOf(env.From), SPF: string(spf.None), DMARC: "none", Level: docket.SenderUnverified}

	// SPF: the envelope sender's domain (the HELO name when the envelope is empty).
	if env.RemoteIP != nil {
		res.SPFDomain = domainOf(env.MailFrom)
		if res.SPFDomain == "" {
			res.SPFDomain = strings.ToLower(env.Helo)
		}
		r, _ := spf.CheckHostWithSender(env.RemoteIP, env.Helo, spfSender(env), spf.WithResolver(v.Resolver), spf.WithContext(ctx))
		res.SPF = string(r)
	}

	// DKIM: every signature.
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		MaxVerifications: 5,
		LookupTXT:        func(name string) ([]string, error) { return v.Resolver.LookupTXT(ctx, name) },
	})
	if err == nil {
		for _, d := range verifs {
			r := docket.DKIMResult{Domain: strings.ToLower(d.Domain), Result: "pass"}
			switch {
			case d.Err == nil:
			case dkim.IsTempFail(d.Err):
				r.Result, r.Error = "temperror", d.Err.Error()
			case dkim.IsPermFail(d.Err):
				r.Result, r.Error = "permerror", d.Err.Error()
			default:
				r.Result, r.Error = "fail", d.Err.Error()
			}
			res.DKIM = append(res.DKIM, r)
		}
	}

	// DMARC: the From domain's policy (or its organisational domain's), and alignment.
	if res.Domain == "" {
		res.Reason = "The From header has no domain."
		return res
	}
	rec, err := v.dmarcRecord(ctx, res.Domain)
	spfMode, dkimMode := dmarc.AlignmentMode(dmarc.AlignmentRelaxed), dmarc.AlignmentMode(dmarc.AlignmentRelaxed)
	if rec != nil {
		res.DMARCPolicy = string(rec.Policy)
		spfMode, dkimMode = cmpMode(rec.SPFAlignment), cmpMode(rec.DKIMAlignment)
	}
	spfAligned := res.SPF == string(spf.Pass) && aligned(res.SPFDomain, res.Domain, spfMode)
	dkimAligned := slices.ContainsFunc(res.DKIM, func(d docket.DKIMResult) bool {
		return d.Result == "pass" && aligned(d.Domain, res.Domain, dkimMode)
	})
	res.Aligned = spfAligned || dkimAligned
	switch {
	case rec != nil && res.Aligned:
		res.DMARC = "pass"
	case rec != nil:
		res.DMARC = "fail"
	case err != nil && dmarc.IsTempFail(err):
		res.DMARC = "temperror"
	}

	if !res.Aligned {
		res.Reason = fmt.Sprintf("Neither SPF (%s for %s) nor any DKIM signature passed for the From domain %s: the sender is unverified.", res.SPF, orNone(res.SPFDomain), res.Domain)
		return res
	}
	how := "DKIM"
	if !dkimAligned {
		how = "SPF"
	}
	if a, ok := v.Directory.AuthorityForDomain(ctx, res.Domain); ok {
		res.Level, res.AuthorityID = docket.SenderRegistered, a.ID
		res.Reason = fmt.Sprintf("%s passed and is aligned with %s, an official domain of the registered authority %s.", how, res.Domain, a.Name)
		return res
	}
	if country, ok := v.Official.Match(res.Domain); ok {
		res.Level = docket.SenderOfficial
		res.Reason = fmt.Sprintf("%s passed and is aligned with %s, a known government domain (%s); no registered authority owns it.", how, res.Domain, country)
		return res
	}
	res.Reason = fmt.Sprintf("%s passed for %s, but it is neither a registered authority's domain nor a known government domain.", how, res.Domain)
	return res
}

func (v *Verifier) dmarcRecord(ctx context.Context, domain string) (*dmarc.Record, error) {
	lookup := &dmarc.LookupOptions{LookupTXT: func(name string) ([]string, error) { return v.Resolver.LookupTXT(ctx, name) }}
	rec, err := dmarc.LookupWithOptions(domain, lookup)
	if errors.Is(err, dmarc.ErrNoPolicy) {
		if org := orgDomain(domain); org != domain {
			return dmarc.LookupWithOptions(org, lookup)
		}
	}
	return rec, err
}

func spfSender(env Envelope) string {
	if env.MailFrom != "" {
		return env.MailFrom
	}
	return "postmaster@" + env.Helo
}

func cmpMode(m dmarc.AlignmentMode) dmarc.AlignmentMode {
	if m == "" {
		return dmarc.AlignmentRelaxed
	}
	return m
}

func aligned(a, b string, mode dmarc.AlignmentMode) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == "" || b == "" {
		return false
	}
	if mode == dmarc.AlignmentStrict {
		return a == b
	}
	return orgDomain(a) == orgDomain(b)
}

// orgDomain is the organisational domain (the registrable one: police.example for
// mail.police.example).
func orgDomain(d string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(addr[i+1:]), ".")
}

func orNone(s string) string {
	if s == "" {
		return "no domain"
	}
	return s
}

// Official is a table of known government domain suffixes and the country each belongs to
// ("gouv.fr" → FR). A domain matches when it is a suffix or under one.
type Official struct {
	suffixes map[string]string
}

//go:embed official.json
var officialJSON []byte

// DefaultOfficial returns the embedded table.
func DefaultOfficial() *Official {
	o, err := ParseOfficial(officialJSON)
	if err != nil {
		panic(err) // the embedded file is checked by a test
	}
	return o
}

// LoadOfficial reads a table from a JSON file ({"gouv.fr": "FR", …}); the embedded one
// when path is empty.
func LoadOfficial(path string) (*Official, error) {
	if path == "" {
		return DefaultOfficial(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read official domains: %w", err)
	}
	return ParseOfficial(b)
}

// ParseOfficial reads a table.
func ParseOfficial(b []byte) (*Official, error) {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("official domains: %w", err)
	}
	o := &Official{suffixes: map[string]string{}}
	for k, v := range m {
		k = strings.Trim(strings.ToLower(k), ".")
		if k == "" || len(v) != 2 && v != "EU" {
			return nil, fmt.Errorf("official domains: %q → %q: want a domain and a two-letter country code", k, v)
		}
		o.suffixes[k] = strings.ToUpper(v)
	}
	return o, nil
}

// Match returns the country of the longest known suffix of domain.
func (o *Official) Match(domain string) (string, bool) {
	if o == nil {
		return "", false
	}
	d := strings.ToLower(domain)
	for {
		if c, ok := o.suffixes[d]; ok {
			return c, true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return "", false
		}
		d = d[i+1:]
	}
}
