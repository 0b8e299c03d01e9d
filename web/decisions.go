package web

import "github.com/docket-dev/docket/grounds"

// decisionTemplate is a ready statement for a decision, in the case's language, from the
// decision table (grounds.json, replaceable by the operator): Reason is the ground it gives
// (empty for comply and need_info).
type decisionTemplate struct {
	ID, Name, Reason, Text string
	Principled             bool
}

// templatesFor returns the decision table's statements in lang (English where an entry
// lacks it).
func templatesFor(t *grounds.Table, lang string) []decisionTemplate {
	var out []decisionTemplate
	for _, e := range t.Entries() {
		d := decisionTemplate{ID: e.ID, Name: e.Name, Text: e.Statement(lang), Principled: e.Principled}
		if e.System {
			continue // docket's own, never a person's
		}
		if e.Ground {
			d.Reason = e.ID
		}
		out = append(out, d)
	}
	return out
}
