package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/regime"
)

// FuzzPortalForm: any text typed into the request form is either accepted by the same
// checks as the API or refused with an error; it never panics.
func FuzzPortalForm(f *testing.F) {
	f.Add("fr-requisition", "disclosure", "PJ-1", "desc", "username: @x\nhttps://x.example/1\n+33 6 12 34 56 78\n10.0.0.1", "Art. 60-1")
	f.Add("", "", "", "", "\x00:\xff", "")
	table := regime.DefaultTable()
	f.Fuzz(func(t *testing.T, reg, kind, ref, desc, targets, basis string) {
		ts := parseTargets(targets)
		for _, tg := range ts {
			if tg.Kind == "" || strings.TrimSpace(tg.Value) != tg.Value {
				t.Fatalf("target %+v from %q", tg, targets)
			}
		}
		in := intake.Input{Regime: reg, Kind: docket.Kind(kind), Reference: ref, Description: desc, LegalBasis: basis, Targets: ts}
		raw, err := json.Marshal(in)
		if err != nil {
			return
		}
		intake.ParseRequest(raw, table)
	})
}
