package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/account"
)

// browserBase is where the pages are, as a browser sees them.
var browserBase = &url.URL{Scheme: "https", Host: "docket.example", Path: "/console/signin"}

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*:`)

// browserResolve resolves a Location header value against browserBase as the WHATWG URL
// parser does for a special scheme: leading and trailing C0 controls and spaces are
// stripped, tabs, CR and LF removed everywhere, and a backslash is a slash. It returns the
// host the browser would go to.
func browserResolve(t *testing.T, loc string) string {
	t.Helper()
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= 0x20 })
	loc = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\r', '\n':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, loc)
	if schemeRE.MatchString(loc) {
		return "<scheme " + loc + ">" // an absolute URL, never on this site as a next=
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "<unparsable " + loc + ">"
	}
	return browserBase.ResolveReference(u).Host
}

// TestSafeNext: the next= of a sign-in or language switch, as the attack tried it.
func TestSafeNext(t *testing.T) {
	tests := []struct {
		next, want string
	}{
		{"/console/cases/1", "/console/cases/1"},
		{"/portal?x=1#top", "/portal?x=1#top"},
		{"/console/search?q=a%20b", "/console/search?q=a%20b"},
		{"/\t/evil.example", "/"}, // next=/%09/evil.example, decoded by the form
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/%09/evil.example", "/"}, // decoded once more
		{"/\\evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%5c%5cevil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"//evil.example", "/"},
		{"https://evil.example/", "/"},
		{"https:evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{" /\t/evil.example", "/"},
		{"\x00/x", "/"},
		{"/a\x7fb", "/"},
		{"/ok?next=%0A", "/"},
		{"", "/"},
		{"console", "/"},
	}
	for _, tt := range tests {
		got := safeNext(tt.next, "/")
		if got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
		if host := browserResolve(t, got); host != browserBase.Host {
			t.Errorf("safeNext(%q) = %q: a browser goes to %s", tt.next, got, host)
		}
	}
}

// FuzzSafeNext: whatever next= says, the Location a sign-in or language switch answers
// with keeps a browser on this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/portal", "//evil.example", "/\\evil", "https://evil.example", "/ok?x=1", "\r\n/x", "",
		"/\t/evil.example", "/%09/evil.example", "/%5C/evil.example", "/\\\t\\evil.example", " //evil.example", "/\x0b/evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next, "/")
		if got == "/" {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == '\\' || r == 0x7f }) {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		if host := browserResolve(t, got); host != browserBase.Host {
			t.Fatalf("safeNext(%q) = %q: a browser goes to %s", next, got, host)
		}
	})
}

// TestSignInNextStaysOnSite replays the attack: a sign-in with next=/%09/evil.example
// answered Location: /\t/evil.example, which browsers follow to evil.example.
func TestSignInNextStaysOnSite(t *testing.T) {
	h := newHarness(t, Config{})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, next := range []string{"/\t/evil.example", "/\\/evil.example", "/%5C/evil.example"} {
		resp, err := noFollow.Get(h.srv.URL + "/lang?l=fr&next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("lang next=%q: %d to %q, want 303 to /", next, resp.StatusCode, loc)
		}
		cred := h.creds["agent"]
		h.clk.add(31 * time.Second) // a fresh code each time
		form := url.Values{"email": {cred.Email}, "password": {cred.Password}, "code": {account.Code(cred.Secret, h.clk.now())}, "next": {next}}
		resp, err = noFollow.PostForm(h.srv.URL+"/console/signin", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/console" {
			t.Errorf("sign-in next=%q: %d to %q, want 303 to /console", next, resp.StatusCode, loc)
		}
	}
}
