package sim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/docket-dev/docket"
)

//go:embed default.json
var defaultConfig []byte

// Config is a simulated month: who sends what, when, and who answers it. Every figure has a
// default in default.json (see docs/CAPACITY.md for where each comes from); a file given to
// Load replaces the fields it names.
type Config struct {
	Start time.Time `json:"start"`
	// Days is the measured period; requests arrive from WarmupDays before it (so that it
	// starts with a backlog) to TailDays after it (so that its last requests compete with
	// the next ones), but only those received in it are counted.
	Days       int `json:"days"`
	WarmupDays int `json:"warmup_days"`
	TailDays   int `json:"tail_days"`
	// Requests and Notices are the arrivals of the two pools over Days (authorities'
	// requests; the public's notices).
	Requests int    `json:"requests"`
	Notices  int    `json:"notices"`
	Seed     uint64 `json:"seed"`
	// Daily is the arrival rate by hour of the senders' local day, Weekly by day of the
	// week (time.Weekday: Sunday first); each is scaled to a mean of 1.
	Daily   []float64 `json:"daily"`
	Weekly  []float64 `json:"weekly"`
	Classes []Class   `json:"classes"`
	// NoticeTargets is how many distinct pieces of content notices name, NoticeZipfS the
	// exponent of their popularity: notices naming content with an open case join it.
	NoticeTargets int       `json:"notice_targets"`
	NoticeZipfS   float64   `json:"notice_zipf_s"`
	Bursts        []Burst   `json:"bursts"`
	Holidays      []Holiday `json:"holidays"`
	// Handling is the time a person takes to decide (and answer) a case, by kind.
	Handling map[docket.Kind]Dist `json:"handling"`
	// MatchedFactor scales the handling of a case whose media matched a hash bank;
	// ForeignLanguageFactor of a case in a language its handler does not read.
	MatchedFactor         float64            `json:"matched_factor"`
	ForeignLanguageFactor float64            `json:"foreign_language_factor"`
	Approval              Dist               `json:"approval"`
	Answer                Dist               `json:"answer"`
	Reply                 Reply              `json:"reply"`
	Outcomes              map[string]float64 `json:"outcomes"`
	Staff                 Staff              `json:"staff"`
}

// Class is one stream of arrivals: a channel, regime and kind, with its languages and
// countries.
type Class struct {
	Name string `json:"name"`
	// Pool is "requests" or "notices"; Share the class's part of its pool.
	Pool    string      `json:"pool"`
	Share   float64     `json:"share"`
	Channel string      `json:"channel"`
	Regime  string      `json:"regime"`
	Kind    docket.Kind `json:"kind"`
	// TZ is the senders' offset from UTC in hours (for the daily profile).
	TZ int `json:"tz"`
	// Emergency is the share flagged as emergencies by their sender; Spam the share the
	// triage calls spam; Join the share about a matter an open case of the same requester
	// already holds; NeedInfo the share answered with a question.
	Emergency float64 `json:"emergency"`
	Spam      float64 `json:"spam"`
	Join      float64 `json:"join"`
	NeedInfo  float64 `json:"need_info"`
	// Targets: the requests name content (notices: drawn from the popularity law);
	// Matched: their media match a hash bank; Category is the triage's DSA category.
	Targets   bool               `json:"targets"`
	Matched   bool               `json:"matched"`
	Category  string             `json:"category"`
	Languages map[string]float64 `json:"languages"`
	Countries map[string]float64 `json:"countries"`
}

// Burst multiplies one class's arrivals for some hours (an attack).
type Burst struct {
	Name   string    `json:"name"`
	Class  string    `json:"class"`
	Start  time.Time `json:"start"`
	Hours  int       `json:"hours"`
	Factor float64   `json:"factor"`
}

// Holiday scales arrivals and the staff present over whole days [From, To).
type Holiday struct {
	Name         string  `json:"name"`
	From         Date    `json:"from"`
	To           Date    `json:"to"`
	Arrivals     float64 `json:"arrivals"`
	StaffPresent float64 `json:"staff_present"`
}

// Dist is a log-normal distribution of durations given by its median and 90th percentile.
type Dist struct {
	Median docket.Duration `json:"median"`
	P90    docket.Duration `json:"p90"`
}

