package workflow

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sor"
)

// Trusted flaggers (DSA art. 22) and the misuse of notices (DSA art. 23). See flagger.go in
// the root package for what is kept, and docs/OPERATIONS.md#trusted-flaggers for the rules.

// RegimeTrustedFlagger is the regime of a trusted flagger's notice while its status is in
// effect: the notice of art. 16 with the shorter clock and the higher priority of art. 22
// (regimes.json; an operator may change both). Without it in the regime table, a trusted
// flagger's notice keeps dsa-art16 and only its case's mark tells it apart.
const RegimeTrustedFlagger = "dsa-art22"

// MisuseConfig is the rule of DSA art. 23: a notifier at least MinManifest of whose notices
// assessed within Window were found manifestly unfounded, making up at least Rate of them,
// is warned; if it goes on (a further manifestly unfounded notice while over both marks,
// within Window of the warning) the processing of its notices is suspended for Suspension.
// After a suspension a new warning is needed before the next one.
type MisuseConfig struct {
	Window      time.Duration
	MinManifest int
	Rate        float64
	Suspension  time.Duration
	// Off turns the rule off: notices are still assessed and counted.
	Off bool
}

// withDefaults fills zero fields: 90 days, 5 notices, half of them, 30 days.
func (m MisuseConfig) withDefaults() MisuseConfig {
	m.Window = cmp.Or(m.Window, 90*24*time.Hour)
	m.MinManifest = cmp.Or(m.MinManifest, 5)
	m.Rate = cmp.Or(m.Rate, 0.5)
	m.Suspension = cmp.Or(m.Suspension, 30*24*time.Hour)
	return m
}

// Misuse returns the rule of DSA art. 23 in use.
func (s *Service) Misuse() MisuseConfig { return s.misuse }

// FlaggerSpec is what a new trusted flagger is made of.
type FlaggerSpec struct {
	Name        string
	Coordinator string
	Reference   string
	Areas       []string
	Email       string
}

// RegisterFlagger registers a trusted flagger, recorded as a flagger_registered event in the
// same transaction, and returns it with its API token (prefix dkf_), shown once.
func (s *Service) RegisterFlagger(ctx context.Context, by docket.Actor, spec FlaggerSpec) (*docket.Flagger, string, error) {
	f := &docket.Flagger{
		Name: strings.TrimSpace(spec.Name), Coordinator: strings.TrimSpace(spec.Coordinator),
		Reference: strings.TrimSpace(spec.Reference), Email: strings.ToLower(strings.TrimSpace(spec.Email)),
		Status: docket.FlaggerActive, Areas: []string{},
	}
	bad := func(field, msg string) error {
		return &docket.Error{Code: docket.EINVALID, Message: msg, Fields: map[string]string{field: "invalid"}}
	}
	for _, a := range spec.Areas {
		a = strings.ToUpper(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if !strings.HasPrefix(a, "STATEMENT_CATEGORY_") {
			a = "STATEMENT_CATEGORY_" + a
		}
		if !slices.Contains(sor.Categories, a) {
			return nil, "", bad("areas", fmt.Sprintf("Unknown DSA category %q: areas are among %s.", a, strings.Join(sor.Categories, ", ")))
		}
		if !slices.Contains(f.Areas, a) {
			f.Areas = append(f.Areas, a)
		}
	}
	switch {
	case f.Name == "" || len(f.Name) > 200:
		return nil, "", bad("name", "A trusted flagger needs a name (at most 200 characters).")
	case f.Coordinator == "" || len(f.Coordinator) > 200:
		return nil, "", bad("coordinator", "Name the Digital Services Coordinator that awarded the status (at most 200 characters), for example \"Arcom (FR)\".")
	case len(f.Reference) > 200:
		return nil, "", bad("reference", "The reference of the coordinator's decision is at most 200 characters.")
	case len(f.Areas) == 0:
		return nil, "", bad("areas", "Give the areas of expertise the status was awarded for: DSA categories such as PROTECTION_OF_MINORS.")
	case f.Email != "" && !strings.Contains(f.Email, "@"):
		return nil, "", bad("email", "Field email is not an e-mail address.")
	}
	f.ID, f.CreatedBy, f.CreatedAt = docket.NewID(), by, s.Now()
	token, hash := docket.NewToken("dkf")
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		e := docket.NewEvent("", docket.EventFlaggerRegistered, by, f.CreatedAt, docket.FlaggerRegistered{Flagger: *f, TokenHash: hash})
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
		f.ChangedSeq = e.Seq
		return tx.InsertFlagger(ctx, f, hash)
	})
	if err != nil {
		return nil, "", fmt.Errorf("register flagger: %w", err)
	}
	return f, token, nil
}

