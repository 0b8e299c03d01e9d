package sor

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzValidate reads arbitrary bodies as the database would. It must never panic; a body
// and its decoded, re-encoded form must be judged alike (the trimming and null rules are
// applied once and for all); what it accepts must hold the required fields with values the
// database knows; the answer must encode as the database's errors object.
func FuzzValidate(f *testing.F) {
	ok, _ := json.Marshal(valid())
	f.Add(ok)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"decision_visibility":"DECISION_VISIBILITY_OTHER","content_type":["CONTENT_TYPE_OTHER"],"puid":12}`))
	f.Add([]byte(`{"decision_ground":" DECISION_GROUND_INCOMPATIBLE_CONTENT ","incompatible_content_illegal":null,"content_date":"2023-02-30"}`))
	f.Add([]byte(`{"content_id":{"EAN-13":"0123456789123"},"decision_monetary":"null","territorial_scope":{"a":"DE"}}`))
	f.Add([]byte(`{"statements":[{"puid":"a"},{"puid":"b"}]}`))
	f.Add([]byte(`{"puid":"\ud83d\ude00","decision_facts":"\u0000"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mode := range []Mode{Single, Batch} {
			errs := Validate(b, mode)
			if again := Validate(b, mode); !slices.EqualFunc(errs, again, func(a, b FieldErrors) bool {
				return a.Field == b.Field && slices.Equal(a.Messages, b.Messages)
			}) {
				t.Fatalf("mode %d: not deterministic: %v then %v", mode, errs, again)
			}
			re, err := json.Marshal(Decode(b))
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if got := Validate(re, mode); !slices.Equal(got.Fields(), errs.Fields()) {
				t.Fatalf("mode %d: %q refuses %v but its decoded form %s refuses %v", mode, b, errs.Fields(), re, got.Fields())
			}
			if (errs.Summary() == "The given data was invalid.") != (len(errs) == 0) {
				t.Fatalf("summary %q for %d fields", errs.Summary(), len(errs))
			}
			js, err := json.Marshal(errs)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string][]string
			if err := json.Unmarshal(js, &back); err != nil || len(back) != len(errs) {
				t.Fatalf("errors encode as %s (%v)", js, err)
			}
			if len(errs) > 0 {
				continue
			}
			in := Decode(b)
			for field, list := range map[string][]string{"decision_ground": DecisionGrounds, "category": Categories,
				"source_type": SourceTypes, "automated_decision": AutomatedDecisions, "automated_detection": YesNo} {
				if s, _ := in[field].(string); !slices.Contains(list, s) {
					t.Fatalf("accepted %s = %#v", field, in[field])
				}
			}
			if !filled(in["content_type"]) || !filled(in["puid"]) || !validDate(in["content_date"]) || !validDate(in["application_date"]) {
				t.Fatalf("accepted without content_type, puid or dates: %s", b)
			}
		}
		r := ValidateBatch(b)
		if !r.Refused() && len(r.Items) == 0 {
			t.Fatalf("a batch of nothing accepted: %s", b)
		}
	})
}
