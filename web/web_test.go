package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/account"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is docket's pages on a test server, with staff of every role, two authorities
// of two countries with an officer each, and a case of the first authority.
type harness struct {
	t        *testing.T
	srv      *httptest.Server
	pages    *Server
	svc      *workflow.Service
	store    docket.Store
	accounts *account.Service
	clk      *clock
	cookies  map[string]string // role → session cookie
	creds    map[string]*account.Credentials
	authA    *docket.Authority
	authB    *docket.Authority
	caseA    string
	reqA     string
	logs     *bytes.Buffer
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	ctx := context.Background()
	store := storetest.Open(t, "sqlite")
	// As docket serve does: every commit signs the head of the log's Merkle tree.
	store.(*sqlstore.Store).SetSigner(testLogKey(t))
	clk := &clock{t: time.Now().UTC()}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil))
	svc := workflow.New(workflow.Config{Store: store, Logger: log, Now: clk.now, AppealKey: []byte("the web tests' appeal key")})
	svc.Start(ctx)
	t.Cleanup(svc.Stop)
	accounts := account.New(account.Config{Store: store, Logger: log, Now: clk.now})
	cfg.Service, cfg.Store, cfg.Accounts, cfg.Logger = svc, store, accounts, log
	pages, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: httptest.NewServer(pages), pages: pages, svc: svc, store: store, accounts: accounts, clk: clk, cookies: map[string]string{}, creds: map[string]*account.Credentials{}, logs: logs}
	t.Cleanup(h.srv.Close)

	for _, role := range []docket.Role{docket.RoleAgent, docket.RoleReviewer, docket.RoleAdmin, docket.RoleAuditor} {
		u := &docket.User{Email: string(role) + "@platform.example", Role: role}
		if _, err := svc.AddUser(ctx, "test", u); err != nil {
			t.Fatal(err)
		}
		cred, err := accounts.AddStaff(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		h.cookies[string(role)] = h.signIn(docket.LoginStaff, cred)
		h.creds[string(role)] = cred
	}
	h.authA = &docket.Authority{Name: "Police judiciaire", Country: "FR", Domains: []string{"police.example"}}
	h.authB = &docket.Authority{Name: "Landeskriminalamt", Country: "DE", Domains: []string{"polizei.example"}}
	for _, a := range []*docket.Authority{h.authA, h.authB} {
		if _, err := svc.RegisterAuthority(ctx, "test", a); err != nil {
			t.Fatal(err)
		}
	}
	for name, a := range map[string]*docket.Authority{"officerA": h.authA, "officerB": h.authB} {
		cred, err := accounts.AddOfficer(ctx, a, strings.ToLower(name)+"@"+a.Domains[0], name)
		if err != nil {
			t.Fatal(err)
		}
		h.cookies[name] = h.signIn(docket.LoginOfficer, cred)
	}
	res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: h.authA, Raw: []byte(`{}`),
		Body: docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PJ-1", Description: "Escroquerie <b>en ligne</b>",
			Targets: []docket.Target{{Kind: "username", Value: "@arnaque"}}}})
	if err != nil {
		t.Fatal(err)
	}
	h.caseA, h.reqA = res.Receipt.CaseID, res.Receipt.ID
	return h
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (h *harness) signIn(kind string, cred *account.Credentials) string {
	h.t.Helper()
	_, token, err := h.accounts.SignIn(context.Background(), kind, cred.Email, cred.Password, account.Code(cred.Secret, h.clk.now()))
	if err != nil {
		h.t.Fatalf("sign in %s: %v", cred.Email, err)
	}
	return token
}

// signInAgain opens a new session for a staff role (after the clock moved past the last).
func (h *harness) signInAgain(role string) {
	h.cookies[role] = h.signIn(docket.LoginStaff, h.creds[role])
}

// do sends a request as a role ("" for nobody) and returns the status and the body.
func (h *harness) do(role, method, path string, body io.Reader, header http.Header) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if method == http.MethodPost && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c := h.cookies[role]; c != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: c})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) post(role, path string, form url.Values) (int, string) {
	return h.do(role, http.MethodPost, path, strings.NewReader(form.Encode()), nil)
}