// FlaggerChange is a change of a trusted flagger: a new status (active, suspended with
// Until, revoked) with its Reason, and/or a new API token.
type FlaggerChange struct {
	Status      string
	Until       time.Time
	Reason      string
	RotateToken bool
}

// ChangeFlagger changes a trusted flagger's status or token, recorded as a flagger_changed
// event in the same transaction. It returns the new token, shown once, when one was made.
// A revoked flagger stays revoked: its status comes from the coordinator, which awards it
// anew (register it again).
func (s *Service) ChangeFlagger(ctx context.Context, by docket.Actor, id string, ch FlaggerChange) (string, error) {
	now := s.Now()
	ch.Reason = strings.TrimSpace(ch.Reason)
	switch ch.Status {
	case "":
		if !ch.RotateToken {
			return "", docket.Errorf(docket.EINVALID, "Nothing to change: give a status or ask for a new token.")
		}
	case docket.FlaggerActive, docket.FlaggerRevoked:
	case docket.FlaggerSuspended:
		if !ch.Until.After(now) {
			return "", &docket.Error{Code: docket.EINVALID, Message: "A suspension needs an end in the future (until).", Fields: map[string]string{"until": "invalid"}}
		}
	default:
		return "", &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Unknown status %q: active, suspended or revoked.", ch.Status), Fields: map[string]string{"status": "invalid"}}
	}
	if ch.Status != "" && ch.Reason == "" {
		return "", &docket.Error{Code: docket.EINVALID, Message: "Say why the status changes (reason): the coordinator's decision, an investigation…", Fields: map[string]string{"reason": "required"}}
	}
	var token, hash string
	if ch.RotateToken {
		token, hash = docket.NewToken("dkf")
	}
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		f, err := tx.Flagger(ctx, id)
		if err != nil {
			return err
		}
		if f.Status == docket.FlaggerRevoked {
			return docket.Errorf(docket.ESTATE, "Trusted flagger %s was revoked: register it again if a coordinator awards the status anew.", f.Name)
		}
		d := docket.FlaggerChanged{ID: f.ID, Name: f.Name, Status: ch.Status, Reason: ch.Reason, TokenHash: hash}
		if ch.Status == docket.FlaggerSuspended {
			d.Until = &docket.Time{Time: ch.Until.UTC().Truncate(time.Microsecond)}
		}
		e := docket.NewEvent("", docket.EventFlaggerChanged, by, now, d)
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
		f.ApplyChange(&d, e.Seq)
		return tx.UpdateFlagger(ctx, f, hash)
	})
	if isNotFound(err) {
		return "", notFound("trusted flagger")
	} else if err != nil {
		return "", fmt.Errorf("change flagger %s: %w", id, err)
	}
	return token, nil
}

// markFlagger makes a trusted flagger's notice one at receipt: the notifier names the
// flagger and, while its status is in effect, the notice is trusted and falls under
// RegimeTrustedFlagger. The flagger is read afresh, not from the token cache, so that a
// suspension or a revocation counts from its commit.
func (s *Service) markFlagger(ctx context.Context, sub *Submission) error {
	f, err := s.store.Flagger(ctx, sub.Flagger.ID)
	if err != nil {
		return fmt.Errorf("read trusted flagger %s: %w", sub.Flagger.ID, err)
	}
	if f.Status == docket.FlaggerRevoked {
		return docket.Errorf(docket.EUNAUTHORIZED, "The token is not valid: the trusted-flagger status was revoked. Send notices without a token.")
	}
	n := docket.Notifier{}
	if sub.Body.Notifier != nil {
		n = *sub.Body.Notifier
	}
	n.FlaggerID, n.Trusted = f.ID, f.Trusted(sub.ReceivedAt)
	sub.Body.Notifier = &n
	if _, ok := s.regimes.Lookup(RegimeTrustedFlagger); ok && n.Trusted && sub.Body.Regime == "dsa-art16" {
		sub.Body.Regime = RegimeTrustedFlagger
	}
	return nil
}

