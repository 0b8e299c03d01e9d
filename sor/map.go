package sor

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// ErrOutsideEEA is FromAction's answer for a restriction that applies in no country of the
// EEA: it is no statement for the Transparency Database, which knows only those countries.
var ErrOutsideEEA = errors.New("the action applies in no country of the EEA")

// FromAction builds the statement of reasons of an action on content or an account (remove,
// restrict, suspend, terminate) as the Transparency Database receives it. a is the action
// as the case records it (its statement, and EffectiveAt: when the platform applied it);
// posted is when the content was published, as the platform said (zero when unknown).
//
// Where docket's records are silent, it decides so (docs/OPERATIONS.md lists it):
//   - content_type: the agent's, else from the target's kind — a message is text; a media
//     file, a channel, a group, an account or a link is CONTENT_TYPE_OTHER named by its
//     kind (docket does not know whether a media file is an image, a video or a sound);
//   - category: the agent's or the triage's, else "other violation of the terms" for
//     incompatible content and "not specified by the notifier" for illegal content;
//   - category_specification: the agent's, plus KEYWORD_TERRORIST_CONTENT under a TCO
//     removal order (terrorist content by definition);
//   - territorial_scope: every EEA country for a removal, a suspension or a termination
//     (they apply everywhere), the EEA countries named for a restriction (Greece, EL in EU
//     usage, is GR); a restriction in no EEA country is ErrOutsideEEA;
//   - content_date: when the content was published (UTC), else the day docket received
//     the case's first request (the content existed then); never after the application
//     date, never before 2000-01-01 (the earliest the database accepts);
//   - application_date: the day the platform applied the action (UTC);
//   - end dates: the action's "until", as the visibility end (remove, restrict) or the
//     account end (suspend); none means indefinite;
//   - automated_detection "No" unless the agent said otherwise (requests and notices are
//     sent by people); automated_decision as the statement says (a person acted);
//   - source_identity, content_language, account_type (unless the agent gives it),
//     decision_ground_reference_url: left out. The database is public and must receive no
//     personal data: a notifier's or an authority's name is not sent, and the language
//     docket knows is the request's, not the content's.
func FromAction(c *docket.Case, a *docket.CaseAction, posted time.Time) (*Statement, error) {
	s := a.Statement
	if s == nil || !docket.ContentOp(a.Op) {
		return nil, errors.New("the action carries no statement of reasons")
	}
	if a.EffectiveAt == nil {
		return nil, errors.New("the action has not taken effect")
	}
	applied := a.EffectiveAt.UTC()
	st := &Statement{
		PUID:                  s.PUID,
		DecisionVisibility:    s.DecisionVisibility,
		DecisionAccount:       s.DecisionAccount,
		AccountType:           s.AccountType,
		DecisionGround:        s.DecisionGround,
		ContentType:           s.ContentType,
		ContentTypeOther:      s.ContentTypeOther,
		Category:              s.Category,
		CategorySpecification: slices.Clone(s.CategorySpecification),
		DecisionFacts:         s.Facts,
		SourceType:            s.SourceType,
		AutomatedDetection:    "No",
		AutomatedDecision:     s.AutomatedDecision,
		ApplicationDate:       day(applied),
	}
	if s.AutomatedDetection {
		st.AutomatedDetection = "Yes"
	}
	if len(st.DecisionVisibility) == 0 && st.DecisionAccount == "" {
		switch a.Op {
		case docket.OpRemove:
			st.DecisionVisibility = []string{VisibilityRemoved}
		case docket.OpRestrict:
			st.DecisionVisibility = []string{VisibilityDisabled}
		case docket.OpSuspend:
			st.DecisionAccount = AccountSuspended
		case docket.OpTerminate:
			st.DecisionAccount = AccountTerminated
		}
	}
	switch s.DecisionGround {
	case GroundIncompatible:
		st.IncompatibleContentGround, st.IncompatibleContentExplanation = s.LegalGround, s.Explanation
	default:
		st.IllegalContentLegalGround, st.IllegalContentExplanation = s.LegalGround, s.Explanation
	}
	if len(st.ContentType) == 0 {
		st.ContentType, st.ContentTypeOther = contentType(a.Target.Kind)
	}
	if st.Category == "" && c.Triage != nil && slices.Contains(Categories, c.Triage.Category) {
		st.Category = c.Triage.Category
	}
	if st.Category == "" {
		st.Category = CategoryNotSpecified
		if s.DecisionGround == GroundIncompatible {
			st.Category = CategoryOtherTC
		}
	}
	if c.Regime == "eu-tco-removal" && !slices.Contains(st.CategorySpecification, KeywordTerrorist) {
		st.CategorySpecification = append(st.CategorySpecification, KeywordTerrorist)
	}
	st.TerritorialScope = slices.Clone(EEA)
	if a.Op == docket.OpRestrict {
		st.TerritorialScope = eeaOf(a.Countries)
		if len(st.TerritorialScope) == 0 {
			return nil, ErrOutsideEEA
		}
	}
	content := posted.UTC()
	if content.IsZero() {
		content = c.ReceivedAt.UTC()
	}
	if content.IsZero() || content.After(applied) {
		content = applied
	}
	st.ContentDate = max(day(content), "2000-01-01")
	if a.Until != nil {
		switch a.Op {
		case docket.OpRemove, docket.OpRestrict:
			st.EndDateVisibilityRestriction = day(a.Until.UTC())
		case docket.OpSuspend:
			st.EndDateAccountRestriction = day(a.Until.UTC())
		}
	}
	return st, nil
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// contentType is the content type of a target of this kind, and the text that names it
// when it is CONTENT_TYPE_OTHER. The text names the kind only, never the target.
func contentType(kind string) ([]string, string) {
	switch kind {
	case "message":
		return []string{ContentText}, ""
	case "media":
		return []string{ContentOther}, "Media file"
	case "channel":
		return []string{ContentOther}, "Channel"
	case "group":
		return []string{ContentOther}, "Group"
	case "account", "username", "phone", "email":
		return []string{ContentOther}, "Account"
	case "url":
		return []string{ContentOther}, "Content at a link"
	}
	return []string{ContentOther}, strings.ToUpper(kind[:min(1, len(kind))]) + kind[min(1, len(kind)):]
}

// eeaOf returns the EEA countries among codes, as the database writes them: GR for Greece,
// sorted, once each.
func eeaOf(codes []string) []string {
	var out []string
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "EL" {
			c = "GR"
		}
		if InEEA(c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
