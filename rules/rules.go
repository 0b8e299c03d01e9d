// Package rules routes triaged requests with rules written in CEL: each rule is a boolean
// expression over the request and its triage result that, when true, picks a queue, raises
// the priority, or takes an automatic step (acknowledge; close as not actionable). Rules
// are data: a file named in the configuration replaces the embedded default set, and every
// rule is compiled and type-checked at start-up. A rule in shadow mode only records what it
// would have done.
package rules

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
)

//go:embed rules.json
var defaultRules []byte

// Actions a rule may take.
const (
	ActionAcknowledge        = "acknowledge"
	ActionCloseNotActionable = "close_not_actionable"
	// Automated actions on known media (a rule whose condition reads match.*): the content
	// or account the case names is removed, restricted or suspended on the platform by the
	// rule, with a statement of reasons that says so; a share is sampled for a person's
	// review (see Rule.Sample).
	ActionRemove   = "remove"
	ActionRestrict = "restrict"
	ActionSuspend  = "suspend"
)

// Automated reports whether an action acts on the platform by itself.
func Automated(action string) bool {
	return action == ActionRemove || action == ActionRestrict || action == ActionSuspend
}

// Rule is one routing rule.
type Rule struct {
	Name string `json:"name"`
	When string `json:"when"`
	// Queue, when set, sends the case there (the first matching rule with a queue wins:
	// rules are listed most important first).
	Queue string `json:"queue,omitempty"`
	// PriorityAtLeast raises the case's priority to this value.
	PriorityAtLeast int `json:"priority_at_least,omitempty"`
	// Action is an automatic step: acknowledge, or close_not_actionable (with Reason).
	Action string `json:"action,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Shadow rules are evaluated and recorded but change nothing.
	Shadow bool `json:"shadow,omitempty"`

	// For automated actions: Sample is the share of the rule's decisions a person reviews
	// (0 to 1, chosen by the case's id, so the same case is always in or out), ReviewAbove
	// the PDQ distance above which every decision is reviewed (0: none by distance);
	// MinPrecision the share of reviewed decisions people must uphold — below it, after
	// MinReviews reviews (default 20), the rule goes to shadow mode by itself. Ground,
	// LegalGround and Explanation are those of the statement of reasons.
	Sample       float64 `json:"sample,omitempty"`
	ReviewAbove  int     `json:"review_above,omitempty"`
	MinPrecision float64 `json:"min_precision,omitempty"`
	MinReviews   int     `json:"min_reviews,omitempty"`
	Ground       string  `json:"ground,omitempty"`
	LegalGround  string  `json:"legal_ground,omitempty"`
	Explanation  string  `json:"explanation,omitempty"`

	prg    cel.Program
	forced atomic.Bool // put in shadow mode at run time (precision below MinPrecision)
}

// InShadow reports whether the rule changes nothing: shadow in its file, or put in shadow
// mode since.
func (r *Rule) InShadow() bool { return r.Shadow || r.forced.Load() }

// ForceShadow puts the rule of that name in shadow mode until the rules are loaded again;
// it reports whether the rule was acting before.
func (s *Set) ForceShadow(name string) bool {
	r := s.Rule(name)
	return r != nil && !r.Shadow && r.forced.CompareAndSwap(false, true)
}

// Set is a compiled list of rules, evaluated in order.
type Set struct {
	Rules []*Rule
}

// Facts are what rules see. Field names are the CEL variables: request.channel,
// triage.emergency, match.bank, …
type Facts struct {
	Request RequestFacts
	Triage  TriageFacts
	// Matches are the case's attachments found in enabled hash banks. A rule sees them one
	// at a time as match.* (nearest first): it holds when it holds for one of them. Without
	// a match, match.found is false, the strings are empty and match.distance is NoMatch.
	Matches []MatchFacts
}

// MatchFacts describe one attachment found in a hash bank: the bank (its name, category,
// DSA category and default action), the kind of hash (pdq, sha256, md5), the bank's hash,
// the Hamming distance (0 for exact digests) and the quality of the attachment's picture.
type MatchFacts struct {
	Bank, Category, DSACategory, Action, Kind, Hash string
	Distance, Quality                               int
}

// NoMatch is match.distance when nothing matched: farther than any two PDQ hashes, so
// that match.distance <= N holds only for a match.
const NoMatch = 257

// RequestFacts describe the request as received.
type RequestFacts struct {
	Channel, Regime, Kind, Country, Authority, Reference string
	Emergency                                            bool
}

// TriageFacts describe what triage found.
type TriageFacts struct {
	Language, Regime, Kind, Label, Category, Queue string
	Emergency, Spam                                bool
	// Policy: the request touches political speech, journalists, protest or religion.
	Policy     bool
	Priority   int
	Confidence float64
	Targets    []map[string]string
	Signals    []string
}

func env() (*cel.Env, error) {
	str, b := cel.StringType, cel.BoolType
	return cel.NewEnv(
		cel.Variable("request.channel", str), cel.Variable("request.regime", str), cel.Variable("request.kind", str),
		cel.Variable("request.country", str), cel.Variable("request.authority", str), cel.Variable("request.reference", str),
		cel.Variable("request.emergency", b),
		cel.Variable("triage.language", str), cel.Variable("triage.regime", str), cel.Variable("triage.kind", str),
		cel.Variable("triage.label", str), cel.Variable("triage.category", str), cel.Variable("triage.queue", str),
		cel.Variable("triage.emergency", b), cel.Variable("triage.spam", b), cel.Variable("triage.policy", b),
		cel.Variable("triage.priority", cel.IntType), cel.Variable("triage.confidence", cel.DoubleType),
		cel.Variable("triage.targets", cel.ListType(cel.MapType(str, str))),
		cel.Variable("triage.signals", cel.ListType(str)),
		cel.Variable("match.found", b), cel.Variable("match.bank", str), cel.Variable("match.category", str),
		cel.Variable("match.dsa_category", str), cel.Variable("match.action", str), cel.Variable("match.kind", str),
		cel.Variable("match.hash", str), cel.Variable("match.distance", cel.IntType), cel.Variable("match.quality", cel.IntType),
	)
}

// Default returns the embedded rule set.
func Default() *Set {
	s, err := Parse(defaultRules)
	if err != nil {
		panic("rules: embedded set is invalid: " + err.Error())
	}
	return s
}

// DefaultJSON returns the embedded rule set as written (rules/rules.json), to start a file of
// one's own from.
func DefaultJSON() []byte { return append([]byte(nil), defaultRules...) }

// Load reads a rule set from path, or returns the embedded one when path is empty.
func Load(path string) (*Set, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load rules from %s: %w", path, err)
	}
	return s, nil
}

// Parse reads and compiles a rule set. Errors name the rule and the position in its
// expression.
func Parse(b []byte) (*Set, error) {
	var doc struct {
		Rules []*Rule `json:"rules"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse rules: %w", err)
	}
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("rules environment: %w", err)
	}
	seen := map[string]bool{}
	for i, r := range doc.Rules {
		switch {
		case r.Name == "":
			return nil, fmt.Errorf("rule #%d: missing name", i+1)
		case seen[r.Name]:
			return nil, fmt.Errorf("rule %s: defined twice", r.Name)
		case r.Action != "" && r.Action != ActionAcknowledge && r.Action != ActionCloseNotActionable && !Automated(r.Action):
			return nil, fmt.Errorf("rule %s: unknown action %q (acknowledge, close_not_actionable, remove, restrict, suspend)", r.Name, r.Action)
		case Automated(r.Action) && !strings.Contains(r.When, "match."):
			return nil, fmt.Errorf("rule %s: an automated %s acts on known media only: its condition must read match.*", r.Name, r.Action)
		case Automated(r.Action) && (r.Ground != "DECISION_GROUND_ILLEGAL_CONTENT" && r.Ground != "DECISION_GROUND_INCOMPATIBLE_CONTENT"):
			return nil, fmt.Errorf("rule %s: an automated %s needs ground DECISION_GROUND_ILLEGAL_CONTENT or DECISION_GROUND_INCOMPATIBLE_CONTENT", r.Name, r.Action)
		case Automated(r.Action) && (strings.TrimSpace(r.LegalGround) == "" || strings.TrimSpace(r.Explanation) == ""):
			return nil, fmt.Errorf("rule %s: an automated %s needs legal_ground and explanation (its statement of reasons)", r.Name, r.Action)
		case r.Sample < 0 || r.Sample > 1 || r.MinPrecision < 0 || r.MinPrecision > 1 || r.ReviewAbove < 0 || r.MinReviews < 0:
			return nil, fmt.Errorf("rule %s: sample and min_precision are shares from 0 to 1; review_above and min_reviews are not negative", r.Name)
		case r.Action == ActionCloseNotActionable && r.Reason == "":
			return nil, fmt.Errorf("rule %s: close_not_actionable needs a reason", r.Name)
		case r.PriorityAtLeast < 0 || r.PriorityAtLeast > 100:
			return nil, fmt.Errorf("rule %s: priority_at_least must be 0 to 100", r.Name)
		}
		seen[r.Name] = true
		ast, iss := e.Compile(r.When)
		if iss.Err() != nil {
			return nil, fmt.Errorf("rule %s: %s", r.Name, strings.TrimSpace(iss.Err().Error()))
		}
		if ast.OutputType() != cel.BoolType {
			return nil, fmt.Errorf("rule %s: the expression gives %s, not a bool", r.Name, ast.OutputType())
		}
		r.prg, err = e.Program(ast)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
	}
	return &Set{Rules: doc.Rules}, nil
}

