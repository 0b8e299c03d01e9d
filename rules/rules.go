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

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
)

//go:embed rules.json
var defaultRules []byte

// Actions a rule may take.
const (
	ActionAcknowledge        = "acknowledge"
	ActionCloseNotActionable = "close_not_actionable"
)

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

	prg cel.Program
}

// Set is a compiled list of rules, evaluated in order.
type Set struct {
	Rules []*Rule
}

// Facts are what rules see. Field names are the CEL variables: request.channel,
// triage.emergency, …
type Facts struct {
	Request RequestFacts
	Triage  TriageFacts
}

// RequestFacts describe the request as received.
type RequestFacts struct {
	Channel, Regime, Kind, Country, Authority, Reference string
	Emergency                                            bool
}

// TriageFacts describe what triage found.
type TriageFacts struct {
	Language, Regime, Kind, Label, Category, Queue string
	Emergency, Spam                                bool
	Priority                                       int
	Confidence                                     float64
	Targets                                        []map[string]string
	Signals                                        []string
}

func env() (*cel.Env, error) {
	str, b := cel.StringType, cel.BoolType
	return cel.NewEnv(
		cel.Variable("request.channel", str), cel.Variable("request.regime", str), cel.Variable("request.kind", str),
		cel.Variable("request.country", str), cel.Variable("request.authority", str), cel.Variable("request.reference", str),
		cel.Variable("request.emergency", b),
		cel.Variable("triage.language", str), cel.Variable("triage.regime", str), cel.Variable("triage.kind", str),
		cel.Variable("triage.label", str), cel.Variable("triage.category", str), cel.Variable("triage.queue", str),
		cel.Variable("triage.emergency", b), cel.Variable("triage.spam", b),
		cel.Variable("triage.priority", cel.IntType), cel.Variable("triage.confidence", cel.DoubleType),
		cel.Variable("triage.targets", cel.ListType(cel.MapType(str, str))),
		cel.Variable("triage.signals", cel.ListType(str)),
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
		case r.Action != "" && r.Action != ActionAcknowledge && r.Action != ActionCloseNotActionable:
			return nil, fmt.Errorf("rule %s: unknown action %q (acknowledge, close_not_actionable)", r.Name, r.Action)
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

// Outcome is what the rules decided for one request.
type Outcome struct {
	Matched  []string `json:"matched,omitempty"`
	Shadow   []string `json:"shadow,omitempty"` // shadow rules that would have applied
	Queue    string   `json:"queue,omitempty"`
	Priority int      `json:"priority,omitempty"`
	Actions  []Step   `json:"actions,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// Step is an automatic step a rule takes.
type Step struct {
	Rule, Action, Reason string
}

// Evaluate runs every rule on the facts. A rule that fails at run time is skipped and
// reported in Errors, never fatal: the request is routed by the others.
func (s *Set) Evaluate(f Facts) Outcome {
	vars := map[string]any{
		"request.channel": f.Request.Channel, "request.regime": f.Request.Regime, "request.kind": f.Request.Kind,
		"request.country": f.Request.Country, "request.authority": f.Request.Authority, "request.reference": f.Request.Reference,
		"request.emergency": f.Request.Emergency,
		"triage.language":   f.Triage.Language, "triage.regime": f.Triage.Regime, "triage.kind": f.Triage.Kind,
		"triage.label": f.Triage.Label, "triage.category": f.Triage.Category, "triage.queue": f.Triage.Queue,
		"triage.emergency": f.Triage.Emergency, "triage.spam": f.Triage.Spam, "triage.priority": f.Triage.Priority,
		"triage.confidence": f.Triage.Confidence, "triage.targets": nonNil(f.Triage.Targets), "triage.signals": nonNilS(f.Triage.Signals),
	}
	var out Outcome
	for _, r := range s.Rules {
		val, _, err := r.prg.Eval(vars)
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("rule %s: %v", r.Name, err))
			continue
		}
		if val != types.True {
			continue
		}
		if r.Shadow {
			out.Shadow = append(out.Shadow, r.Name)
			continue
		}
		out.Matched = append(out.Matched, r.Name)
		if r.Queue != "" && out.Queue == "" {
			out.Queue = r.Queue
		}
		out.Priority = max(out.Priority, r.PriorityAtLeast)
		if r.Action != "" {
			out.Actions = append(out.Actions, Step{Rule: r.Name, Action: r.Action, Reason: r.Reason})
		}
	}
	return out
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
