package sor

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

// valid is a statement the database accepts: every required field, illegal content.
func valid() map[string]any {
	return map[string]any{
		"decision_visibility":          []any{"DECISION_VISIBILITY_CONTENT_REMOVED"},
		"decision_ground":              "DECISION_GROUND_ILLEGAL_CONTENT",
		"illegal_content_legal_ground": "Regulation (EU) 2021/784, art. 3",
		"illegal_content_explanation":  "Terrorist content.",
		"content_type":                 []any{"CONTENT_TYPE_TEXT"},
		"category":                     "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
		"territorial_scope":            []any{"DE", "FR"},
		"content_date":                 "2026-11-20",
		"application_date":             "2026-11-22",
		"decision_facts":               "Removal order TCO-1.",
		"source_type":                  "SOURCE_TYPE_OTHER_NOTIFICATION",
		"automated_detection":          "No",
		"automated_decision":           "AUTOMATED_DECISION_NOT_AUTOMATED",
		"puid":                         "docket-0199-1",
	}
}

func body(t testing.TB, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestValidateRules: one case per rule of the database (StatementStoreRequest), each a
// change to an accepted statement and the fields the database then refuses (none: accepted).
func TestValidateRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
	set := func(kv ...any) func(map[string]any) {
		return func(m map[string]any) {
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
		}
	}
	del := func(keys ...string) func(map[string]any) {
		return func(m map[string]any) {
			for _, k := range keys {
				delete(m, k)
			}
		}
	}
	both := func(fs ...func(map[string]any)) func(map[string]any) {
		return func(m map[string]any) {
			for _, f := range fs {
				f(m)
			}
		}
	}
	incompatible := both(del("illegal_content_legal_ground", "illegal_content_explanation"),
		set("decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT", "incompatible_content_ground", "Terms, section 4",
			"incompatible_content_explanation", "Spam."))
	tests := []struct {
		name   string
		change func(map[string]any)
		want   []string // fields refused
	}{
		{"accepted as is", func(map[string]any) {}, nil},
		// Required fields.
		{"decision_ground required", del("decision_ground"), []string{"decision_ground"}},
		{"content_type required", del("content_type"), []string{"content_type"}},
		{"content_type not empty", set("content_type", []any{}), []string{"content_type"}},
		{"category required", del("category"), []string{"category"}},
		{"content_date required", del("content_date"), []string{"content_date"}},
		{"application_date required", del("application_date"), []string{"application_date"}},
		{"decision_facts required", del("decision_facts"), []string{"decision_facts"}},
		{"decision_facts not blank", set("decision_facts", "   \n"), []string{"decision_facts"}},
		{"source_type required", del("source_type"), []string{"source_type"}},
		{"automated_detection required", del("automated_detection"), []string{"automated_detection"}},
		{"automated_decision required", del("automated_decision"), []string{"automated_decision"}},
		{"puid required", del("puid"), []string{"puid"}},
		{"puid not blank", set("puid", "  "), []string{"puid"}},
		{"decision_facts null", set("decision_facts", nil), []string{"decision_facts"}},
		// One restriction at least.
		{"a restriction is required", del("decision_visibility"),
			[]string{"decision_visibility", "decision_monetary", "decision_provision", "decision_account"}},
		{"an empty visibility is none", set("decision_visibility", []any{}),
			[]string{"decision_visibility", "decision_monetary", "decision_provision", "decision_account"}},
		{"account alone suffices", both(del("decision_visibility"), set("decision_account", "DECISION_ACCOUNT_SUSPENDED")), nil},
		{"monetary alone suffices", both(del("decision_visibility"), set("decision_monetary", "DECISION_MONETARY_SUSPENSION")), nil},
		{"provision alone suffices", both(del("decision_visibility"), set("decision_provision", "DECISION_PROVISION_TOTAL_SUSPENSION")), nil},
		{"all four together", set("decision_monetary", "DECISION_MONETARY_TERMINATION", "decision_provision", "DECISION_PROVISION_PARTIAL_TERMINATION",
			"decision_account", "DECISION_ACCOUNT_TERMINATED"), nil},
		{"the database's 'null' quirk counts as given", both(del("decision_visibility"), set("decision_monetary", "null")), nil},
		// Enumerations.
		{"decision_visibility values", set("decision_visibility", []any{"DECISION_VISIBILITY_CONTENT_REMOVED", "REMOVED"}), []string{"decision_visibility"}},
		{"decision_visibility is an array", set("decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED"), []string{"decision_visibility"}},
		{"decision_monetary value", set("decision_monetary", "DECISION_MONETARY_FINE"), []string{"decision_monetary"}},
		{"decision_provision value", set("decision_provision", "DECISION_PROVISION_SOME"), []string{"decision_provision"}},
		{"decision_account value", set("decision_account", "DECISION_ACCOUNT_BANNED"), []string{"decision_account"}},
		{"account_type value", set("account_type", "ACCOUNT_TYPE_PUBLIC"), []string{"account_type"}},
		{"account_type business", set("account_type", "ACCOUNT_TYPE_BUSINESS"), nil},
		{"decision_ground value", set("decision_ground", "DECISION_GROUND_OTHER"), []string{"decision_ground"}},
		{"content_type values", set("content_type", []any{"CONTENT_TYPE_TEXT", "CONTENT_TYPE_MEME"}), []string{"content_type"}},
		{"content_type is an array", set("content_type", "CONTENT_TYPE_TEXT"), []string{"content_type"}},
		{"category value", set("category", "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"), []string{"category"}},
		{"category_addition values", set("category_addition", []any{"STATEMENT_CATEGORY_VIOLENCE", "X"}), []string{"category_addition"}},
		{"category_addition not null", set("category_addition", nil), []string{"category_addition"}},
		{"category_specification values", set("category_specification", []any{"KEYWORD_TERRORIST_CONTENT", "KEYWORD_ONLINE_BULLYING_INTIMIDATION"}), []string{"category_specification"}},
		{"category_specification keywords", set("category_specification", []any{"KEYWORD_TERRORIST_CONTENT", "KEYWORD_HATE_SPEECH"}), nil},
		{"source_type value", set("source_type", "SOURCE_POLICE"), []string{"source_type"}},
		{"source_type article 16", set("source_type", "SOURCE_ARTICLE_16"), nil},
		{"automated_detection is Yes or No", set("automated_detection", "yes"), []string{"automated_detection"}},
		{"automated_detection is no boolean", set("automated_detection", false), []string{"automated_detection"}},
		{"automated_decision value", set("automated_decision", "AUTOMATED_DECISION_NONE"), []string{"automated_decision"}},
		{"automated_decision fully", set("automated_decision", "AUTOMATED_DECISION_FULLY"), nil},
		{"territorial_scope EEA codes", set("territorial_scope", []any{"DE", "CH"}), []string{"territorial_scope"}},
		{"territorial_scope upper case", set("territorial_scope", []any{"de"}), []string{"territorial_scope"}},
		{"territorial_scope Greece is GR", set("territorial_scope", []any{"EL"}), []string{"territorial_scope"}},
		{"territorial_scope Norway", set("territorial_scope", []any{"NO", "IS", "LI", "GR"}), nil},
		{"territorial_scope may be null", set("territorial_scope", nil), nil},
		{"territorial_scope may be absent", del("territorial_scope"), nil},
		{"content_language ISO 639-1", set("content_language", "FR"), nil},
		{"content_language upper case", set("content_language", "fr"), []string{"content_language"}},
		{"content_language known", set("content_language", "XX"), []string{"content_language"}},
		// The ground and its texts.
		{"illegal: legal ground required", del("illegal_content_legal_ground"), []string{"illegal_content_legal_ground"}},
		{"illegal: explanation required", del("illegal_content_explanation"), []string{"illegal_content_explanation"}},
		{"illegal: legal ground ≤ 500", set("illegal_content_legal_ground", long(501)), []string{"illegal_content_legal_ground"}},
		{"illegal: legal ground 500", set("illegal_content_legal_ground", long(500)), nil},
		{"illegal: explanation ≤ 2000", set("illegal_content_explanation", long(2001)), []string{"illegal_content_explanation"}},
		{"illegal: incompatible texts are ignored", set("incompatible_content_ground", long(600), "incompatible_content_illegal", "Yes"), nil},
		// The database checks the value before it drops the unused field.
		{"illegal: incompatible_content_illegal still Yes or No", set("incompatible_content_illegal", "Maybe"), []string{"incompatible_content_illegal"}},
		{"incompatible: accepted", incompatible, nil},
		{"incompatible: ground required", both(incompatible, del("incompatible_content_ground")), []string{"incompatible_content_ground"}},
		{"incompatible: explanation required", both(incompatible, del("incompatible_content_explanation")), []string{"incompatible_content_explanation"}},
		{"incompatible: ground ≤ 500", both(incompatible, set("incompatible_content_ground", long(501))), []string{"incompatible_content_ground"}},
		{"incompatible: explanation ≤ 2000", both(incompatible, set("incompatible_content_explanation", long(2001))), []string{"incompatible_content_explanation"}},
		{"incompatible: illegal Yes or No", both(incompatible, set("incompatible_content_illegal", "Maybe")), []string{"incompatible_content_illegal"}},
		{"incompatible: illegal not null", both(incompatible, set("incompatible_content_illegal", nil)), []string{"incompatible_content_illegal"}},
		{"incompatible: illegal Yes", both(incompatible, set("incompatible_content_illegal", "Yes")), nil},
		{"incompatible: illegal texts are ignored", both(incompatible, set("illegal_content_legal_ground", long(900))), nil},
		// _other texts.
		{"visibility other needs its text", set("decision_visibility", []any{"DECISION_VISIBILITY_OTHER"}), []string{"decision_visibility_other"}},
		{"visibility other with its text", set("decision_visibility", []any{"DECISION_VISIBILITY_OTHER"}, "decision_visibility_other", "Shadow-banned."), nil},
		{"visibility other ≤ 500", set("decision_visibility", []any{"DECISION_VISIBILITY_OTHER"}, "decision_visibility_other", long(501)), []string{"decision_visibility_other"}},
		// The database checks the length before it drops the unused text.
		{"visibility other ≤ 500 even unused", set("decision_visibility_other", long(501)), []string{"decision_visibility_other"}},
		{"visibility other unused", set("decision_visibility_other", "ignored"), nil},
		{"monetary other needs its text", set("decision_monetary", "DECISION_MONETARY_OTHER"), []string{"decision_monetary_other"}},
		{"monetary other with its text", set("decision_monetary", "DECISION_MONETARY_OTHER", "decision_monetary_other", "Ads off."), nil},
		{"monetary other unused is ignored", set("decision_monetary_other", long(600)), nil},
		{"content type other needs its text", set("content_type", []any{"CONTENT_TYPE_OTHER"}), []string{"content_type_other"}},
		{"content type other with its text", set("content_type", []any{"CONTENT_TYPE_OTHER"}, "content_type_other", "Channel"), nil},
		{"keyword other ≤ 500", set("category_specification_other", long(501)), []string{"category_specification_other"}},
		{"source identity ≤ 500", set("source_identity", long(501)), []string{"source_identity"}},
		// Dates.
		{"date with leading zeros", set("content_date", "2026-1-5"), []string{"content_date"}},
		{"date that does not exist", set("content_date", "2026-02-30"), []string{"content_date"}},
		{"date without time", set("application_date", "2026-11-22T10:00:00Z"), []string{"application_date"}},
		{"content date from 2000", set("content_date", "2000-01-01"), nil},
		{"content date before 2000", set("content_date", "1999-12-31"), []string{"content_date"}},
		{"application date from 2020", set("application_date", "2020-01-01"), nil},
		{"application date before 2020", set("application_date", "2019-12-31"), []string{"application_date"}},
		{"application date up to 2038", set("application_date", "2038-01-01"), nil},
		{"application date after 2038", set("application_date", "2038-01-02"), []string{"application_date"}},
		{"end date format", set("end_date_visibility_restriction", "31/12/2026"), []string{"end_date_visibility_restriction"}},
		{"end date up to 2038", set("end_date_account_restriction", "2040-01-01"), []string{"end_date_account_restriction"}},
		{"end date may be null", set("end_date_service_restriction", nil, "end_date_monetary_restriction", "2027-01-01"), nil},
		// Lengths and the puid.
		{"decision_facts 5000 characters", set("decision_facts", long(5000)), nil},
		{"decision_facts ≤ 5000", set("decision_facts", long(5001)), []string{"decision_facts"}},
		{"puid 500", set("puid", strings.Repeat("a", 500)), nil},
		{"puid ≤ 500", set("puid", strings.Repeat("a", 501)), []string{"puid"}},
		{"puid letters digits - _", set("puid", "Ab-9_z"), nil},
		{"puid no space", set("puid", "docket 1"), []string{"puid"}},
		{"puid no dot", set("puid", "docket.1"), []string{"puid"}},
		{"puid no newline inside", set("puid", "a\nb"), []string{"puid"}},
		{"puid trimmed", set("puid", " docket-1\n"), nil},
		{"puid a number", set("puid", json.Number("12345")), nil},
		{"puid not a fraction", set("puid", json.Number("1.5")), []string{"puid"}},
		{"puid not a boolean", set("puid", true), []string{"puid"}},
		{"puid not unicode letters", set("puid", "dócket"), []string{"puid"}},
		// Content identifiers.
		{"EAN-13", set("content_id", map[string]any{"EAN-13": "0123456789123"}), nil},
		{"EAN-13 digits", set("content_id", map[string]any{"EAN-13": "012345678912"}), []string{"content_id.EAN-13"}},
		{"content_id an array", set("content_id", "0123456789123"), []string{"content_id"}},
		{"reference url", set("decision_ground_reference_url", "https://example.com/terms#4"), nil},
		{"reference url is a url", set("decision_ground_reference_url", "terms section 4"), []string{"decision_ground_reference_url"}},
		// Fields the database does not know are ignored.
		{"unknown fields ignored", set("redress", "Complain.", "case_id", 7), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			tt.change(m)
			errs := Validate(body(t, m), Single)
			if got := errs.Fields(); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("refused %v, want %v: %v", got, tt.want, errs)
			}
		})
	}
}

