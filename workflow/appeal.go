package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docket-dev/docket"
)

// Complaints and appeals (DSA art. 20–21): see docket.Appeal.

// ActDecideAppeal decides an appeal (POST /api/v1/cases/{id}/events): Appeal names it (the
// seq of its appeal_received), Outcome is upheld or rejected, Text the reasons.
const ActDecideAppeal = "decide_appeal"

// Limits of what an appellant sends.
const (
	MaxAppealText    = 5000
	MaxAppealContact = 254
	maxPlatformRef   = 200
)

// AppealFiling is an appeal as it arrives: from the public page or API (with the token of
// the link, already checked: Appellant says whose it was) or from the platform's in-app
// appeal (PlatformRef, the platform's id; FiledAt, when the user filed it there).
type AppealFiling struct {
	PUID        string
	Appellant   string
	Channel     string
	Text        string
	Contact     string
	PlatformRef string
	FiledAt     time.Time
}

// appealToken is the token of the appeal link of one decision (the statement of reasons'
// puid) for one appellant: HMAC-SHA256 under the appeal key, 256 bits in base64url. Without
// the key it cannot be guessed, and it opens that decision only, for that appellant only.
func (s *Service) appealToken(appellant, puid string) string {
	m := hmac.New(sha256.New, s.appealKey)
	fmt.Fprintf(m, "docket-appeal-v1\n%s\n%s", appellant, puid)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// AppealToken returns the token of the appeal link of the decision puid for appellant
// (docket.AppellantUser or AppellantNotifier).
func (s *Service) AppealToken(appellant, puid string) string { return s.appealToken(appellant, puid) }

// AppealLink returns the path of the public appeal page of decision puid for appellant,
// token included ("" when appeals by link are off: no appeal key).
func (s *Service) AppealLink(appellant, puid string) string {
	if len(s.appealKey) == 0 {
		return ""
	}
	return "/appeal/" + puid + "?token=" + s.appealToken(appellant, puid)
}

// CheckAppealToken returns whose token opens decision puid, or an EFORBIDDEN error.
func (s *Service) CheckAppealToken(puid, token string) (string, error) {
	if len(s.appealKey) > 0 && token != "" {
		for _, who := range []string{docket.AppellantUser, docket.AppellantNotifier} {
			if hmac.Equal([]byte(token), []byte(s.appealToken(who, puid))) {
				return who, nil
			}
		}
	}
	return "", &docket.Error{Code: docket.EFORBIDDEN, Fields: map[string]string{"token": "does not open this decision"},
		Message: "The appeal link's token does not open this decision: use the link exactly as you were given it with the statement of reasons."}
}

// DisputeBodies returns the out-of-court dispute settlement bodies answers name.
func (s *Service) DisputeBodies() []docket.DisputeBody { return slices.Clone(s.bodies) }

// caseOfPUID returns the case a statement's puid names (docket-CASE-N).
func caseOfPUID(puid string) (string, bool) {
	rest, ok := strings.CutPrefix(puid, "docket-")
	i := strings.LastIndexByte(rest, '-')
	if !ok || i <= 0 || i == len(rest)-1 || strings.Trim(rest[i+1:], "0123456789") != "" {
		return "", false
	}
	return rest[:i], true
}

func invalidField(field, msg string) error {
	return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field %s %s.", field, msg), Fields: map[string]string{field: msg}}
}

// checkFiling checks what an appellant sent, before anything is read.
func checkFiling(f *AppealFiling) error {
	f.Text = strings.TrimSpace(f.Text)
	f.Contact = strings.TrimSpace(f.Contact)
	switch {
	case f.Text == "":
		return invalidField("text", "is required: say why the decision is wrong")
	case utf8.RuneCountInString(f.Text) > MaxAppealText:
		return invalidField("text", fmt.Sprintf("must be at most %d characters", MaxAppealText))
	case len(f.Contact) > MaxAppealContact:
		return invalidField("contact", fmt.Sprintf("must be at most %d characters", MaxAppealContact))
	case len(f.PlatformRef) > maxPlatformRef:
		return invalidField("platform_ref", fmt.Sprintf("must be at most %d characters", maxPlatformRef))
	case f.Appellant != docket.AppellantUser && f.Appellant != docket.AppellantNotifier:
		return invalidField("appellant", "must be user or notifier")
	case f.Channel != docket.AppealChannelWeb && f.Channel != docket.AppealChannelPlatform:
		return invalidField("channel", "must be web or platform")
	}
	if f.Contact != "" {
		if a, err := mail.ParseAddress(f.Contact); err != nil || a.Address != f.Contact {
			return invalidField("contact", "must be an e-mail address")
		}
	}
	return nil
}

// FileAppeal records an appeal against the action whose statement of reasons is f.PUID, on
// its case (appeal_received), with the deadline of the appeal clock. It refuses an appeal
// after the six-month window (ETOOLATE), against an action not carried out or already
// reverted (ESTATE), a second appeal by the same appellant against the same decision
// (ECONFLICT); an in-app appeal filed again (the same PlatformRef) returns the first.
func (s *Service) FileAppeal(ctx context.Context, f AppealFiling) (*docket.Case, *docket.Appeal, error) {
	if err := checkFiling(&f); err != nil {
		return nil, nil, err
	}
	caseID, ok := caseOfPUID(f.PUID)
	if !ok {
		return nil, nil, docket.Errorf(docket.ENOTFOUND, "No decision has the reference %q.", f.PUID)
	}
	clock := s.regimes.Appeal()
	var c *docket.Case
	var ap *docket.Appeal
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		var err error
		c, err = tx.Case(ctx, caseID)
		if isNotFound(err) {
			return docket.Errorf(docket.ENOTFOUND, "No decision has the reference %q.", f.PUID)
		} else if err != nil {
			return err
		}
		a := c.ActionByPUID(f.PUID)
		if a == nil || !docket.ContentOp(a.Op) {
			return docket.Errorf(docket.ENOTFOUND, "No decision has the reference %q.", f.PUID)
		}
		for i := range c.Appeals {
			if p := &c.Appeals[i]; f.PlatformRef != "" && p.PlatformRef == f.PlatformRef {
				ap = p // the platform sent it again: filed once
				return nil
			}
		}
		if f.Appellant == docket.AppellantNotifier && c.Channel != docket.ChannelNotice {
			return docket.Errorf(docket.EFORBIDDEN, "Only a decision taken on a notice can be contested by its notifier.")
		}
		now := s.Now().Truncate(time.Microsecond)
		filed := now
		if !f.FiledAt.IsZero() && f.FiledAt.Before(now) {
			filed = f.FiledAt.UTC().Truncate(time.Microsecond) // the platform's time of the in-app appeal
		}
		switch {
		case a.Status != docket.ActionDoneStatus || a.EffectiveAt == nil:
			return docket.Errorf(docket.ESTATE, "The decision %s has not been carried out on the platform: there is nothing to contest yet.", f.PUID)
		case a.RevertedBy != 0:
			return docket.Errorf(docket.ESTATE, "The decision %s was reversed on %s.", f.PUID, a.RevertedAt.Format(time.RFC3339))
		case filed.After(docket.AppealCloses(a.EffectiveAt.Time)):
			return &docket.Error{Code: docket.ETOOLATE, Fields: map[string]string{"decision": "appeal window closed"},
				Message: fmt.Sprintf("The decision %s took effect on %s; it could be contested until %s (%s, Regulation (EU) 2022/2065, art. 20(1)). You may still refer it to an out-of-court dispute settlement body (art. 21) or to a court.",
					f.PUID, a.EffectiveAt.Format("2006-01-02"), docket.AppealCloses(a.EffectiveAt.Time).Format("2006-01-02"), docket.AppealWindow)}
		}
		for _, p := range c.Appeals {
			if p.Action == a.Seq && p.Appellant == f.Appellant {
				if p.State == docket.AppealOpen {
					return docket.Errorf(docket.ECONFLICT, "This decision is already under appeal (received %s, to be decided by %s).", p.ReceivedAt.Format(time.RFC3339), p.DeadlineAt.Format(time.RFC3339))
				}
				return docket.Errorf(docket.ECONFLICT, "Your appeal against this decision was %s on %s; the decision on it is final here. You may refer it to an out-of-court dispute settlement body (art. 21) or to a court.", p.State, p.DecidedAt.Format("2006-01-02"))
			}
		}
		deadline, _ := clock.Deadlines(now, false)
		e := docket.NewEvent(c.ID, docket.EventAppealReceived, appellantActor(f), now, docket.AppealReceived{
			Action: a.Seq, PUID: f.PUID, Appellant: f.Appellant, Channel: f.Channel, Text: f.Text, Contact: f.Contact,
			PlatformRef: f.PlatformRef, FiledAt: filed, DeadlineAt: deadline})
		if err := record(ctx, tx, c, e); err != nil {
			return err
		}
		ap = c.AppealOf(e.Seq)
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("appeal against %s: %w", f.PUID, err)
	}
	return c, ap, nil
}

