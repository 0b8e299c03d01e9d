package grounds_test

import (
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/grounds"
)

// The languages the triage recognises: every entry of the embedded table speaks each.
var languages = strings.Fields("ar de el en es fa fr hi id it ja ko nl pl pt ro ru sv tr uk vi zh")

func TestEmbeddedTableSpeaksEveryLanguage(t *testing.T) {
	tb := grounds.DefaultTable()
	if len(tb.Grounds()) < 8 {
		t.Fatalf("%d grounds, want the table's (no legal basis, no jurisdiction, overbroad, …)", len(tb.Grounds()))
	}
	principled := 0
	for _, e := range tb.Entries() {
		for _, l := range languages {
			if strings.TrimSpace(e.Text[l]) == "" {
				t.Errorf("%s: no statement in %s", e.ID, l)
			}
		}
		if e.Principled {
			principled++
		}
	}
	if principled == 0 {
		t.Error("no refusal on principle in the table")
	}
	for _, id := range []string{"comply", "need_info", "no_legal_basis", "fundamental_rights", "spam", "not_actionable"} {
		if _, ok := tb.Get(id); !ok {
			t.Errorf("%s missing", id)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{"unknown field", `{"decisions":[{"id":"x","name":"X","outcomes":["refuse"],"text":{"en":"x"},"colour":"red"}]}`, "unknown field"},
		{"no English", `{"decisions":[{"id":"x","name":"X","outcomes":["refuse"],"ground":true,"text":{"fr":"x"}}]}`, "no English"},
		{"twice", `{"decisions":[{"id":"x","name":"X","outcomes":["refuse"],"text":{"en":"x"}},{"id":"x","name":"X","outcomes":["refuse"],"text":{"en":"x"}}]}`, "twice"},
		{"bad outcome", `{"decisions":[{"id":"x","name":"X","outcomes":["maybe"],"text":{"en":"x"}}]}`, "unknown outcome"},
		{"ground for comply", `{"decisions":[{"id":"x","name":"X","outcomes":["comply"],"ground":true,"text":{"en":"x"}}]}`, "a ground is for"},
		{"principle not a ground", `{"decisions":[{"id":"x","name":"X","outcomes":["refuse"],"principled":true,"text":{"en":"x"}}]}`, "must be a ground"},
	} {
		if _, err := grounds.Parse([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestStatementFallsBackToEnglish(t *testing.T) {
	tb, err := grounds.Parse([]byte(`{"decisions":[{"id":"x","name":"X","outcomes":["refuse"],"ground":true,"text":{"en":"No.","fr":"Non."}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := tb.Get("x")
	if e.Statement("fr") != "Non." || e.Statement("ja") != "No." || !e.Allows(docket.OutcomeRefuse) || e.Allows(docket.OutcomePartial) {
		t.Errorf("statement fr %q ja %q", e.Statement("fr"), e.Statement("ja"))
	}
}