// TestValidateMessages: the database's own words, and the summary of its 422 answer (the
// example of its API documentation: an empty body).
func TestValidateMessages(t *testing.T) {
	errs := Validate([]byte(`{}`), Single)
	want := "The decision visibility field is required when none of decision monetary / decision provision / decision account are present. (and 13 more errors)"
	if errs.Summary() != want {
		t.Errorf("summary %q, want %q", errs.Summary(), want)
	}
	b, _ := json.Marshal(errs)
	if !strings.HasPrefix(string(b), `{"decision_visibility":["The decision visibility field is required when none of`) ||
		!strings.Contains(string(b), `"puid":["The puid field is required."]`) {
		t.Errorf("errors as JSON: %s", b)
	}
	m := valid()
	m["automated_decision"] = "maybe"
	m["content_date"] = "2026-1-1"
	m["decision_monetary"] = "DECISION_MONETARY_OTHER"
	errs = Validate(body(t, m), Single)
	got := map[string][]string{}
	for _, f := range errs {
		got[f.Field] = f.Messages
	}
	for field, msg := range map[string]string{
		"automated_decision":      "The selected automated decision is invalid.",
		"content_date":            "The content date does not match the format YYYY-MM-DD.",
		"decision_monetary_other": "The decision monetary other field is required when decision monetary is other.",
	} {
		if !slices.Contains(got[field], msg) {
			t.Errorf("%s: %q, want %q", field, got[field], msg)
		}
	}
	if n := len(slices.Collect(maps.Keys(got))); n != 3 {
		t.Errorf("refused %v", errs.Fields())
	}
}