// appellantActor is who an appeal_received records: the public (by the link) or the
// platform (in-app).
func appellantActor(f AppealFiling) docket.Actor {
	if f.Channel == docket.AppealChannelPlatform {
		return docket.ActorPlatform
	}
	return docket.ActorPublic
}

// AppealView is what the holder of an appeal link sees of the decision and of their
// appeals: the statement of reasons (public: it goes to the EU Transparency Database), when
// the action took effect and until when it may be contested, and each appeal's answer.
type AppealView struct {
	Decision     string                     `json:"decision"`
	Appellant    string                     `json:"appellant"`
	Op           string                     `json:"op"`
	Statement    *docket.StatementOfReasons `json:"statement"`
	EffectiveAt  *docket.Time               `json:"effective_at,omitempty"`
	AppealsUntil *docket.Time               `json:"appeals_until,omitempty"`
	Open         bool                       `json:"open"` // an appeal may be filed now
	Reverted     *docket.Time               `json:"reverted_at,omitempty"`
	Appeals      []PublicAppeal             `json:"appeals"`
	Bodies       []docket.DisputeBody       `json:"dispute_bodies"`
}

// PublicAppeal is one appeal as its appellant sees it.
type PublicAppeal struct {
	Channel    string               `json:"channel"`
	Text       string               `json:"text"`
	ReceivedAt time.Time            `json:"received_at"`
	DeadlineAt time.Time            `json:"deadline_at"`
	State      string               `json:"state"`
	DecidedAt  *docket.Time         `json:"decided_at,omitempty"`
	Answer     string               `json:"answer,omitempty"`
	Bodies     []docket.DisputeBody `json:"dispute_bodies,omitempty"`
}

