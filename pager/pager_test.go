package pager

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

func TestConfig(t *testing.T) {
	base := func() *Config {
		return &Config{People: []Person{{Name: "a", Email: "a@x"}, {Name: "b", Email: "b@x"}}, Rotation: Rotation{People: []string{"a", "b"}}}
	}
	cases := []struct {
		name  string
		edit  func(*Config)
		valid bool
	}{
		{"defaults", func(*Config) {}, true},
		{"nobody on call", func(c *Config) { c.Rotation.People = nil }, false},
		{"unknown person in rotation", func(c *Config) { c.Rotation.People = []string{"a", "zed"} }, false},
		{"unknown ladder target", func(c *Config) { c.Ladder = []Step{{0, "primary"}, {60, "zed"}} }, false},
		{"ladder out of order", func(c *Config) { c.Ladder = []Step{{600, "primary"}, {60, "secondary"}} }, false},
		{"no way to reach someone", func(c *Config) { c.People[0].Email = "" }, false},
		{"webhook not http", func(c *Config) { c.Webhooks = []string{"ftp://x"} }, false},
	}
	for _, tc := range cases {
		c := base()
		tc.edit(c)
		if err := c.Validate(); (err == nil) != tc.valid {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestRotation(t *testing.T) {
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	c := &Config{People: []Person{{Name: "a", Email: "a"}, {Name: "b", Email: "b"}, {Name: "c", Email: "c"}, {Name: "boss", Email: "m"}},
		Rotation: Rotation{Start: start, Shift: docket.Duration(7 * 24 * time.Hour), People: []string{"a", "b", "c"}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		step string
		want string
	}{
		{start.Add(time.Hour), "primary", "a"},
		{start.Add(time.Hour), "secondary", "b"},
		{start.Add(8 * 24 * time.Hour), "primary", "b"},
		{start.Add(15 * 24 * time.Hour), "secondary", "a"},
		{start.Add(-time.Hour), "primary", "a"},
		{start, "boss", "boss"},
	} {
		if got := c.OnCall(tc.at, Step{Notify: tc.step}).Name; got != tc.want {
			t.Errorf("%s at %v: %s, want %s", tc.step, tc.at, got, tc.want)
		}
	}
}

// TestUndeliveredPageIsRecordedAndRetried: a webhook that fails records page_failed and the
// job retries; escalation is queued all the same.
func TestUndeliveredPageIsRecordedAndRetried(t *testing.T) {
	ctx := context.Background()
	var fail atomic.Bool
	fail.Store(true)
	var got atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		got.Add(1)
	}))
	defer hook.Close()
	store := storetest.Open(t, "sqlite")
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	svc := workflow.New(workflow.Config{Store: store, Now: func() time.Time { return now }, Paging: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	svc.Start(ctx)
	defer svc.Stop()
	a := &docket.Authority{Name: "Police", Country: "FR"}
	if _, err := svc.RegisterAuthority(ctx, "test", a); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte("x"),
		Body: docket.RequestBody{Regime: "emergency", Kind: docket.KindEmergencyDisclosure, Emergency: true, Description: "danger", Targets: []docket.Target{{Kind: "username", Value: "@x"}}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{People: []Person{{Name: "a"}, {Name: "b"}}, Rotation: Rotation{People: []string{"a", "b"}}, Webhooks: []string{hook.URL}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p := &Pager{Config: cfg, Service: svc, Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r := jobs.New(jobs.Config{Store: store, Now: func() time.Time { return now }})
	p.Register(r)
	r.RunDue(ctx)
	c, _ := store.Case(ctx, res.Receipt.CaseID)
	if c.Paging == nil || c.Paging.Failures != 1 || c.Paging.Pages != 0 {
		t.Fatalf("after a failed page: %+v", c.Paging)
	}
	fail.Store(false)
	now = now.Add(2 * time.Second) // past the backoff
	r.RunDue(ctx)
	c, _ = store.Case(ctx, res.Receipt.CaseID)
	if c.Paging.Pages != 1 || got.Load() != 1 {
		t.Fatalf("after the retry: %+v, %d delivered", c.Paging, got.Load())
	}
	events, _ := store.CaseEvents(ctx, c.ID)
	var paged docket.Paged
	for _, e := range events {
		if e.Type == docket.EventPaged {
			json.Unmarshal(e.Data, &paged)
		}
	}
	if paged.To != "a" || len(paged.Notifiers) != 1 || !paged.Notifiers[0].OK {
		t.Fatalf("paged = %+v", paged)
	}
	now = now.Add(5 * time.Minute) // the secondary's step
	r.RunDue(ctx)
	if c, _ = store.Case(ctx, c.ID); c.Paging.Pages != 2 || c.Paging.LastTo != "b" {
		t.Fatalf("escalation: %+v", c.Paging)
	}
}