// TestPermissions: every page and action × every role, and an officer of another
// authority in another country.
func TestPermissions(t *testing.T) {
	h := newHarness(t, Config{})
	c, r := h.caseA, h.reqA
	roles := []string{"", "agent", "reviewer", "admin", "auditor", "officerA", "officerB"}
	// Expected status per role, in the order of roles.
	tests := []struct {
		method, path string
		form         url.Values
		want         []int
	}{
		{"GET", "/", nil, []int{200, 303, 303, 303, 303, 303, 303}},
		{"GET", "/notice", nil, []int{200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/console", nil, []int{303, 200, 200, 200, 200, 403, 403}},
		{"GET", "/console/cases/" + c, nil, []int{303, 200, 200, 200, 200, 403, 403}},
		{"GET", "/console/requests/" + r + "/raw", nil, []int{303, 200, 200, 200, 200, 403, 403}},
		{"GET", "/console/dashboard", nil, []int{303, 200, 200, 200, 200, 403, 403}},
		{"GET", "/console/accounts", nil, []int{303, 200, 200, 200, 200, 403, 403}},
		{"GET", "/console/reports/requests?from=2026-01-01&to=2026-12-31", nil, []int{303, 200, 200, 200, 200, 403, 403}},
		{"GET", "/console/reports/dsa?from=2026-01-01&to=2026-12-31", nil, []int{303, 200, 200, 200, 200, 403, 403}},
		{"GET", "/console/reports/dsa?from=2026-13-01&to=2026-12-31", nil, []int{303, 422, 422, 422, 422, 403, 403}},
		{"GET", "/console/reports/gdpr?from=2026-01-01&to=2026-12-31", nil, []int{303, 404, 404, 404, 404, 403, 403}},
		{"POST", "/console/cases/" + c + "/act", url.Values{"type": {"comment"}, "text": {"seen"}}, []int{401, 303, 303, 303, 403, 403, 403}},
		{"POST", "/console/cases/" + c + "/act", url.Values{"type": {"merge"}, "case": {"nope"}}, []int{401, 422, 422, 422, 403, 403, 403}},
		{"POST", "/console/cases/" + c + "/act", url.Values{"type": {"split"}, "request": {r}}, []int{401, 422, 422, 422, 403, 403, 403}},
		{"POST", "/console/bulk", url.Values{"action": {"spam"}}, []int{401, 422, 422, 422, 422, 403, 403}},
		{"POST", "/console/accounts/nobody/approve", nil, []int{401, 403, 404, 404, 403, 403, 403}},
		{"GET", "/portal", nil, []int{303, 403, 403, 403, 403, 200, 200}},
		{"GET", "/portal/new", nil, []int{303, 403, 403, 403, 403, 200, 200}},
		{"GET", "/portal/cases/" + c, nil, []int{303, 403, 403, 403, 403, 200, 404}},
		{"POST", "/portal/cases/" + c + "/reply", url.Values{"text": {"here"}}, []int{401, 403, 403, 403, 403, 409, 404}},
		{"GET", "/portal/delegates", nil, []int{303, 403, 403, 403, 403, 200, 200}},
		{"POST", "/portal/new", url.Values{"kind": {"bogus"}}, []int{401, 403, 403, 403, 403, 422, 422}},
	}
	for _, tt := range tests {
		for i, role := range roles {
			var body io.Reader
			if tt.form != nil {
				body = strings.NewReader(tt.form.Encode())
			}
			got, page := h.do(role, tt.method, tt.path, body, nil)
			if got != tt.want[i] {
				t.Errorf("%s %s as %q: %d, want %d\n%.300s", tt.method, tt.path, role, got, tt.want[i], page)
			}
		}
	}
}

// TestBadInput: each is refused with a clear message, logged, and changes nothing.
func TestBadInput(t *testing.T) {
	h := newHarness(t, Config{MaxUpload: 1 << 20, NoticeBurst: 2, NoticesPerMinute: 1})
	events := func() int {
		ev, err := h.store.CaseEvents(context.Background(), h.caseA)
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	before := events()
	comment := url.Values{"type": {"comment"}, "text": {"forged"}}
	for name, hdr := range map[string]http.Header{
		"cross-site fetch": {"Sec-Fetch-Site": {"cross-site"}},
		"foreign origin":   {"Origin": {"https://evil.example"}},
	} {
		hdr.Set("Content-Type", "application/x-www-form-urlencoded")
		code, page := h.do("agent", "POST", "/console/cases/"+h.caseA+"/act", strings.NewReader(comment.Encode()), hdr)
		if code != 403 || !strings.Contains(page, "sent from another site") {
			t.Errorf("forged form (%s): %d\n%.300s", name, code, page)
		}
	}
	if events() != before {
		t.Fatal("a forged form changed the case")
	}
	if !strings.Contains(h.logs.String(), "cross-origin form refused") {
		t.Error("forged forms were not logged")
	}

	// A wrong second factor.
	code, page := h.post("", "/console/signin", url.Values{"email": {"agent@platform.example"}, "password": {"whatever it is"}, "code": {"123456"}})
	if code != 401 || !strings.Contains(page, "Wrong e-mail address, password or code") {
		t.Errorf("wrong code: %d %.300s", code, page)
	}

	// Script in every field, file name included, comes back escaped.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"regime": "fr-requisition", "kind": "disclosure", "reference": `<script>alert("ref")</script>`,
		"description": `<img src=x onerror=alert(1)>`, "targets": `username: @<script>x</script>`, "legal_basis": "Art. 60-1 CPP <i>"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("attachments", `<svg onload=alert(1)>.txt`)
	fw.Write([]byte("plain text evidence\n"))
	mw.Close()
	code, page = h.do("officerA", "POST", "/portal/new", &buf, http.Header{"Content-Type": {mw.FormDataContentType()}})
	if code != 201 {
		t.Fatalf("portal request with script: %d %s", code, page[strings.Index(page, "<main>"):])
	}
	var id string
	if i := strings.Index(page, `id="case-id">`); i >= 0 {
		id = page[i+len(`id="case-id">`):]
		id = id[:strings.IndexByte(id, '<')]
	}
	for _, role := range []string{"agent", "officerA"} {
		path := "/console/cases/" + id
		if role == "officerA" {
			path = "/portal/cases/" + id
		}
		code, page := h.do(role, "GET", path, nil, nil)
		if code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s shows %q unescaped", path, bad)
			}
		}
		if !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Errorf("%s does not show the description escaped", path)
		}
	}

	// An e-mail's source with script is shown as text.
	raw := "From: x@y.example\r\nSubject: hi\r\nContent-Type: text/html\r\n\r\n<script>alert('mail')</script>\r\n"
	res, err := h.svc.Submit(context.Background(), &workflow.Submission{Channel: docket.ChannelEmail, Raw: []byte(raw), ContentType: "message/rfc822",
		Body: docket.RequestBody{Regime: "none", Kind: docket.KindOther, Description: "<script>alert('mail')</script>", Email: &docket.Email{From: "x@y.example", Subject: "<script>s</script>"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/console/requests/" + res.Receipt.ID + "/raw", "/console/cases/" + res.Receipt.CaseID} {
		code, page = h.do("agent", "GET", path, nil, nil)
		if code != 200 || strings.Contains(page, "<script>alert") || strings.Contains(page, "<script>s") || !strings.Contains(page, "&lt;script&gt;alert(&#39;mail&#39;)") {
			t.Errorf("%s: %d, script not escaped\n%.2000s", path, code, page)
		}
	}

	// Uploads: over the limit, a type the portal does not take, a disguised type.
	upload := func(name string, data []byte) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("kind", "disclosure")
		mw.WriteField("regime", "fr-requisition")
		mw.WriteField("description", "with a file")
		mw.WriteField("legal_basis", "Art. 60-1 CPP")
		fw, _ := mw.CreateFormFile("attachments", name)
		fw.Write(data)
		mw.Close()
		return h.do("officerA", "POST", "/portal/new", &buf, http.Header{"Content-Type": {mw.FormDataContentType()}})
	}
	casesBefore, _ := h.store.Cases(context.Background(), docket.CaseFilter{AuthorityID: h.authA.ID})
	for _, tt := range []struct {
		name string
		data []byte
		code int
		says string
	}{
		{"big.pdf", append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 2<<20)...), 413, "larger than 1 MiB"},
		{"tool.exe", append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 200)...), 415, "does not take"},
		{"letter.pdf", []byte("<html><script>alert(1)</script></html>"), 415, "text/html, which the portal does not take"},
		{"notes.txt", []byte("%PDF-1.4\n%%EOF\n"), 415, "named as .txt but its content is application/pdf"},
		{"photo.jpg", []byte("%PDF-1.4\n%%EOF\n"), 415, "its content is application/pdf"},
	} {
		code, page := upload(tt.name, tt.data)
		if code != tt.code || !strings.Contains(page, tt.says) {
			t.Errorf("upload %s: %d, want %d saying %q\n%.400s", tt.name, code, tt.code, tt.says, page)
		}
	}
	casesAfter, _ := h.store.Cases(context.Background(), docket.CaseFilter{AuthorityID: h.authA.ID})
	if len(casesAfter) != len(casesBefore) {
		t.Errorf("refused uploads opened %d cases", len(casesAfter)-len(casesBefore))
	}

	// Sign-in and language: a next= to another site goes home instead.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example"} {
		resp, err := noFollow.Get(h.srv.URL + "/lang?l=fr&next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "/" {
			t.Errorf("lang next=%s: %d to %q, want 303 to /", next, resp.StatusCode, loc)
		}
	}

	// An expired session: pages send to the sign-in, forms are refused and say why.
	h.clk.add(8*time.Hour + time.Minute)
	if code, _ := h.do("agent", "GET", "/console", nil, nil); code != 303 {
		t.Errorf("expired session, page: %d", code)
	}
	code, page = h.post("agent", "/console/cases/"+h.caseA+"/act", comment)
	if code != 401 || !strings.Contains(page, "session has expired") {
		t.Errorf("expired session, form: %d %.300s", code, page)
	}

	// The notice form is limited per client.
	notice := url.Values{"locations": {"https://example.com/a"}, "explanation": {"hate speech"}, "good_faith": {"on"}, "name": {"N"}, "email": {"n@example.com"}}
	var codes []int
	for range 3 {
		code, _ := h.post("", "/notice", notice)
		codes = append(codes, code)
	}
	if codes[0] != 201 || codes[1] != 201 || codes[2] != 429 {
		t.Errorf("notices: %v, want 201 201 429", codes)
	}
	if events() != before {
		t.Error("refused input changed the case")
	}
}