// AppealStatus returns what appellant (as their token said) sees of decision puid.
func (s *Service) AppealStatus(ctx context.Context, puid, appellant string) (*AppealView, error) {
	caseID, ok := caseOfPUID(puid)
	if !ok {
		return nil, docket.Errorf(docket.ENOTFOUND, "No decision has the reference %q.", puid)
	}
	c, err := s.store.Case(ctx, caseID)
	if isNotFound(err) {
		return nil, docket.Errorf(docket.ENOTFOUND, "No decision has the reference %q.", puid)
	} else if err != nil {
		return nil, fmt.Errorf("appeal status of %s: %w", puid, err)
	}
	a := c.ActionByPUID(puid)
	if a == nil || !docket.ContentOp(a.Op) {
		return nil, docket.Errorf(docket.ENOTFOUND, "No decision has the reference %q.", puid)
	}
	v := &AppealView{Decision: puid, Appellant: appellant, Op: a.Op, Statement: a.Statement, Reverted: a.RevertedAt,
		Appeals: []PublicAppeal{}, Bodies: s.DisputeBodies()}
	if a.Status == docket.ActionDoneStatus && a.EffectiveAt != nil {
		v.EffectiveAt, v.AppealsUntil = a.EffectiveAt, docket.OptTime(docket.AppealCloses(a.EffectiveAt.Time))
		v.Open = a.RevertedBy == 0 && !s.Now().After(v.AppealsUntil.Time) &&
			(appellant == docket.AppellantUser || c.Channel == docket.ChannelNotice)
	}
	for _, p := range c.Appeals {
		if p.Action != a.Seq || p.Appellant != appellant {
			continue
		}
		v.Open = false
		pa := PublicAppeal{Channel: p.Channel, Text: p.Text, ReceivedAt: p.ReceivedAt, DeadlineAt: p.DeadlineAt, State: p.State, DecidedAt: p.DecidedAt}
		if p.State != docket.AppealOpen {
			pa.Answer, pa.Bodies = AppealAnswer(a, &p), p.Bodies
		}
		v.Appeals = append(v.Appeals, pa)
	}
	return v, nil
}

