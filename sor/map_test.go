package sor

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/docket-dev/docket"
)

func TestFromAction(t *testing.T) {
	received := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	applied := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	base := func() (*docket.Case, *docket.CaseAction) {
		c := &docket.Case{ID: "c1", Regime: "dsa-art16", Channel: docket.ChannelNotice, ReceivedAt: received,
			Triage: &docket.CaseTriage{Category: "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", Language: "de"}}
		s := &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "StGB § 130", Explanation: "Incitement.",
			Facts: "Notice of 20 November.", SourceType: SourceArticle16}
		if err := s.Complete(docket.OpRemove, nil, nil); err != nil {
			t.Fatal(err)
		}
		s.PUID = "docket-c1-1"
		a := &docket.CaseAction{Seq: 9, ActionRequested: docket.ActionRequested{Op: docket.OpRemove, Target: docket.Target{Kind: "message", Value: "https://ref.example/m/2"},
			Statement: s, Key: "docket-c1-1"}, Status: docket.ActionDoneStatus, EffectiveAt: docket.OptTime(applied)}
		return c, a
	}
	until := &docket.Time{Time: time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)}
	tests := []struct {
		name   string
		change func(c *docket.Case, a *docket.CaseAction) time.Time // returns when the content was posted
		check  func(t *testing.T, st *Statement)
		err    error
	}{
		{"a removal of illegal content", func(*docket.Case, *docket.CaseAction) time.Time { return received.Add(-48 * time.Hour) }, func(t *testing.T, st *Statement) {
			want := Statement{PUID: "docket-c1-1", DecisionVisibility: []string{VisibilityRemoved}, DecisionGround: GroundIllegal,
				IllegalContentLegalGround: "StGB § 130", IllegalContentExplanation: "Incitement.", ContentType: []string{ContentText},
				Category: "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", TerritorialScope: EEA, ContentDate: "2026-11-18",
				ApplicationDate: "2026-11-22", DecisionFacts: "Notice of 20 November.", SourceType: SourceArticle16,
				AutomatedDetection: "No", AutomatedDecision: AutomatedNot}
			if !equal(st, &want) {
				t.Errorf("got  %+v\nwant %+v", st, &want)
			}
		}, nil},
		{"content date unknown: the day the case was received", func(*docket.Case, *docket.CaseAction) time.Time { return time.Time{} }, func(t *testing.T, st *Statement) {
			if st.ContentDate != "2026-11-20" {
				t.Errorf("content date %s", st.ContentDate)
			}
		}, nil},
		{"content date never after the application", func(*docket.Case, *docket.CaseAction) time.Time { return applied.Add(time.Hour * 30) }, func(t *testing.T, st *Statement) {
			if st.ContentDate != st.ApplicationDate {
				t.Errorf("content date %s, applied %s", st.ContentDate, st.ApplicationDate)
			}
		}, nil},
		{"content from before 2000", func(*docket.Case, *docket.CaseAction) time.Time { return time.Date(1998, 5, 1, 0, 0, 0, 0, time.UTC) }, func(t *testing.T, st *Statement) {
			if st.ContentDate != "2000-01-01" {
				t.Errorf("content date %s", st.ContentDate)
			}
		}, nil},
		{"a restriction: the EEA countries named", func(c *docket.Case, a *docket.CaseAction) time.Time {
			a.Op, a.Countries, a.Until = docket.OpRestrict, []string{"FR", "EL", "TR", "de", "FR"}, until
			a.Statement.DecisionVisibility = []string{VisibilityDisabled}
			return time.Time{}
		}, func(t *testing.T, st *Statement) {
			if !slices.Equal(st.TerritorialScope, []string{"DE", "FR", "GR"}) || !slices.Equal(st.DecisionVisibility, []string{VisibilityDisabled}) ||
				st.EndDateVisibilityRestriction != "2027-01-31" {
				t.Errorf("%+v", st)
			}
		}, nil},
		{"a restriction outside the EEA", func(c *docket.Case, a *docket.CaseAction) time.Time {
			a.Op, a.Countries = docket.OpRestrict, []string{"TR", "RU"}
			return time.Time{}
		}, nil, ErrOutsideEEA},
		{"a suspension until a date", func(c *docket.Case, a *docket.CaseAction) time.Time {
			a.Op, a.Until, a.Target = docket.OpSuspend, until, docket.Target{Kind: "account", Value: "42"}
			a.Statement.DecisionVisibility, a.Statement.DecisionAccount = nil, AccountSuspended
			return time.Time{}
		}, func(t *testing.T, st *Statement) {
			if st.DecisionAccount != AccountSuspended || len(st.DecisionVisibility) != 0 || st.EndDateAccountRestriction != "2027-01-31" ||
				st.EndDateVisibilityRestriction != "" || !slices.Equal(st.ContentType, []string{ContentOther}) || st.ContentTypeOther != "Account" ||
				len(st.TerritorialScope) != len(EEA) {
				t.Errorf("%+v", st)
			}
		}, nil},
		{"an old event without visibility: from the operation", func(c *docket.Case, a *docket.CaseAction) time.Time {
			a.Op = docket.OpTerminate
			a.Statement.DecisionVisibility = nil
			return time.Time{}
		}, func(t *testing.T, st *Statement) {
			if st.DecisionAccount != AccountTerminated {
				t.Errorf("%+v", st)
			}
		}, nil},
		{"incompatible content without a category", func(c *docket.Case, a *docket.CaseAction) time.Time {
			c.Triage = nil
			a.Statement.DecisionGround, a.Statement.Category = GroundIncompatible, ""
			return time.Time{}
		}, func(t *testing.T, st *Statement) {
			if st.IncompatibleContentGround != "StGB § 130" || st.IncompatibleContentExplanation != "Incitement." || st.IllegalContentLegalGround != "" ||
				st.Category != CategoryOtherTC {
				t.Errorf("%+v", st)
			}
		}, nil},
		{"illegal content without a category", func(c *docket.Case, a *docket.CaseAction) time.Time {
			c.Triage = &docket.CaseTriage{Category: "not a category"}
			return time.Time{}
		}, func(t *testing.T, st *Statement) {
			if st.Category != CategoryNotSpecified {
				t.Errorf("%+v", st)
			}
		}, nil},
		{"a TCO removal order: terrorist content", func(c *docket.Case, a *docket.CaseAction) time.Time {
			c.Regime = "eu-tco-removal"
			a.Statement.Category = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
			a.Statement.CategorySpecification = []string{"KEYWORD_INCITEMENT_VIOLENCE_HATRED"}
			return time.Time{}
		}, func(t *testing.T, st *Statement) {
			if st.Category != "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY" ||
				!slices.Equal(st.CategorySpecification, []string{"KEYWORD_INCITEMENT_VIOLENCE_HATRED", KeywordTerrorist}) {
				t.Errorf("%+v", st)
			}
		}, nil},
		{"what the agent gave", func(c *docket.Case, a *docket.CaseAction) time.Time {
			a.Target.Kind = "media"
			a.Statement.ContentType = []string{"CONTENT_TYPE_VIDEO", "CONTENT_TYPE_AUDIO"}
			a.Statement.AccountType, a.Statement.AutomatedDetection = "ACCOUNT_TYPE_BUSINESS", true
			return time.Time{}
		}, func(t *testing.T, st *Statement) {
			if !slices.Equal(st.ContentType, []string{"CONTENT_TYPE_VIDEO", "CONTENT_TYPE_AUDIO"}) || st.ContentTypeOther != "" ||
				st.AccountType != "ACCOUNT_TYPE_BUSINESS" || st.AutomatedDetection != "Yes" {
				t.Errorf("%+v", st)
			}
		}, nil},
		{"a media file by default", func(c *docket.Case, a *docket.CaseAction) time.Time {
			a.Target.Kind = "media"
			return time.Time{}
		}, func(t *testing.T, st *Statement) {
			if !slices.Equal(st.ContentType, []string{ContentOther}) || st.ContentTypeOther != "Media file" {
				t.Errorf("%+v", st)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, a := base()
			posted := tt.change(c, a)
			st, err := FromAction(c, a, posted)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if errs := Check(st); errs != nil {
				t.Fatalf("the database would refuse it: %v", errs)
			}
			tt.check(t, st)
		})
	}
	c, a := base()
	a.EffectiveAt = nil
	if _, err := FromAction(c, a, time.Time{}); err == nil {
		t.Error("a statement for an action not carried out")
	}
	a.Op, a.Statement = docket.OpPreserve, nil
	if _, err := FromAction(c, a, time.Time{}); err == nil {
		t.Error("a statement for a preservation")
	}
}

