package docket

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Regime is a legal framework that a request falls under: it fixes the clock, the elements a
// valid request must carry and how long things are kept. Regimes are data (see package
// regime), never code, so that operators can correct them.
type Regime struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	LegalBasis string `json:"legal_basis,omitempty"`
	// Clock is the time from authenticated receipt to the answer; zero means no deadline.
	Clock Duration `json:"clock,omitempty"`
	// EmergencyClock replaces Clock for requests flagged as emergencies, when set.
	EmergencyClock Duration `json:"emergency_clock,omitempty"`
	// DueSoon is how long before the deadline a case turns due-soon; default a fifth of the clock.
	DueSoon         Duration `json:"due_soon,omitempty"`
	PauseOnNeedInfo bool     `json:"pause_on_need_info,omitempty"`
	// Emergency marks regimes whose every request is an emergency (a threat to life).
	Emergency bool `json:"emergency,omitempty"`
	// Discloses marks regimes under which complying hands over user data (four-eyes).
	Discloses bool `json:"discloses,omitempty"`
	// Kinds lists the request kinds the regime allows; empty allows all.
	Kinds []Kind `json:"kinds,omitempty"`
	// Requires lists the request elements the regime requires (see RequestBody): reference,
	// description, legal_basis, reasons, redress, targets, notifier_name, notifier_email,
	// good_faith.
	Requires      []string `json:"requires,omitempty"`
	Queue         string   `json:"queue"`
	Priority      int      `json:"priority"`
	Hold          Duration `json:"hold,omitempty"`
	HoldExtension Duration `json:"hold_extension,omitempty"`
	Keep          Duration `json:"keep,omitempty"`
	// Note says where a figure comes from, and when it is an operator's default rather than law.
	Note string `json:"note,omitempty"`
}

// Deadlines returns when a request received at received must be answered, and when its case
// turns due-soon; both are zero when the regime sets no clock.
func (r *Regime) Deadlines(received time.Time, emergency bool) (deadline, dueSoon time.Time) {
	clock := r.Clock
	if emergency && r.EmergencyClock > 0 {
		clock = r.EmergencyClock
	}
	if clock <= 0 {
		return time.Time{}, time.Time{}
	}
	warn := r.DueSoon
	if warn <= 0 || warn >= clock {
		warn = clock / 5
	}
	deadline = received.Add(time.Duration(clock))
	return deadline, deadline.Add(-time.Duration(warn))
}

// AllowsKind reports whether the regime accepts requests of kind k.
func (r *Regime) AllowsKind(k Kind) bool {
	return len(r.Kinds) == 0 || slices.Contains(r.Kinds, k)
}

// Duration is a time.Duration written in JSON as "90d", "8h", "30m" or "1h30m".
type Duration time.Duration

// ParseDuration parses Go durations plus a days suffix ("10d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("parse duration %q: want a whole number of days", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("parse duration %q: %w", s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("parse duration %q: negative", s)
	}
	return Duration(d), nil
}

// String writes whole days as "Nd".
func (d Duration) String() string {
	td := time.Duration(d)
	if td > 0 && td%(24*time.Hour) == 0 {
		return strconv.Itoa(int(td/(24*time.Hour))) + "d"
	}
	return td.String()
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"10d\" or \"8h\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
