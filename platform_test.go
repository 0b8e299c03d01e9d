package docket

import (
	"errors"
	"strings"
	"testing"
)

func TestStatementOfReasons(t *testing.T) {
	ok := func() StatementOfReasons {
		return StatementOfReasons{DecisionGround: GroundIllegal, LegalGround: "StGB § 130", Explanation: "Holocaust denial.", Facts: "Order of the BKA."}
	}
	cases := []struct {
		name  string
		op    string
		edit  func(*StatementOfReasons)
		field string // "" when valid
	}{
		{"complete", OpRemove, func(*StatementOfReasons) {}, ""},
		{"no ground", OpRemove, func(s *StatementOfReasons) { s.DecisionGround = "" }, "decision_ground"},
		{"unknown ground", OpRestrict, func(s *StatementOfReasons) { s.DecisionGround = "BECAUSE" }, "decision_ground"},
		{"no legal ground", OpSuspend, func(s *StatementOfReasons) { s.LegalGround = " " }, "legal_ground"},
		{"explanation too long", OpRemove, func(s *StatementOfReasons) { s.Explanation = strings.Repeat("é", 2001) }, "explanation"},
		{"no facts", OpTerminate, func(s *StatementOfReasons) { s.Facts = "" }, "decision_facts"},
		{"bad category", OpRemove, func(s *StatementOfReasons) { s.Category = "TERROR" }, "category"},
	}
	for _, tc := range cases {
		s := ok()
		tc.edit(&s)
		err := s.Complete(tc.op, []string{"DE"}, nil)
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Fields["statement."+tc.field] == "" {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
	s := ok()
	s.Complete(OpRestrict, []string{"DE"}, nil)
	if s.DecisionVisibility[0] != "DECISION_VISIBILITY_CONTENT_DISABLED" || s.TerritorialScope[0] != "DE" || s.Redress != DefaultRedress ||
		s.AutomatedDecision != "AUTOMATED_DECISION_NOT_AUTOMATED" || s.SourceType == "" {
		t.Errorf("filled statement = %+v", s)
	}
	s = ok()
	s.Complete(OpTerminate, nil, nil)
	if s.DecisionAccount != "DECISION_ACCOUNT_TERMINATED" || len(s.DecisionVisibility) != 0 {
		t.Errorf("terminate = %+v", s)
	}
}
