// Package grounds holds the decision table: the grounds on which a request is refused,
// answered in part or found not actionable (refusals on principle among them), and the
// statement docket proposes for each decision in every language the triage recognises. The
// default table is embedded; an operator may replace it with a file of the same shape, like
// the regime table.
package grounds

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/docket-dev/docket"
)

//go:embed grounds.json
var defaultTable []byte

// Entry is one decision template: a ground (a reason code a refusal, partial answer or
// not-actionable decision may give) or a plain template (comply, need_info).
type Entry struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Outcomes []docket.Outcome `json:"outcomes"`
	// Ground says the entry is a reason code; Principled that it is a refusal on principle
	// (fundamental rights), which the reports count apart.
	Ground     bool `json:"ground,omitempty"`
	Principled bool `json:"principled,omitempty"`
	// System marks a ground only docket itself gives (a suspended notifier's notice closed
	// unreviewed): a person's decision may not give it.
	System bool `json:"system,omitempty"`
	// Text is the statement by language (ISO 639-1); "en" is required and stands in for a
	// language the entry lacks.
	Text map[string]string `json:"text"`
}

// Statement returns the entry's statement in lang, or in English.
func (e *Entry) Statement(lang string) string {
	if s, ok := e.Text[lang]; ok {
		return s
	}
	return e.Text["en"]
}

// Allows reports whether the entry may be given for outcome o.
func (e *Entry) Allows(o docket.Outcome) bool { return slices.Contains(e.Outcomes, o) }

// Table is a validated decision table.
type Table struct {
	entries []*Entry
	byID    map[string]*Entry
}

// DefaultTable returns the embedded table.
func DefaultTable() *Table {
	t, err := Parse(defaultTable)
	if err != nil {
		panic("grounds: embedded table is invalid: " + err.Error())
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
		return nil, fmt.Errorf("load decision grounds: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load decision grounds from %s: %w", path, err)
	}
	return t, nil
}

// Parse reads and validates a table. Unknown fields are errors.
func Parse(b []byte) (*Table, error) {
	var doc struct {
		Decisions []*Entry `json:"decisions"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse decision grounds: %w", err)
	}
	t := &Table{byID: map[string]*Entry{}}
	for i, e := range doc.Decisions {
		switch {
		case e.ID == "" || len(e.ID) > 64:
			return nil, fmt.Errorf("decision #%d: an id of 1 to 64 characters is required", i+1)
		case t.byID[e.ID] != nil:
			return nil, fmt.Errorf("decision %s: defined twice", e.ID)
		case e.Name == "":
			return nil, fmt.Errorf("decision %s: missing name", e.ID)
		case len(e.Outcomes) == 0:
			return nil, fmt.Errorf("decision %s: no outcomes", e.ID)
		case e.Text["en"] == "":
			return nil, fmt.Errorf("decision %s: no English statement", e.ID)
		case e.Principled && !e.Ground:
			return nil, fmt.Errorf("decision %s: a refusal on principle must be a ground", e.ID)
		}
		for _, o := range e.Outcomes {
			if !o.Valid() {
				return nil, fmt.Errorf("decision %s: unknown outcome %q", e.ID, o)
			}
			if e.Ground && (o == docket.OutcomeComply || o == docket.OutcomeNeedInfo) {
				return nil, fmt.Errorf("decision %s: a ground is for refuse, partial or not_actionable, not %s", e.ID, o)
			}
		}
		t.byID[e.ID] = e
		t.entries = append(t.entries, e)
	}
	return t, nil
}

// Get returns the entry of an id.
func (t *Table) Get(id string) (*Entry, bool) {
	e, ok := t.byID[id]
	return e, ok
}

// Entries returns every entry in the table's order.
func (t *Table) Entries() []*Entry { return t.entries }

// Grounds returns the ids of the grounds a person may give, in the table's order.
func (t *Table) Grounds() []string {
	var ids []string
	for _, e := range t.entries {
		if e.Ground && !e.System {
			ids = append(ids, e.ID)
		}
	}
	return ids
}