// TestValidateBodies: what is not a JSON object reads as an empty input, as PHP's
// json_decode makes it.
func TestValidateBodies(t *testing.T) {
	full := len(Validate([]byte(`{}`), Single))
	for _, b := range []string{``, `null`, `[1,2]`, `"x"`, `{"puid":"a"`, `{"puid":"a"} {}`, "{\"puid\":\"\xff\"}", `{"puid":"\udc00"}`, `{"puid":"\ud800x"}`} {
		if n := len(Validate([]byte(b), Single)); n != full {
			t.Errorf("%q: %d fields refused, want %d", b, n, full)
		}
	}
	m := valid()
	m["puid"] = `x\ud83d\ude00y` // a pair is one character, and not a letter
	b := strings.Replace(string(body(t, m)), `x\\ud83d\\ude00y`, `x\ud83d\ude00y`, 1)
	if errs := Validate([]byte(b), Single); !slices.Equal(errs.Fields(), []string{"puid"}) {
		t.Errorf("surrogate pair: %v", errs)
	}
}

// TestValidateModes: the two endpoints differ where a string stands for an array.
func TestValidateModes(t *testing.T) {
	m := valid()
	m["decision_visibility"] = "DECISION_VISIBILITY_OTHER"
	if got := Validate(body(t, m), Single).Fields(); !slices.Equal(got, []string{"decision_visibility", "decision_visibility_other"}) {
		t.Errorf("single: %v", got)
	}
	if got := Validate(body(t, m), Batch).Fields(); !slices.Equal(got, []string{"decision_visibility"}) {
		t.Errorf("batch: %v", got)
	}
}