// trustedFlagger returns the trusted flagger whose notice req is, when it was trusted at
// receipt.
func trustedFlagger(req *docket.Request) string {
	if n := req.Body.Notifier; n != nil && n.Trusted {
		return n.FlaggerID
	}
	return ""
}

// Unprocessed tells a notifier whose notices are suspended (DSA art. 23) that its notice
// was received and kept but closed without review.
type Unprocessed struct {
	Until     time.Time `json:"suspended_until"`
	Statement string    `json:"statement"`
}

// suspendedStatement is the answer of a notice received during its notifier's suspension.
func suspendedStatement(until time.Time) string {
	return fmt.Sprintf("Your notice was received and is kept, but it was not reviewed: under Article 23 of the Digital Services Act, "+
		"the processing of notices from you is suspended until %s (UTC), because after a prior warning you went on sending notices "+
		"that were manifestly unfounded. Notices you send after that time are processed as usual. If you think this suspension is "+
		"wrong, write to the platform: a person will look at it.", until.UTC().Format("2006-01-02 15:04"))
}

// standings reads, in one query inside the intake transaction, what is kept of the
// notifiers of a batch's notices.
func standings(ctx context.Context, tx docket.Tx, batch []*pending) (map[string]*docket.NotifierStanding, error) {
	var keys []string
	for _, p := range batch {
		if p.req.Channel != docket.ChannelNotice {
			continue
		}
		if k := docket.NotifierKey(p.req.Body.Notifier); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return tx.Notifiers(ctx, keys)
}

// closeSuspended returns the events that close, unreviewed, a notice received while its
// notifier's notices are suspended: a decision (not actionable, notifier_suspended) and
// the answer that tells the notifier why. An emergency is not closed: a threat to a life is
// looked at whoever reports it, and a comment on the case says the notifier is suspended.
func closeSuspended(c *docket.Case, n *docket.NotifierStanding, at time.Time) []*docket.Event {
	if c.Emergency {
		return []*docket.Event{docket.NewEvent(c.ID, docket.EventCommented, docket.ActorMisuse, at, docket.Commented{
			Text: fmt.Sprintf("The processing of this notifier's notices is suspended until %s (DSA art. 23); this notice is processed all the same because it reports a risk to a life.", n.SuspendedUntil.Format(time.RFC3339)),
		})}
	}
	if c.State != docket.StateOpen {
		return nil // closed at receipt already (a rule closed it as spam)
	}
	statement := suspendedStatement(n.SuspendedUntil)
	return []*docket.Event{
		docket.NewEvent(c.ID, docket.EventDecided, docket.ActorMisuse, at, docket.Decided{Decision: docket.Decision{
			Outcome: docket.OutcomeNotActionable, ReasonCode: docket.ReasonNotifierSuspended, Statement: statement,
			DecidedBy: "misuse", DecidedAt: at,
		}}),
		docket.NewEvent(c.ID, docket.EventAnswered, docket.ActorMisuse, at, docket.Answered{Text: statement}),
	}
}

// assessNotices records, when a person's answer closes a case of notices, what it made of
// each notice (a notice_assessed event and its rows), counts them per notifier, and applies
// the rule of DSA art. 23 to the notifiers of manifestly unfounded ones. It runs in the
// answer's transaction.
func (s *Service) assessNotices(ctx context.Context, tx docket.Tx, c *docket.Case, answered *docket.Event) error {
	if c.State != docket.StateAnswered || c.Decision == nil || !strings.HasPrefix(string(answered.Actor), "user:") {
		return nil
	}
	var outcome string
	switch c.Decision.Outcome {
	case docket.OutcomeComply, docket.OutcomePartial:
		outcome = docket.NoticeActioned
	case docket.OutcomeRefuse, docket.OutcomeNotActionable:
		outcome = docket.NoticeUnfounded
	default:
		return nil
	}
	manifest := outcome == docket.NoticeUnfounded && c.Decision.ReasonCode == docket.ReasonManifestlyUnfounded
	reqs, err := tx.CaseRequests(ctx, c.ID)
	if err != nil {
		return err
	}
	d := docket.NoticeAssessed{CaseID: c.ID, Answer: answered.Seq, Outcome: outcome, Manifest: manifest}
	var keys []string
	for _, r := range reqs {
		if r.Channel != docket.ChannelNotice {
			continue
		}
		key := docket.NotifierKey(r.Body.Notifier)
		if key == "" {
			continue
		}
		d.Notices = append(d.Notices, docket.AssessedNotice{RequestID: r.ID, Notifier: key, FlaggerID: r.Body.Notifier.FlaggerID})
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	if len(d.Notices) == 0 {
		return nil
	}
	e := docket.NewEvent("", docket.EventNoticeAssessed, docket.ActorMisuse, answered.At, d)
	if err := tx.Append(ctx, e); err != nil {
		return err
	}
	rows := make([]docket.NoticeAssessment, len(d.Notices))
	for i, n := range d.Notices {
		rows[i] = docket.NoticeAssessment{RequestID: n.RequestID, CaseID: c.ID, Notifier: n.Notifier, FlaggerID: n.FlaggerID,
			Outcome: outcome, Manifest: manifest, Seq: e.Seq, At: e.At}
	}
	if err := tx.InsertAssessments(ctx, rows); err != nil {
		return err
	}
	known, err := tx.Notifiers(ctx, keys)
	if err != nil {
		return err
	}
	for _, key := range keys {
		n := known[key]
		if n == nil {
			n = &docket.NotifierStanding{Key: key}
		}
		for _, a := range d.Notices {
			if a.Notifier == key {
				n.ApplyAssessed(&d, a.FlaggerID, e.Seq)
			}
		}
		if manifest && !s.misuse.Off {
			if err := s.applyMisuseRule(ctx, tx, n, e.At); err != nil {
				return err
			}
		}
		if err := tx.PutNotifier(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// applyMisuseRule warns, or suspends, a notifier over the marks of the rule (MisuseConfig),
// each an event outside any case, recorded on n.
func (s *Service) applyMisuseRule(ctx context.Context, tx docket.Tx, n *docket.NotifierStanding, now time.Time) error {
	m := s.misuse
	if n.Suspended(now) {
		return nil
	}
	assessed, manifest, err := tx.RecentAssessments(ctx, n.Key, now.Add(-m.Window))
	if err != nil {
		return err
	}
	if manifest < m.MinManifest || float64(manifest) < m.Rate*float64(assessed) {
		return nil
	}
	figures := docket.MisuseFigures{Window: docket.Duration(m.Window), Assessed: assessed, Manifest: manifest}
	if !n.Warned() || now.Sub(n.WarnedAt) > m.Window {
		d := docket.NotifierWarned{Notifier: n.Key, FlaggerID: n.FlaggerID, MisuseFigures: figures,
			Text: fmt.Sprintf("Warning under Article 23 of the Digital Services Act: %d of the %d notices of yours that the platform decided on in the last %d days were manifestly unfounded. "+
				"If you go on sending manifestly unfounded notices, the processing of your notices will be suspended for %d days.",
				manifest, assessed, int(m.Window.Hours()/24), int(m.Suspension.Hours()/24))}
		e := docket.NewEvent("", docket.EventNotifierWarned, docket.ActorMisuse, now, d)
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
		n.ApplyWarned(e)
		s.log.InfoContext(ctx, "notifier warned (DSA art. 23)", "notifier", n.Key, "manifest", manifest, "assessed", assessed)
		return nil
	}
	until := now.Add(m.Suspension).Truncate(time.Microsecond)
	d := docket.NotifierSuspended{Notifier: n.Key, FlaggerID: n.FlaggerID, Warning: n.WarnedSeq, Until: until, MisuseFigures: figures,
		Text: fmt.Sprintf("Under Article 23 of the Digital Services Act, after the warning of %s, the processing of your notices is suspended until %s (UTC): "+
			"%d of the %d notices of yours decided on in the last %d days were manifestly unfounded. Notices you send meanwhile are kept but not reviewed.",
			n.WarnedAt.UTC().Format("2006-01-02"), until.UTC().Format("2006-01-02 15:04"), manifest, assessed, int(m.Window.Hours()/24))}
	e := docket.NewEvent("", docket.EventNotifierSuspended, docket.ActorMisuse, now, d)
	if err := tx.Append(ctx, e); err != nil {
		return err
	}
	n.ApplySuspended(e, until)
	s.log.InfoContext(ctx, "notifier suspended (DSA art. 23)", "notifier", n.Key, "until", until)
	return nil
}
