package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
)

// demo starts docket and the reference platform together, registers an authority and two
// staff members, and works five requests through: a removal (the message answers 410), a
// restriction in Germany only (451 there, 200 elsewhere), a preservation (a sealed
// snapshot on hold for 60 days), an emergency (the on-call person is paged; the pages
// are printed here, as an incident tool would show them) and a public notice found lawful.
func (m *Main) demo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "docket's listen address")
	platformAddr := fs.String("platform-addr", "127.0.0.1:8090", "the reference platform's listen address")
	data := fs.String("data", "docket-demo", "folder for both databases and the keys (created; reused if present)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return fmt.Errorf("demo data folder: %w", err)
	}
	secretBytes := make([]byte, 16)
	rand.Read(secretBytes)
	secret := hex.EncodeToString(secretBytes)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The reference platform.
	platformReady := make(chan string, 1)
	errc := make(chan error, 3)
	go func() {
		errc <- runRefPlatform(ctx, *platformAddr, filepath.Join(*data, "platform"), secret, true, quiet, func(a string) { platformReady <- a })
	}()
	var platformURL string
	select {
	case a := <-platformReady:
		platformURL = "http://" + a
	case err := <-errc:
		return err
	}

	// The incident tool: pages are printed.
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v struct {
			Payload struct {
				Summary string `json:"summary"`
			} `json:"payload"`
			Docket struct {
				OnCall string `json:"on_call"`
				Step   int    `json:"step"`
			} `json:"docket"`
		}
		json.NewDecoder(r.Body).Decode(&v)
		fmt.Fprintf(m.Stdout, "  PAGE (step %d) → %s: %s\n", v.Docket.Step, v.Docket.OnCall, v.Payload.Summary)
		w.WriteHeader(http.StatusAccepted)
	})}
	go hook.Serve(hookLn)
	defer hook.Close()

	dataDir := filepath.Join(*data, "docket")
	cfgFile := filepath.Join(*data, "docket.json")
	cfg, _ := json.MarshalIndent(map[string]any{
		"data": dataDir, "addr": *addr, "platform_url": platformURL, "platform_secret": secret, "platform_name": "Reference Messenger",
		"log_level": "warn",
		"pager": map[string]any{
			"people":   []map[string]string{{"name": "alice"}, {"name": "bob"}},
			"rotation": map[string]any{"start": "2026-01-05T08:00:00Z", "shift": "7d", "people": []string{"alice", "bob"}},
			"ladder":   []map[string]string{{"after": "0s", "notify": "primary"}, {"after": "5m", "notify": "secondary"}},
			"webhooks": []string{"http://" + hookLn.Addr().String() + "/"},
		},
	}, "", "  ")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		return err
	}
	env := func(k string) string {
		if k == "DOCKET_CONFIG" {
			return cfgFile
		}
		return ""
	}
	sub := func(args ...string) (map[string]string, error) {
		var out bytes.Buffer
		if err := (&Main{Stdout: &out, Stderr: m.Stderr, Getenv: env}).Run(ctx, args); err != nil {
			return nil, err
		}
		var v map[string]string
		return v, json.Unmarshal(out.Bytes(), &v)
	}
	key, _ := age.GenerateX25519Identity()
	keyFile := filepath.Join(*data, "authority-age.key")
	os.WriteFile(keyFile, []byte(key.String()+"\n"), 0o600)
	police, err := sub("authority", "add", "--name", "Demo Police", "--country", "FR", "--kind", "police", "--age-recipient", key.Recipient().String(), "--json")
	if err != nil {
		return err
	}
	agent, err := sub("user", "add", "--email", fmt.Sprintf("agent%d@platform.example", time.Now().Unix()), "--role", "agent", "--json")
	if err != nil {
		return err
	}
	reviewer, err := sub("user", "add", "--email", fmt.Sprintf("legal%d@platform.example", time.Now().Unix()), "--role", "reviewer", "--json")
	if err != nil {
		return err
	}

	// docket itself.
	ready := make(chan string, 1)
	srv := &Main{Stdout: io.Discard, Stderr: m.Stderr, Getenv: env, Ready: func(a string) { ready <- a }}
	go func() { errc <- srv.Run(ctx, []string{"serve"}) }()
	var base string
	select {
	case a := <-ready:
		base = "http://" + a
	case err := <-errc:
		return err
	}
	fmt.Fprintf(m.Stdout, "docket on %s, the reference platform on %s (data in %s)\n", base, platformURL, *data)
	fmt.Fprintf(m.Stdout, "tokens: authority %s\n        agent %s\n        reviewer %s\n", police["token"], agent["token"], reviewer["token"])

	d := &demoClient{base: base}
	if err := d.run(m.Stdout, platformURL, police["token"], agent["token"]); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(m.Stdout, "\nTry:\n  curl -i %s/m/2                      # removed: 410\n  curl -i -H 'X-Country: DE' %s/m/3  # withheld in Germany: 451\n  curl -i %s/m/3                      # elsewhere: 200\n  curl -H 'Authorization: Bearer %s' %s/api/v1/cases\n", platformURL, platformURL, platformURL, agent["token"], base)
	fmt.Fprintln(m.Stdout, "demo ready; Ctrl-C stops it")
	if m.Ready != nil {
		m.Ready(base)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// demoClient works the demo's cases through the API, as staff would.
type demoClient struct{ base string }

func (d *demoClient) call(method, path, token string, body any) (map[string]any, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.base+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &v)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	return v, nil
}