// AppealAnswer is the answer to a decided appeal, as the appellant receives it: the outcome,
// what it does, the reasons and the out-of-court dispute settlement bodies (art. 21).
func AppealAnswer(a *docket.CaseAction, p *docket.Appeal) string {
	var b strings.Builder
	if p.State == docket.AppealUpheld {
		what := map[string]string{docket.OpRestore: "the content is restored", docket.OpReinstate: "the account is reinstated"}[docket.RevertOp(a.Op)]
		fmt.Fprintf(&b, "Your appeal against the decision %s is upheld: the decision is reversed and %s.\n\n", p.PUID, what)
	} else {
		fmt.Fprintf(&b, "Your appeal against the decision %s is rejected: the decision stands.\n\n", p.PUID)
	}
	fmt.Fprintf(&b, "Reasons: %s\n\nThis decision was taken by a person who took no part in the decision you contested, not by automated means.\n\n", p.Reasons)
	b.WriteString(docket.DisputeBodiesText(p.Bodies))
	return b.String()
}

func checkDecideAppeal(_ *docket.User, a Action) error {
	if a.Appeal <= 0 {
		return invalidField("appeal", "is required (the seq of the appeal_received event)")
	}
	if a.Outcome != docket.AppealUpheld && a.Outcome != docket.AppealRejected {
		return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field outcome must be upheld or rejected, not %q.", a.Outcome), Fields: map[string]string{"outcome": "invalid"}}
	}
	if strings.TrimSpace(a.Text) == "" {
		return invalidField("text", "is required: the reasons given to the appellant")
	}
	if utf8.RuneCountInString(a.Text) > MaxAppealText {
		return invalidField("text", fmt.Sprintf("must be at most %d characters", MaxAppealText))
	}
	return nil
}

