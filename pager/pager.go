// Package pager wakes a person when a life is at risk: for each case that becomes an
// emergency it pages the on-call person of a rotation through webhooks (a generic JSON
// body shaped like PagerDuty's Events API v2, which incident tools accept) and e-mail, and
// climbs an escalation ladder (secondary after 5 minutes, a manager after 15…) until
// someone acknowledges the page. Each page, failure and acknowledgement is an event.
package pager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/workflow"
)

// Person is someone who can be paged.
type Person struct {
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	Webhook string `json:"webhook,omitempty"` // their own incident-tool endpoint, if any
}

// Rotation is the on-call schedule: People take turns of Shift each, from Start.
type Rotation struct {
	Start  time.Time       `json:"start"`
	Shift  docket.Duration `json:"shift"`
	People []string        `json:"people"`
}

// Step is one rung of the escalation ladder: After the emergency began, notify "primary"
// (who is on call), "secondary" (the next in the rotation) or a person by name.
type Step struct {
	After  docket.Duration `json:"after"`
	Notify string          `json:"notify"`
}

// Config is the pager's configuration (the "pager" object of docket's config file).
type Config struct {
	People   []Person `json:"people"`
	Rotation Rotation `json:"rotation"`
	Ladder   []Step   `json:"ladder"`
	// Webhooks receive every page.
	Webhooks   []string `json:"webhooks"`
	RoutingKey string   `json:"routing_key,omitempty"`
	// ConsoleURL is where the case can be opened, for links in pages.
	ConsoleURL string `json:"console_url,omitempty"`
}

// DefaultLadder pages the on-call person at once and the next one after 5 minutes.
var DefaultLadder = []Step{{0, "primary"}, {docket.Duration(5 * time.Minute), "secondary"}}

// Load reads a pager configuration file.
func Load(file string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read pager config: %w", err)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("pager config %s: %w", file, err)
	}
	return &c, c.Validate()
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if len(c.Ladder) == 0 {
		c.Ladder = DefaultLadder
	}
	names := map[string]bool{}
	for _, p := range c.People {
		if p.Name == "" || (p.Email == "" && p.Webhook == "" && len(c.Webhooks) == 0) {
			return fmt.Errorf("pager: person %q needs a name and an e-mail or webhook (or global webhooks)", p.Name)
		}
		names[p.Name] = true
	}
	if len(c.Rotation.People) == 0 {
		return errors.New("pager: the rotation names nobody")
	}
	for _, n := range c.Rotation.People {
		if !names[n] {
			return fmt.Errorf("pager: rotation names %q, who is not among people", n)
		}
	}
	if c.Rotation.Shift <= 0 {
		c.Rotation.Shift = docket.Duration(7 * 24 * time.Hour)
	}
	for i, s := range c.Ladder {
		if s.Notify != "primary" && s.Notify != "secondary" && !names[s.Notify] {
			return fmt.Errorf("pager: ladder step %d notifies %q: primary, secondary or a person's name", i, s.Notify)
		}
		if i > 0 && s.After < c.Ladder[i-1].After {
			return fmt.Errorf("pager: ladder step %d comes before step %d", i, i-1)
		}
	}
	for _, u := range c.Webhooks {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("pager: webhook %q is not an http(s) URL", u)
		}
	}
	return nil
}

// OnCall returns who step notifies at time at.
func (c *Config) OnCall(at time.Time, s Step) Person {
	name := s.Notify
	if name == "primary" || name == "secondary" {
		n := len(c.Rotation.People)
		i := 0
		if shift := time.Duration(c.Rotation.Shift); at.After(c.Rotation.Start) {
			i = int(at.Sub(c.Rotation.Start)/shift) % n
		}
		if name == "secondary" {
			i = (i + 1) % n
		}
		name = c.Rotation.People[i]
	}
	for _, p := range c.People {
		if p.Name == name {
			return p
		}
	}
	return Person{Name: name}
}

// Pager runs the paging jobs.
type Pager struct {
	Config  *Config
	Service *workflow.Service
	Store   docket.Store
	Mail    docket.Mailer
	HTTP    *http.Client
	Logger  *slog.Logger
}

// Register adds the paging job to a runner.
func (p *Pager) Register(r *jobs.Runner) { r.Handle(workflow.JobPage, p.Page) }

func (p *Pager) log() *slog.Logger {
	if p.Logger == nil {
		return slog.Default()
	}
	return p.Logger
}