func TestValidateBatch(t *testing.T) {
	one := valid()
	bad := valid()
	delete(bad, "puid")
	tests := []struct {
		name    string
		body    any
		top     bool
		broken  bool
		refused []string // keys of refused statements
	}{
		{"no statements", map[string]any{}, true, false, nil},
		{"empty", map[string]any{"statements": []any{}}, true, false, nil},
		{"not an array", map[string]any{"statements": "x"}, true, false, nil},
		{"101", map[string]any{"statements": slices.Repeat([]any{one}, 101)}, true, false, nil},
		{"100", map[string]any{"statements": slices.Repeat([]any{one}, 100)}, false, false, nil},
		{"one refused", map[string]any{"statements": []any{one, bad, one}}, false, false, []string{"1"}},
		{"a scalar", map[string]any{"statements": []any{one, "x"}}, false, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(tt.body)
			r := ValidateBatch(b)
			if (len(r.Top) > 0) != tt.top || r.Broken != tt.broken {
				t.Fatalf("top %v broken %v", r.Top, r.Broken)
			}
			var refused []string
			for _, it := range r.Items {
				if len(it.Errors) > 0 {
					refused = append(refused, it.Key)
				}
			}
			if !slices.Equal(refused, tt.refused) {
				t.Errorf("refused %v, want %v", refused, tt.refused)
			}
			if r.Refused() != (tt.top || tt.broken || len(tt.refused) > 0) {
				t.Errorf("Refused() = %v", r.Refused())
			}
		})
	}
}

func TestPHPNumber(t *testing.T) {
	for in, want := range map[string]string{"12": "12", "-5": "-5", "1.0": "1", "1.5": "1.5", "1e2": "100", "1e25": "1.0E+25",
		"1e-7": "1.0E-7", "99999999999999999999": "1.0E+20", "0.1": "0.1"} {
		if got := phpNumber(json.Number(in)); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}