// decideAppeal records the decision on an appeal, in one transaction: appeal_decided (whose
// application refuses a decider who took part in the decision contested, or automation);
// when upheld, the action that reverts the contested one on the platform (restore,
// reinstate) with a new statement of reasons, queued for the platform; for an in-app appeal,
// the answer sent back through the platform (notify_user naming the platform's appeal).
func (s *Service) decideAppeal(ctx context.Context, u *docket.User, caseID string, act Action) (*docket.Case, *docket.Event, error) {
	var c *docket.Case
	var ev *docket.Event
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		var err error
		c, err = tx.Case(ctx, caseID)
		if isNotFound(err) {
			return notFound("case")
		} else if err != nil {
			return err
		}
		actor := docket.UserActor(u.ID)
		if err := c.CheckAppealDecider(act.Appeal, actor); err != nil {
			return err
		}
		if c.Policy && u.Role != docket.RolePolicy {
			return docket.Errorf(docket.EFORBIDDEN, "This case is in the policy queue: only a policy reviewer may decide an appeal against its decision.")
		}
		ap := c.AppealOf(act.Appeal)
		orig := c.Action(ap.Action)
		now := s.Now().Truncate(time.Microsecond)
		newEvent := func(typ docket.EventType, data any) *docket.Event {
			return docket.NewEvent(c.ID, typ, actor, now, data)
		}
		ev = newEvent(docket.EventAppealDecided, docket.AppealDecided{Appeal: ap.Seq, Outcome: string(act.Outcome),
			Reasons: strings.TrimSpace(act.Text), Bodies: s.DisputeBodies()})
		if err := record(ctx, tx, c, ev); err != nil {
			return err
		}
		ap = c.AppealOf(act.Appeal)
		var answerStatement *docket.StatementOfReasons = orig.Statement
		if ap.State == docket.AppealUpheld && orig.Status == docket.ActionDoneStatus && orig.RevertedBy == 0 && c.Reverting(orig.Seq) == nil {
			key := fmt.Sprintf("docket-%s-%d", c.ID, len(c.Actions)+1)
			st := revertStatement(orig, ap, key, now)
			d := docket.ActionRequested{Op: docket.RevertOp(orig.Op), Target: orig.Target, Countries: orig.Countries,
				Statement: st, Key: key, Reverts: orig.Seq, Appeal: ap.Seq, Reason: "appeal " + fmt.Sprint(ap.Seq) + " upheld"}
			e := newEvent(docket.EventActionRequested, d)
			if err := record(ctx, tx, c, e); err != nil {
				return err
			}
			if err := s.followUp(ctx, tx, c, e, c.Emergency); err != nil {
				return err
			}
			answerStatement = st
		}
		if ap.Channel == docket.AppealChannelPlatform && ap.PlatformRef != "" {
			d := docket.ActionRequested{Op: docket.OpNotify, Target: orig.Target, Statement: answerStatement,
				Reason: AppealAnswer(orig, ap), PlatformAppeal: ap.PlatformRef, Key: fmt.Sprintf("docket-%s-%d", c.ID, len(c.Actions)+1)}
			e := newEvent(docket.EventActionRequested, d)
			if err := record(ctx, tx, c, e); err != nil {
				return err
			}
			if err := s.followUp(ctx, tx, c, e, c.Emergency); err != nil {
				return err
			}
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s on case %s: %w", act.Type, caseID, err)
	}
	s.wake()
	return c, ev, nil
}

// revertStatement is the new statement of reasons of an action that reverts orig after the
// appeal ap was upheld (DSA art. 20(4)): the same grounds, named as reviewed; the reasons of
// the appeal's decision; the restriction lifted.
func revertStatement(orig *docket.CaseAction, ap *docket.Appeal, key string, now time.Time) *docket.StatementOfReasons {
	st := *orig.Statement
	st.PUID = key
	st.DecisionVisibility, st.DecisionAccount, st.TerritorialScope, st.EndDate = nil, "", nil, nil
	st.AutomatedDecision = "AUTOMATED_DECISION_NOT_AUTOMATED"
	st.Explanation = truncate(fmt.Sprintf("On appeal (Regulation (EU) 2022/2065, art. 20), the decision %s was reviewed by a person who took no part in it and reversed on %s: %s",
		orig.Statement.PUID, now.Format("2006-01-02"), ap.Reasons), 2000)
	st.Facts = truncate(fmt.Sprintf("The %s of %s (decision %s) is lifted: the %s.", orig.Op, orig.EffectiveAt.Format("2006-01-02"), orig.Statement.PUID,
		map[string]string{docket.OpRestore: "content is restored", docket.OpReinstate: "account is reinstated"}[docket.RevertOp(orig.Op)]), 5000)
	st.Redress = truncate(docket.DisputeBodiesText(ap.Bodies), 2000)
	return &st
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
