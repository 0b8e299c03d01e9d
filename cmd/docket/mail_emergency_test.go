package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/foxcpp/go-mockdns"
)

// TestMailEmergencyPages: a message to legal@ (not emergency@) from a member of the public,
// in Portuguese or Japanese, that says a life is at risk is triaged as an emergency at
// receipt, goes to the emergency queue and pages the person on call.
func TestMailEmergencyPages(t *testing.T) {
	if _, err := exec.LookPath("swaks"); err != nil {
		t.Skip("swaks is not installed: apt-get install swaks (the mail tests deliver with it)")
	}
	dns, err := mockdns.NewServerWithLogger(map[string]mockdns.Zone{}, silentPrintf{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	hooks := &pageReceiver{}
	hookSrv := httptest.NewServer(hooks)
	defer hookSrv.Close()

	dir := t.TempDir()
	pagerFile := filepath.Join(dir, "pager.json")
	pc, _ := json.Marshal(map[string]any{
		"people":   []map[string]string{{"name": "alice"}, {"name": "bob"}},
		"rotation": map[string]any{"start": "2026-01-05T08:00:00Z", "shift": "7d", "people": []string{"alice", "bob"}},
		"ladder":   []map[string]string{{"after": "0s", "notify": "primary"}, {"after": "5m", "notify": "secondary"}},
		"webhooks": []string{hookSrv.URL},
	})
	os.WriteFile(pagerFile, pc, 0o600)
	cfgFile := filepath.Join(dir, "docket.json")
	cfg, _ := json.Marshal(map[string]any{"smtp_addr": "127.0.0.1:0", "smtp_domain": "docket.test", "dns": dns.LocalAddr().String()})
	os.WriteFile(cfgFile, cfg, 0o600)
	env := map[string]string{"DOCKET_DATA": filepath.Join(dir, "data"), "DOCKET_CONFIG": cfgFile, "DOCKET_PAGER_FILE": pagerFile}
	_, agent := created(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))
	srv := startServe(t, env, "--clock-interval", "50ms")
	mx, call := srv.listen["smtp"], srv.call

	for _, m := range []struct{ id, from, subject, body string }{
		{"pt-1@correio.example", "rita@correio.example", "=?utf-8?q?Morada_da_minha_irm=C3=A3?=",
			"Boa noite. Um homem escreveu no canal https://t.me/exemplo_canal que vai matar a ex-mulher hoje à noite e publicou a morada dela. Por favor ajudem."},
		{"ja-1@mail.example", "kenta@mail.example", "=?utf-8?b?57eK5oCl?=",
			"友人がチャンネル https://t.me/example_diary に「今までありがとう。もう終わりにする」と書き、睡眠薬の写真を載せました。電話に出ません。"},
	} {
		raw := crlf("From: <" + m.from + ">\nTo: legal@docket.test\nSubject: " + m.subject + "\nMessage-ID: <" + m.id + ">\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + m.body + "\n")
		before := hooks.count()
		if out, err := swaks(t, mx, m.from, "legal@docket.test", raw); err != nil {
			t.Fatalf("swaks %s: %v\n%s", m.id, err, out)
		}
		eventually(t, "a page for "+m.id, func() bool { return hooks.count() > before })
		if on := hooks.onCall(before); on != "alice" && on != "bob" {
			t.Fatalf("%s paged %q, not the person on call", m.id, on)
		}
		var found map[string]any
		for _, c := range call("GET", "/api/v1/cases?limit=100", agent, "", 200)["cases"].([]any) {
			id := c.(map[string]any)["id"].(string)
			for _, r := range call("GET", "/api/v1/cases/"+id, agent, "", 200)["requests"].([]any) {
				if em, ok := r.(map[string]any)["body"].(map[string]any)["email"].(map[string]any); ok && em["message_id"] == m.id {
					found = caseOf(srv, agent, id)
				}
			}
		}
		if found == nil || found["emergency"] != true || found["queue"] != "emergency" || found["regime"] != "emergency" {
			t.Fatalf("%s: case %v", m.id, found)
		}
	}
}
