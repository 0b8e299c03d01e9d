package rules_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/docket-dev/docket/rules"
)

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	s := rules.Default()
	tests := []struct {
		name     string
		f        rules.Facts
		queue    string
		priority int
		actions  []string
	}{
		{"emergency", rules.Facts{Triage: rules.TriageFacts{Emergency: true, Category: "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"}}, "emergency", 100, nil},
		{"requester's emergency", rules.Facts{Request: rules.RequestFacts{Emergency: true}}, "emergency", 100, nil},
		{"terrorism", rules.Facts{Request: rules.RequestFacts{Regime: "eu-tco-removal"}}, "terrorism", 90, nil},
		{"child safety", rules.Facts{Triage: rules.TriageFacts{Category: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"}}, "child-safety", 95, nil},
		{"notice", rules.Facts{Request: rules.RequestFacts{Channel: "notice"}}, "", 0, []string{"acknowledge"}},
		{"known child-abuse picture", rules.Facts{Matches: []rules.MatchFacts{{Bank: "ncmec", Kind: "pdq", Distance: 8, DSACategory: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"}}}, "child-safety", 95, nil},
		{"known terrorist video", rules.Facts{Matches: []rules.MatchFacts{{Bank: "tcap", Kind: "md5", DSACategory: "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"}}}, "terrorism", 90, nil},
		{"known media of another kind", rules.Facts{Matches: []rules.MatchFacts{{Bank: "removed", Kind: "sha256", DSACategory: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}}}, "", 85, nil},
		{"public spam", rules.Facts{Request: rules.RequestFacts{Channel: "notice"}, Triage: rules.TriageFacts{Spam: true}}, "", 0, []string{"close_not_actionable"}},
		{"spam from a registered authority is not closed", rules.Facts{Request: rules.RequestFacts{Authority: "a1"}, Triage: rules.TriageFacts{Spam: true}}, "", 0, nil},
		{"spam naming targets is not closed", rules.Facts{Triage: rules.TriageFacts{Spam: true, Targets: []map[string]string{{"kind": "url", "value": "x"}}}}, "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := s.Evaluate(tt.f)
			var actions []string
			for _, a := range o.Actions {
				actions = append(actions, a.Action)
			}
			if o.Queue != tt.queue || o.Priority != tt.priority || !slices.Equal(actions, tt.actions) || len(o.Errors) > 0 {
				t.Errorf("got queue %q priority %d actions %v errors %v; want %q %d %v", o.Queue, o.Priority, actions, o.Errors, tt.queue, tt.priority, tt.actions)
			}
		})
	}
}

func TestCompileErrorsNameTheRule(t *testing.T) {
	t.Parallel()
	tests := []struct{ doc, want string }{
		{`{"rules":[{"name":"typo","when":"triage.emergncy"}]}`, "rule typo: ERROR: <input>:1:7: undeclared reference"},
		{`{"rules":[{"name":"not-bool","when":"triage.priority + 1"}]}`, "rule not-bool: the expression gives int"},
		{`{"rules":[{"name":"types","when":"triage.priority == 'high'"}]}`, "rule types: ERROR: <input>:1:17: found no matching overload"},
		{`{"rules":[{"name":"syntax","when":"triage.spam &&"}]}`, "rule syntax: ERROR: <input>:1:"},
		{`{"rules":[{"name":"x","when":"true","action":"delete"}]}`, "unknown action"},
		{`{"rules":[{"name":"x","when":"true","action":"close_not_actionable"}]}`, "needs a reason"},
		{`{"rules":[{"name":"x","when":"true","colour":"red"}]}`, "unknown field"},
	}
	for _, tt := range tests {
		_, err := rules.Parse([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want %q", tt.doc, err, tt.want)
		}
	}
}

func TestShadowRulesChangeNothing(t *testing.T) {
	t.Parallel()
	s, err := rules.Parse([]byte(`{"rules":[
		{"name":"try-closing-abuse","when":"triage.label == 'abuse'","action":"close_not_actionable","reason":"abuse","queue":"trash","shadow":true},
		{"name":"french","when":"triage.language == 'fr'","queue":"fr"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	o := s.Evaluate(rules.Facts{Triage: rules.TriageFacts{Label: "abuse", Language: "fr"}})
	if o.Queue != "fr" || len(o.Actions) != 0 || !slices.Equal(o.Shadow, []string{"try-closing-abuse"}) || !slices.Equal(o.Matched, []string{"french"}) {
		t.Fatalf("outcome %+v", o)
	}
}

// TestMatchRules: a rule over hash-bank matches compiles, holds for a near match of its
// bank and for no other, sees each match of a case in turn, and match.distance <= N alone
// does not hold without a match.
func TestMatchRules(t *testing.T) {
	t.Parallel()
	s, err := rules.Parse([]byte(`{"rules":[
		{"name":"csam-match","when":"match.bank == \"csam\" && match.distance <= 31","queue":"csam","priority_at_least":99},
		{"name":"any-near-match","when":"match.distance <= 10","priority_at_least":80},
		{"name":"exact","when":"match.found && match.kind != 'pdq' && match.quality >= 0 && match.hash != '' && match.action == 'remove' && match.category == 'terror' && match.dsa_category.startsWith('STATEMENT_CATEGORY_')","queue":"exact"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	near := rules.MatchFacts{Bank: "csam", Kind: "pdq", Hash: "ab", Distance: 12, Quality: 90}
	far := rules.MatchFacts{Bank: "csam", Kind: "pdq", Distance: 40}
	other := rules.MatchFacts{Bank: "removed-before", Kind: "pdq", Distance: 3}
	exact := rules.MatchFacts{Bank: "tve", Kind: "sha256", Hash: "cd", Action: "remove", Category: "terror", DSACategory: "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"}
	tests := []struct {
		name     string
		matches  []rules.MatchFacts
		queue    string
		priority int
		matched  []string
	}{
		{"no match", nil, "", 0, nil},
		{"near match of the bank", []rules.MatchFacts{near}, "csam", 99, []string{"csam-match"}},
		{"too far", []rules.MatchFacts{far}, "", 0, nil},
		{"another bank", []rules.MatchFacts{other}, "", 80, []string{"any-near-match"}},
		{"one of several", []rules.MatchFacts{far, other, near}, "csam", 99, []string{"csam-match", "any-near-match"}},
		{"exact digest", []rules.MatchFacts{exact}, "exact", 80, []string{"any-near-match", "exact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := s.Evaluate(rules.Facts{Matches: tt.matches})
			if o.Queue != tt.queue || o.Priority != tt.priority || !slices.Equal(o.Matched, tt.matched) || len(o.Errors) > 0 {
				t.Errorf("got queue %q priority %d rules %v errors %v; want %q %d %v", o.Queue, o.Priority, o.Matched, o.Errors, tt.queue, tt.priority, tt.matched)
			}
			if tt.queue != "" && o.QueueRule == "" {
				t.Errorf("no QueueRule for queue %q", o.Queue)
			}
		})
	}
}

// TestAutomatedActionRules: an automated action (remove, restrict, suspend) acts on known
// media only, says its grounds, and keeps its shares between 0 and 1; ForceShadow stops a
// rule's actions without touching the others.
func TestAutomatedActionRules(t *testing.T) {
	const ok = `"ground":"DECISION_GROUND_ILLEGAL_CONTENT","legal_ground":"law","explanation":"known media"`
	for _, tt := range []struct{ name, doc, want string }{
		{"no match in the condition", `{"rules":[{"name":"r","when":"triage.label == 'hate'","action":"remove",` + ok + `}]}`, "match.*"},
		{"no ground", `{"rules":[{"name":"r","when":"match.found","action":"remove","legal_ground":"law","explanation":"x"}]}`, "needs ground"},
		{"no explanation", `{"rules":[{"name":"r","when":"match.found","action":"suspend","ground":"DECISION_GROUND_ILLEGAL_CONTENT","legal_ground":"law"}]}`, "legal_ground and explanation"},
		{"sample over 1", `{"rules":[{"name":"r","when":"match.found","action":"restrict",` + ok + `,"sample":2}]}`, "shares from 0 to 1"},
	} {
		if _, err := rules.Parse([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	set, err := rules.Parse([]byte(`{"rules":[{"name":"r","when":"match.found","action":"remove",` + ok + `,"sample":0.02,"review_above":20,"min_precision":0.95},
		{"name":"ack","when":"true","action":"acknowledge"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	facts := rules.Facts{Matches: []rules.MatchFacts{{Bank: "b", Kind: "pdq", Distance: 3}}}
	if out := set.Evaluate(facts); len(out.Actions) != 2 {
		t.Fatalf("actions %+v", out.Actions)
	}
	if !set.ForceShadow("r") || set.ForceShadow("r") || !set.Rule("r").InShadow() {
		t.Fatal("ForceShadow: the first call puts the rule in shadow mode, the second finds it there")
	}
	if out := set.Evaluate(facts); len(out.Actions) != 1 || out.Actions[0].Rule != "ack" || len(out.Shadow) != 1 {
		t.Fatalf("after ForceShadow: %+v", out)
	}
}