func equal(a, b *Statement) bool {
	return slices.Equal(a.DecisionVisibility, b.DecisionVisibility) && slices.Equal(a.ContentType, b.ContentType) &&
		slices.Equal(a.TerritorialScope, b.TerritorialScope) && slices.Equal(a.CategorySpecification, b.CategorySpecification) &&
		slices.Equal(a.CategoryAddition, b.CategoryAddition) && a.strings() == b.strings()
}

func (s *Statement) strings() [30]string {
	return [30]string{s.DecisionVisibilityOther, s.DecisionMonetary, s.DecisionMonetaryOther, s.DecisionProvision, s.DecisionAccount,
		s.AccountType, s.DecisionGround, s.DecisionGroundReferenceURL, s.IllegalContentLegalGround, s.IllegalContentExplanation,
		s.IncompatibleContentGround, s.IncompatibleContentExplanation, s.IncompatibleContentIllegal, s.ContentTypeOther, s.Category,
		s.CategorySpecificationOther, s.ContentLanguage, s.ContentDate, s.ApplicationDate, s.EndDateAccountRestriction,
		s.EndDateMonetaryRestriction, s.EndDateServiceRestriction, s.EndDateVisibilityRestriction, s.DecisionFacts, s.SourceType,
		s.SourceIdentity, s.AutomatedDetection, s.AutomatedDecision, s.PUID}
}
