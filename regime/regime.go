// Package regime loads the table of legal regimes (clocks, required elements, retention) that
// deadlines are computed from. The default table is embedded; an operator may replace it with
// a file of the same shape, so that the figures stay data that can be corrected and versioned.
package regime

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/docket-dev/docket"
)

//go:embed regimes.json
var defaultTable []byte

// Default is the id used when a request leaves the regime to triage, Emergency when such a
// request is flagged as an emergency.
const (
	Default   = "national-other"
	Emergency = "emergency"
)

// Table is a validated set of regimes.
type Table struct {
	byID   map[string]*docket.Regime
	ids    []string
	appeal docket.Regime
}

// DefaultAppealClock is the appeal clock of a table that sets none: DSA art. 20(4) asks for
// decisions "in a timely manner" and names no figure; 14 days is docket's default.
const DefaultAppealClock = docket.Duration(14 * 24 * time.Hour)

// Appeal returns the clock of complaints against the platform's decisions (DSA art. 20): the
// table's "appeal" entry, whose clock and due-soon warning apply to every appeal from its
// receipt.
func (t *Table) Appeal() *docket.Regime {
	a := t.appeal
	return &a
}

// DefaultTable returns the embedded table.
func DefaultTable() *Table {
	t, err := Parse(defaultTable)
	if err != nil {
		panic("regime: embedded table is invalid: " + err.Error())
	}
	return t
}

// Load reads a table from path, or returns the embedded one when path is empty.
func Load(path string) (*Table, error) {
	if path == "" {
		return DefaultTable(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load regimes: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load regimes from %s: %w", path, err)
	}
	return t, nil
}

var knownElements = []string{"reference", "description", "legal_basis", "reasons", "redress", "targets", "notifier_name", "notifier_email", "good_faith"}

// Parse reads and validates a table. Unknown fields are errors, so that a typo in an
// operator's file does not silently drop a clock.
func Parse(b []byte) (*Table, error) {
	var doc struct {
		Regimes []*docket.Regime `json:"regimes"`
		// Appeal is the clock of complaints (DSA art. 20), not a regime of requests.
		Appeal *docket.Regime `json:"appeal"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse regimes: %w", err)
	}
	t := &Table{byID: map[string]*docket.Regime{}}
	t.appeal = docket.Regime{ID: "appeal", Name: "Complaint against a decision (DSA art. 20)", Queue: "appeals", Clock: DefaultAppealClock}
	if doc.Appeal != nil {
		if doc.Appeal.Clock <= 0 {
			return nil, fmt.Errorf("regimes: appeal: a clock is required (DSA art. 20(4): decided in a timely manner)")
		}
		t.appeal = *doc.Appeal
		t.appeal.ID = "appeal"
		t.appeal.Queue = cmp.Or(t.appeal.Queue, "appeals")
	}
	for i, r := range doc.Regimes {
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("regime #%d: missing id", i+1)
		case t.byID[r.ID] != nil:
			return nil, fmt.Errorf("regime %s: defined twice", r.ID)
		case r.Queue == "":
			return nil, fmt.Errorf("regime %s: missing queue", r.ID)
		}
		for _, k := range r.Kinds {
			if !k.Valid() {
				return nil, fmt.Errorf("regime %s: unknown kind %q", r.ID, k)
			}
		}
		for _, e := range r.Requires {
			if !slices.Contains(knownElements, e) {
				return nil, fmt.Errorf("regime %s: unknown required element %q (known: %v)", r.ID, e, knownElements)
			}
		}
		t.byID[r.ID] = r
		t.ids = append(t.ids, r.ID)
	}
	for _, id := range []string{Default, Emergency, "dsa-art16"} {
		if t.byID[id] == nil {
			return nil, fmt.Errorf("regimes: the table must define %q", id)
		}
	}
	return t, nil
}

// Lookup returns the regime with the given id.
func (t *Table) Lookup(id string) (*docket.Regime, bool) {
	r, ok := t.byID[id]
	return r, ok
}

// IDs lists the regime ids in table order.
func (t *Table) IDs() []string { return slices.Clone(t.ids) }

// All returns the regimes in table order.
func (t *Table) All() []*docket.Regime {
	out := make([]*docket.Regime, 0, len(t.ids))
	for _, id := range t.ids {
		out = append(out, t.byID[id])
	}
	return out
}
