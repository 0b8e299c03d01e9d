package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/foxcpp/go-mockdns"
)

// TestAnswerToForgedQuotedFrom replays the attack: a From with a quoted local part holding
// ">" ended up inside the answer's RCPT TO:<…> (RCPT TO:<attacker@evil.example>@police-a.example>),
// and the relay delivered the answer to attacker@evil.example. The address is checked
// before it reaches an SMTP command or a header: the relay receives nothing for it, and
// the case records the refusal for good.
func TestAnswerToForgedQuotedFrom(t *testing.T) {
	dns, err := mockdns.NewServerWithLogger(map[string]mockdns.Zone{}, silentPrintf{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	rl := &lenientRelay{}
	rln, _ := net.Listen("tcp", "127.0.0.1:0")
	go rl.serve(rln)
	defer rln.Close()

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "docket.json")
	cfg, _ := json.Marshal(map[string]any{"smtp_addr": "127.0.0.1:0", "smtp_domain": "docket.test", "dns": dns.LocalAddr().String(),
		"relay_addr": rln.Addr().String(), "relay_security": "none"})
	os.WriteFile(cfgFile, cfg, 0o600)
	env := map[string]string{"DOCKET_DATA": dir, "DOCKET_CONFIG": cfgFile, "DOCKET_NO_TRIAGE": "true"}
	_, agent := created(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))
	srv := startServe(t, env, "--clock-interval", "50ms")

	raw := crlf(`From: "attacker@evil.example>"@police-a.example
To: legal@docket.test
Subject: Requisition 77
Message-ID: <forged-77@police-a.example>
Date: Fri, 20 Nov 2026 10:00:00 +0100

Identify the holder of the account @x, please.
`)
	c, err := smtp.Dial(srv.listen["smtp"])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("officer@police-a.example", []string{"legal@docket.test"}, strings.NewReader(string(raw))); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	c.Quit()
	cases := srv.call("GET", "/api/v1/cases?limit=10", agent, "", 200)["cases"].([]any)
	if len(cases) != 1 {
		t.Fatalf("%d cases, want 1", len(cases))
	}
	caseID := cases[0].(map[string]any)["id"].(string)
	srv.call("POST", "/api/v1/cases/"+caseID+"/events", agent, `{"type":"decide","outcome":"refuse","reason_code":"unverified_sender","statement":"Sender not verified."}`, 201)
	srv.call("POST", "/api/v1/cases/"+caseID+"/events", agent, `{"type":"answer","text":"Please send it again from your official address."}`, 201)

	var events string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if events = eventTypes(srv.call, agent, caseID); strings.Contains(events, "mail_sent") || strings.Contains(events, "mail_failed") {
			break
		}
	}
	for _, line := range rl.received() {
		if strings.Contains(line, "evil.example") {
			t.Errorf("the relay was given %q", line)
		}
	}
	if !strings.Contains(events, "mail_failed") || strings.Contains(events, "mail_sent") {
		t.Errorf("events %s: want the answer refused for good (mail_failed), not sent", events)
	}
}

// lenientRelay is a relay that takes whatever it is given, as a permissive MTA would
// (one reads RCPT TO:<a@evil.example>@police-a.example> as a@evil.example), and records
// every line of the dialogue it receives.
type lenientRelay struct {
	mu    sync.Mutex
	lines []string
}

func (r *lenientRelay) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

func (r *lenientRelay) serve(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			rd := bufio.NewReader(conn)
			fmt.Fprint(conn, "220 relay.test ESMTP\r\n")
			data := false
			for {
				line, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				r.mu.Lock()
				r.lines = append(r.lines, strings.TrimRight(line, "\r\n"))
				r.mu.Unlock()
				cmd := strings.ToUpper(strings.TrimRight(line, "\r\n"))
				switch {
				case data:
					if cmd == "." {
						data = false
						fmt.Fprint(conn, "250 queued\r\n")
					}
				case strings.HasPrefix(cmd, "EHLO"):
					fmt.Fprint(conn, "250-relay.test\r\n250 8BITMIME\r\n")
				case cmd == "DATA":
					data = true
					fmt.Fprint(conn, "354 go on\r\n")
				case cmd == "QUIT":
					fmt.Fprint(conn, "221 bye\r\n")
					return
				default:
					fmt.Fprint(conn, "250 ok\r\n")
				}
			}
		}()
	}
}

// TestSMTPSessionCap: serve caps the SMTP sessions open at once (smtp_max_sessions);
// beyond it a connection is answered 421.
func TestSMTPSessionCap(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "docket.json")
	os.WriteFile(cfgFile, []byte(`{"smtp_addr": "127.0.0.1:0", "smtp_domain": "docket.test", "smtp_max_sessions": 1}`), 0o600)
	srv := startServe(t, map[string]string{"DOCKET_DATA": dir, "DOCKET_CONFIG": cfgFile, "DOCKET_NO_TRIAGE": "true"})
	greet := func() (net.Conn, string) {
		c, err := net.Dial("tcp", srv.listen["smtp"])
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		return c, line
	}
	first, line := greet()
	defer first.Close()
	if !strings.HasPrefix(line, "220 ") {
		t.Fatalf("first session: %q", line)
	}
	second, line := greet()
	defer second.Close()
	if !strings.HasPrefix(line, "421 ") {
		t.Errorf("a session beyond smtp_max_sessions: %q, want 421", line)
	}
}