// sigma is the log-normal's shape: ln(p90/median) / z(0.9).
func (d Dist) sigma() float64 {
	if d.P90 <= d.Median || d.Median <= 0 {
		return 0
	}
	return math.Log(float64(d.P90)/float64(d.Median)) / 1.2815515655446004
}

// Reply is how requesters answer a question: Probability that they answer at all, and when.
type Reply struct {
	Probability float64         `json:"probability"`
	Median      docket.Duration `json:"median"`
	P90         docket.Duration `json:"p90"`
}

// Staff is the team: Count people split among Teams.
type Staff struct {
	Count int    `json:"count"`
	Teams []Team `json:"teams"`
	// VacationDays is each person's days off in the month (one block), SickRate the chance
	// of being off sick on a working day.
	VacationDays   float64         `json:"vacation_days"`
	SickRate       float64         `json:"sick_rate"`
	OncallAck      Dist            `json:"oncall_ack"`
	OncallEscalate docket.Duration `json:"oncall_escalate"`
}

// Team is a group of people with one shift pattern and the languages they read.
type Team struct {
	Name      string   `json:"name"`
	Share     float64  `json:"share"`
	TZ        int      `json:"tz"`
	StartHour int      `json:"start_hour"`
	Hours     int      `json:"hours"`
	Days      []int    `json:"days"`
	Languages []string `json:"languages"`
	// Queues are the queues the team works (empty: all).
	Queues []string `json:"queues"`
	// Reviewers is the share of the team with the reviewer role (four eyes).
	Reviewers float64 `json:"reviewers"`
}

// Date is a day written "2006-01-02".
type Date struct{ time.Time }

// UnmarshalJSON reads "2006-01-02".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	d.Time = t
	return nil
}

// MarshalJSON writes "2006-01-02".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.Format(time.DateOnly)) }

// DefaultConfig returns the embedded defaults.
func DefaultConfig() *Config {
	c, err := parse(nil)
	if err != nil {
		panic("sim: embedded config is invalid: " + err.Error())
	}
	return c
}

// Load reads a config file over the defaults (empty path: the defaults).
func Load(path string) (*Config, error) {
	if path == "" {
		return DefaultConfig(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load sim config: %w", err)
	}
	c, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("load sim config %s: %w", path, err)
	}
	return c, nil
}

func parse(over []byte) (*Config, error) {
	c := &Config{}
	for _, b := range [][]byte{defaultConfig, over} {
		if b == nil {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
	}
	return c, c.Validate()
}

// Validate checks the config.
func (c *Config) Validate() error {
	switch {
	case c.Days <= 0:
		return fmt.Errorf("days must be positive")
	case c.Requests < 0 || c.Notices < 0:
		return fmt.Errorf("requests and notices must not be negative")
	case len(c.Daily) != 24:
		return fmt.Errorf("daily needs 24 hourly factors, has %d", len(c.Daily))
	case len(c.Weekly) != 7:
		return fmt.Errorf("weekly needs 7 daily factors, has %d", len(c.Weekly))
	case len(c.Classes) == 0:
		return fmt.Errorf("no classes")
	case len(c.Staff.Teams) == 0:
		return fmt.Errorf("no teams")
	}
	for _, cl := range c.Classes {
		if cl.Pool != "requests" && cl.Pool != "notices" {
			return fmt.Errorf("class %s: pool must be requests or notices", cl.Name)
		}
		if !cl.Kind.Valid() {
			return fmt.Errorf("class %s: unknown kind %q", cl.Name, cl.Kind)
		}
		if _, ok := c.Handling[cl.Kind]; !ok {
			return fmt.Errorf("class %s: no handling time for kind %s", cl.Name, cl.Kind)
		}
		if len(cl.Languages) == 0 || len(cl.Countries) == 0 {
			return fmt.Errorf("class %s: languages and countries are required", cl.Name)
		}
	}
	for _, b := range c.Bursts {
		if c.class(b.Class) < 0 {
			return fmt.Errorf("burst %s: no class %q", b.Name, b.Class)
		}
	}
	for _, t := range c.Staff.Teams {
		if t.Hours <= 0 || t.Hours > 24 || len(t.Days) == 0 {
			return fmt.Errorf("team %s: needs hours (1-24) and days", t.Name)
		}
	}
	return nil
}

func (c *Config) class(name string) int {
	for i, cl := range c.Classes {
		if cl.Name == name {
			return i
		}
	}
	return -1
}