// Page runs one step of the ladder for a case: it notifies whoever the step names unless
// the page was acknowledged or the case answered, records the page, and queues the next step.
func (p *Pager) Page(ctx context.Context, j *docket.Job) error {
	var pj workflow.PageJob
	if err := json.Unmarshal(j.Payload, &pj); err != nil {
		return fmt.Errorf("page job payload: %w", err)
	}
	c, err := p.Store.Case(ctx, pj.CaseID)
	if err != nil {
		return fmt.Errorf("page: read case: %w", err)
	}
	if !c.Emergency || !c.State.Pending() || (c.Paging != nil && c.Paging.AcknowledgedAt != nil) || pj.Step >= len(p.Config.Ladder) {
		return nil // taken, answered or no longer an emergency: escalation stops
	}
	step := p.Config.Ladder[pj.Step]
	who := p.Config.OnCall(p.Service.Now(), step)
	var results []docket.NotifyResult
	if c.Paging == nil || c.Paging.Pages == 0 || c.Paging.Step < pj.Step {
		results = p.notify(ctx, c, pj.Step, who)
	}
	ok := len(results) == 0 // already paged at this step (a retry after a crash)
	for _, r := range results {
		ok = ok || r.OK
	}
	err = p.Service.Change(ctx, c.ID, docket.ActorPager, func(tx docket.Tx, c *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
		if len(results) > 0 {
			typ := docket.EventPaged
			if !ok {
				typ = docket.EventPageFailed
			}
			if _, err := rec(typ, docket.Paged{Step: pj.Step, To: who.Name, Notifiers: results}); err != nil {
				return err
			}
		}
		if next := pj.Step + 1; next < len(p.Config.Ladder) {
			at := pj.Since.Add(time.Duration(p.Config.Ladder[next].After))
			return p.Service.QueuePage(ctx, tx, workflow.PageJob{CaseID: c.ID, Step: next, Since: pj.Since}, at)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record page: %w", err)
	}
	if !ok {
		return fmt.Errorf("page for case %s reached nobody (step %d, %s)", c.ID, pj.Step, who.Name)
	}
	return nil
}

// notify sends the page through every notifier at once and returns each result.
func (p *Pager) notify(ctx context.Context, c *docket.Case, step int, who Person) []docket.NotifyResult {
	hooks := slices.Clone(p.Config.Webhooks)
	if who.Webhook != "" {
		hooks = append(hooks, who.Webhook)
	}
	summary := fmt.Sprintf("EMERGENCY %s case %s (%s%s) — deadline %s", c.Regime, c.ID, c.Country, authority(c), deadline(c))
	body, _ := json.Marshal(map[string]any{
		"event_action": "trigger",
		"routing_key":  p.Config.RoutingKey,
		"dedup_key":    "docket-" + c.ID,
		"payload": map[string]any{
			"summary": summary, "source": "docket", "severity": "critical", "timestamp": p.Service.Now().Format(time.RFC3339Nano),
			"custom_details": map[string]any{"case_id": c.ID, "regime": c.Regime, "kind": c.Kind, "country": c.Country,
				"authority_id": c.AuthorityID, "reference": c.Reference, "sender": c.Sender, "received_at": c.ReceivedAt, "deadline": deadline(c),
				"step": step, "on_call": who.Name},
		},
		"links": []map[string]string{{"href": strings.TrimRight(p.Config.ConsoleURL, "/") + "/api/v1/cases/" + c.ID, "text": "case"}},
		"docket": map[string]any{"case_id": c.ID, "step": step, "on_call": who.Name,
			"acknowledge": `POST /api/v1/cases/` + c.ID + `/events {"type":"acknowledge_page"}`},
	})
	results := make([]docket.NotifyResult, len(hooks))
	var wg sync.WaitGroup
	for i, u := range hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = docket.NotifyResult{Notifier: "webhook", Target: u, OK: true}
			if err := p.post(ctx, u, body); err != nil {
				results[i].OK, results[i].Error = false, err.Error()
			}
		}()
	}
	var mail *docket.NotifyResult
	if who.Email != "" && p.Mail != nil && p.Mail.Configured() {
		mail = &docket.NotifyResult{Notifier: "email", Target: who.Email, OK: true}
		text := summary + "\n\nYou are on call (step " + fmt.Sprint(step) + "). Open the case and acknowledge the page:\n" +
			strings.TrimRight(p.Config.ConsoleURL, "/") + "/api/v1/cases/" + c.ID + "\n"
		if _, _, err := p.Mail.Mail(ctx, c.ID, fmt.Sprintf("page%d", step), who.Email, summary, text); err != nil {
			mail.OK, mail.Error = false, err.Error()
		}
	}
	wg.Wait()
	if mail != nil {
		results = append(results, *mail)
	}
	if len(results) == 0 {
		results = append(results, docket.NotifyResult{Notifier: "none", Target: who.Name, Error: "no webhook or mail relay configured for " + who.Name})
	}
	for _, r := range results {
		if !r.OK {
			p.log().WarnContext(ctx, "page not delivered", slog.String("case", c.ID), slog.String("notifier", r.Notifier), slog.String("target", r.Target), slog.String("err", r.Error))
		}
	}
	return results
}

func (p *Pager) post(ctx context.Context, url string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := p.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

func authority(c *docket.Case) string {
	if c.AuthorityID == "" {
		return ""
	}
	return ", authority " + c.AuthorityID
}

func deadline(c *docket.Case) string {
	if c.DeadlineAt.IsZero() {
		return "none"
	}
	return c.DeadlineAt.Format(time.RFC3339)
}