// Rule returns the rule of that name, or nil.
func (s *Set) Rule(name string) *Rule {
	for _, r := range s.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Outcome is what the rules decided for one request.
type Outcome struct {
	Matched []string `json:"matched,omitempty"`
	Shadow  []string `json:"shadow,omitempty"` // shadow rules that would have applied
	Queue   string   `json:"queue,omitempty"`
	// QueueRule is the rule that chose Queue.
	QueueRule string   `json:"queue_rule,omitempty"`
	Priority  int      `json:"priority,omitempty"`
	Actions   []Step   `json:"actions,omitempty"`
	Errors    []string `json:"errors,omitempty"`
}

// Step is an automatic step a rule takes.
type Step struct {
	Rule, Action, Reason string
}

// Evaluate runs every rule on the facts, once per match (see Facts.Matches). A rule that
// fails at run time is skipped and reported in Errors, never fatal: the request is routed by
// the others.
func (s *Set) Evaluate(f Facts) Outcome {
	variants := []map[string]any{vars(f, nil)}
	if len(f.Matches) > 0 {
		variants = variants[:0]
		for i := range f.Matches {
			variants = append(variants, vars(f, &f.Matches[i]))
		}
	}
	var out Outcome
	for _, r := range s.Rules {
		hit := false
		var failed error
		for _, v := range variants {
			val, _, err := r.prg.Eval(v)
			if err != nil {
				if failed == nil {
					failed = err
				}
				continue
			}
			if val == types.True {
				hit = true
				break
			}
		}
		if !hit {
			if failed != nil {
				out.Errors = append(out.Errors, fmt.Sprintf("rule %s: %v", r.Name, failed))
			}
			continue
		}
		if r.InShadow() {
			out.Shadow = append(out.Shadow, r.Name)
			continue
		}
		out.Matched = append(out.Matched, r.Name)
		if r.Queue != "" && out.Queue == "" {
			out.Queue, out.QueueRule = r.Queue, r.Name
		}
		out.Priority = max(out.Priority, r.PriorityAtLeast)
		if r.Action != "" {
			out.Actions = append(out.Actions, Step{Rule: r.Name, Action: r.Action, Reason: r.Reason})
		}
	}
	return out
}

// vars are the CEL variables of the facts, with one match (nil: none).
func vars(f Facts, m *MatchFacts) map[string]any {
	v := map[string]any{
		"request.channel": f.Request.Channel, "request.regime": f.Request.Regime, "request.kind": f.Request.Kind,
		"request.country": f.Request.Country, "request.authority": f.Request.Authority, "request.reference": f.Request.Reference,
		"request.emergency": f.Request.Emergency,
		"triage.language":   f.Triage.Language, "triage.regime": f.Triage.Regime, "triage.kind": f.Triage.Kind,
		"triage.label": f.Triage.Label, "triage.category": f.Triage.Category, "triage.queue": f.Triage.Queue,
		"triage.emergency": f.Triage.Emergency, "triage.spam": f.Triage.Spam, "triage.policy": f.Triage.Policy, "triage.priority": f.Triage.Priority,
		"triage.confidence": f.Triage.Confidence, "triage.targets": nonNil(f.Triage.Targets), "triage.signals": nonNilS(f.Triage.Signals),
	}
	v["match.found"] = m != nil
	if m == nil {
		m = &MatchFacts{Distance: NoMatch}
	}
	v["match.bank"], v["match.category"], v["match.dsa_category"] = m.Bank, m.Category, m.DSACategory
	v["match.action"], v["match.kind"], v["match.hash"] = m.Action, m.Kind, m.Hash
	v["match.distance"], v["match.quality"] = m.Distance, m.Quality
	return v
}

func nonNil(v []map[string]string) []map[string]string {
	if v == nil {
		return []map[string]string{}
	}
	return v
}

func nonNilS(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