// waitAction waits until the case's action i is confirmed by the platform.
func (d *demoClient) waitAction(token, caseID string, i int) error {
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		v, err := d.call("GET", "/api/v1/cases/"+caseID, token, nil)
		if err != nil {
			return err
		}
		acts, _ := v["case"].(map[string]any)["actions"].([]any)
		if len(acts) > i {
			a := acts[i].(map[string]any)
			switch a["status"] {
			case "done":
				return nil
			case "failed":
				return fmt.Errorf("action failed: %v", a["error"])
			}
		}
	}
	return fmt.Errorf("case %s: the platform did not confirm in time", caseID)
}

func (d *demoClient) run(out io.Writer, platform, police, agent string) error {
	sor := map[string]any{"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "Regulation (EU) 2021/784, art. 3",
		"explanation": "Incitement to a terrorist attack.", "decision_facts": "Removal order of the competent authority."}
	steps := []struct {
		title   string
		request map[string]any
		work    func(caseID string) error
	}{
		{"1. TCO removal order → message removed everywhere", map[string]any{"regime": "eu-tco-removal", "kind": "removal", "reference": "TCO-DEMO-1",
			"legal_basis": "Regulation (EU) 2021/784, art. 3", "reasons": "Incitement to an attack.", "targets": []map[string]string{{"kind": "message", "value": platform + "/m/2"}}},
			func(id string) error {
				if _, err := d.call("POST", "/api/v1/cases/"+id+"/events", agent, map[string]any{"type": "decide", "outcome": "comply", "statement": "Valid removal order."}); err != nil {
					return err
				}
				if _, err := d.call("POST", "/api/v1/cases/"+id+"/events", agent, map[string]any{"type": "remove", "target": map[string]string{"kind": "message", "value": platform + "/m/2"}, "statement_of_reasons": sor}); err != nil {
					return err
				}
				if err := d.waitAction(agent, id, 0); err != nil {
					return err
				}
				_, err := d.call("POST", "/api/v1/cases/"+id+"/events", agent, map[string]any{"type": "answer", "text": "The content was removed in all member states."})
				return err
			}},
		{"2. Order against content illegal in Germany → withheld there only", map[string]any{"regime": "dsa-art9", "kind": "removal", "legal_basis": "StGB § 130",
			"reasons": "Holocaust denial.", "redress": "Verwaltungsgericht", "targets": []map[string]string{{"kind": "message", "value": platform + "/m/3"}}},
			func(id string) error {
				if _, err := d.call("POST", "/api/v1/cases/"+id+"/events", agent, map[string]any{"type": "decide", "outcome": "comply", "statement": "Illegal in Germany."}); err != nil {
					return err
				}
				s := map[string]any{"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "StGB § 130", "explanation": "Holocaust denial is illegal in Germany.", "decision_facts": "Order of a German authority."}
				if _, err := d.call("POST", "/api/v1/cases/"+id+"/events", agent, map[string]any{"type": "restrict", "countries": []string{"DE"}, "target": map[string]string{"kind": "message", "value": platform + "/m/3"}, "statement_of_reasons": s}); err != nil {
					return err
				}
				return d.waitAction(agent, id, 0)
			}},
		{"3. EPOC-PR preservation order → sealed snapshot held 60 days", map[string]any{"regime": "eu-epoc-pr", "kind": "preservation", "reference": "EPOC-PR-DEMO",
			"legal_basis": "Regulation (EU) 2023/1543, art. 11", "targets": []map[string]string{{"kind": "username", "value": "@nightwolf"}}},
			func(id string) error {
				if _, err := d.call("POST", "/api/v1/cases/"+id+"/events", agent, map[string]any{"type": "preserve", "target": map[string]string{"kind": "username", "value": "@nightwolf"}}); err != nil {
					return err
				}
				return d.waitAction(agent, id, 0)
			}},
		{"4. Emergency disclosure request → the on-call person is paged", map[string]any{"regime": "us-emergency", "kind": "emergency_disclosure", "emergency": true,
			"description": "A user announced he will shoot his neighbour tonight.", "targets": []map[string]string{{"kind": "message", "value": platform + "/m/5"}}},
			func(string) error { time.Sleep(time.Second); return nil }},
	}
	for _, st := range steps {
		fmt.Fprintf(out, "\n%s\n", st.title)
		r, err := d.call("POST", "/api/v1/requests", police, st.request)
		if err != nil {
			return err
		}
		id := r["case_id"].(string)
		if err := st.work(id); err != nil {
			return err
		}
		fmt.Fprintf(out, "  case %s: %s/api/v1/cases/%s\n", id, d.base, id)
	}
	// A notice from the public (DSA art. 16), about content that breaks no law: answered.
	fmt.Fprintf(out, "\n5. A notice from the public → found lawful, the notifier told why\n")
	r, err := d.call("POST", "/api/v1/notices", "", map[string]any{"explanation": "This message about a dinner is offensive to me.",
		"locations": []string{platform + "/m/4"}, "name": "Jane Doe", "email": "jane@example.org", "good_faith": true, "country": "BE"})
	if err != nil {
		return err
	}
	id := r["case_id"].(string)
	for _, a := range []map[string]any{
		{"type": "decide", "outcome": "not_actionable", "reason_code": "not_illegal", "statement": "The message breaks no law and none of our terms."},
		{"type": "answer", "text": "We looked at the message: it breaks no law and none of our terms, so it stays."},
	} {
		if _, err := d.call("POST", "/api/v1/cases/"+id+"/events", agent, a); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "  case %s: %s/api/v1/cases/%s\n", id, d.base, id)
	return nil
}