// TestHeaders: every page has the strict policy and no framing; the session cookie is
// Secure, HttpOnly and SameSite.
func TestHeaders(t *testing.T) {
	h := newHarness(t, Config{})
	resp, err := http.Get(h.srv.URL + "/notice")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Security-Policy"); got != csp || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: CSP %q", got)
	}
	u := &docket.User{Email: "new@platform.example", Role: docket.RoleAgent}
	if _, err := h.svc.AddUser(context.Background(), "test", u); err != nil {
		t.Fatal(err)
	}
	cred, _ := h.accounts.AddStaff(context.Background(), u)
	form := url.Values{"email": {cred.Email}, "password": {cred.Password}, "code": {account.Code(cred.Secret, h.clk.now())}, "next": {"/console/dashboard"}}
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).PostForm(h.srv.URL+"/console/signin", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/console/dashboard" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == cookieName {
			c = k
		}
	}
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie: %+v", c)
	}
}

// TestFrenchCatalog: every text the templates translate has its French.
func TestFrenchCatalog(t *testing.T) {
	var missing []string
	for _, text := range templateTexts(t) {
		if _, ok := catalogs["fr"][text]; !ok {
			missing = append(missing, text)
		}
	}
	if len(missing) > 0 {
		b, _ := json.MarshalIndent(missing, "", "  ")
		t.Errorf("%d texts have no French:\n%s", len(missing), b)
	}
}

// TestFirstHourNits: the home page has a title, and a section typed with a trailing slash
// leads to it.
func TestFirstHourNits(t *testing.T) {
	h := newHarness(t, Config{})
	if code, body := h.do("", http.MethodGet, "/", nil, nil); code != http.StatusOK || !strings.Contains(body, "<title>Welcome · docket</title>") {
		t.Errorf("home: %d, title missing:\n%.300s", code, body)
	}
	for _, section := range []string{"/console", "/portal", "/notice"} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+section+"/", nil)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != section {
			t.Errorf("%s/: %d → %q, want 301 → %s", section, resp.StatusCode, resp.Header.Get("Location"), section)
		}
	}
}
