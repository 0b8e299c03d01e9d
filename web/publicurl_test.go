package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// mailbox is a docket.Mailer that keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	sent []string // "to\ntext"
}

func (m *mailbox) Mail(_ context.Context, _, _, to, _, text string) (string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, to+"\n"+text)
	return "id", "sha", nil
}

func (m *mailbox) Configured() bool { return true }

func (m *mailbox) last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		return ""
	}
	return m.sent[len(m.sent)-1]
}

// TestMailLinksIgnoreHost replays the attack: a registration with Host: evil.example sent
// a real officer a confirmation link to evil.example. Links in mail now come from the
// configured public URL only, whatever Host and X-Forwarded-* say.
func TestMailLinksIgnoreHost(t *testing.T) {
	box := &mailbox{}
	h := newHarness(t, Config{Mailer: box, PublicURL: "https://docket.example/"})
	officer, err := h.store.LoginByEmail(context.Background(), "officer", "officera@police.example")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, role, path string
		form             url.Values
	}{
		{"registration", "", "/portal/register", url.Values{"email": {"ines.martin@police.example"}, "name": {"Inès"}}},
		{"delegate", "officerA", "/portal/delegates", url.Values{"email": {"bo@police.example"}, "name": {"Bo"}}},
		{"reset by staff", "reviewer", "/console/accounts/" + officer.ID + "/reset", url.Values{}},
	}
	for _, tt := range tests {
		before := box.last()
		req, _ := http.NewRequest("POST", h.srv.URL+tt.path, strings.NewReader(tt.form.Encode()))
		req.Host = "evil.example"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("X-Forwarded-Proto", "https")
		if c := h.cookies[tt.role]; c != "" {
			req.AddCookie(&http.Cookie{Name: cookieName, Value: c})
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := box.last()
		if got == before || resp.StatusCode >= 400 {
			t.Fatalf("%s: %d, no mail sent", tt.name, resp.StatusCode)
		}
		if strings.Contains(got, "evil.example") || !strings.Contains(got, "https://docket.example/portal/confirm?token=") {
			t.Errorf("%s: the mailed link does not come from the public URL:\n%s", tt.name, got)
		}
	}
}
