// Package actions carries staff decisions out on the platform: it runs the jobs that call
// the platform connector for each requested action, seals preserved snapshots into holds
// and releases them when their time is up, builds disclosure packages encrypted to the
// requesting authority, and sends threat-to-life notices. Nothing is recorded as done before
// the platform confirms it; every attempt is an event on the case.
package actions

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/workflow"
)

// DefaultHold is how long a snapshot is held when the regime names no period: an operator
// default, not law.
const DefaultHold = 90 * 24 * time.Hour

// Carrier runs the platform jobs.
type Carrier struct {
	Service  *workflow.Service
	Store    docket.Store
	Platform docket.Platform
	Keeper   *evidence.Keeper
	// Mail sends threat notices; ThreatContacts maps a country code to the address of its
	// competent authority, with "*" as the fallback (Europol).
	Mail           docket.Mailer
	ThreatContacts map[string]string
	// PlatformName names the platform in notices.
	PlatformName string
	// PublicURL is the site's address as people reach it: the base of the appeal links
	// given to the platform with each action on content or an account (none when empty).
	PublicURL string
	// AppealsEvery is how often the appeals filed in the platform's app are collected
	// (default 30 s), when the platform takes them (docket.AppealInbox).
	AppealsEvery time.Duration
	Logger       *slog.Logger
}

// JobCollectAppeals collects the appeals filed in the platform's app (recurring).
const JobCollectAppeals = "platform.appeals"

// Register adds the jobs to a runner.
func (c *Carrier) Register(r *jobs.Runner) {
	r.Handle(workflow.JobPlatformAction, c.Action)
	r.Handle(workflow.JobHoldRelease, c.Release)
	if _, ok := c.Platform.(docket.AppealInbox); ok {
		r.Every(JobCollectAppeals, cmp.Or(c.AppealsEvery, 30*time.Second), c.CollectAppeals)
	}
}

func (c *Carrier) log() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// outcome is what an action produced, recorded with its action_done.
type outcome struct {
	res   *docket.ActionResult
	blobs []docket.Blob
	holds []docket.HoldPlaced
	pkg   *docket.PackageReady
	// posted is when the content acted on was published (its statement of reasons'
	// content_date), zero when the platform did not say.
	posted time.Time
}

// Action carries out one action_requested event.
func (c *Carrier) Action(ctx context.Context, j *docket.Job) error {
	var p workflow.ActionJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("action job payload: %w", err)
	}
	cs, err := c.Store.Case(ctx, p.CaseID)
	if err != nil {
		return fmt.Errorf("action %d: read case: %w", p.Seq, err)
	}
	a := cs.Action(p.Seq)
	if a == nil || a.Status != docket.ActionPending {
		return nil // done or failed for good already
	}
	req := &a.ActionRequested
	out, err := c.carry(ctx, cs, req)
	if err != nil {
		return c.failed(ctx, j, cs.ID, p.Seq, req.Op, err)
	}
	var refused error
	err = c.Service.Change(ctx, cs.ID, docket.ActorPlatform, func(tx docket.Tx, cs *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
		if out.pkg != nil {
			// The package is offered once recorded: the approval must cover it now, in
			// this transaction, and be the one its manifest names.
			if refused = workflow.MayRelease(ctx, tx, cs, workflow.Effect{Kind: workflow.EffectPackage, Target: &req.Target, Categories: req.Categories}); refused != nil {
				_, err := rec(docket.EventActionFailed, docket.ActionFailed{Action: p.Seq, Op: req.Op, Attempt: j.Attempts, Error: refused.Error(), Final: true})
				return err
			}
			if cs.Decision.ApprovalSeq != out.pkg.Approval {
				return fmt.Errorf("the approval changed while the package was built (approval %d, now %d): built again", out.pkg.Approval, cs.Decision.ApprovalSeq)
			}
		}
		for i := range out.blobs {
			if err := tx.InsertBlob(ctx, &out.blobs[i]); err != nil {
				return err
			}
		}
		for _, h := range out.holds {
			h.Action = p.Seq
			e, err := rec(docket.EventHoldPlaced, h)
			if err != nil {
				return err
			}
			if err := c.Service.QueueHoldRelease(ctx, tx, cs.ID, e.Seq, h.Until); err != nil {
				return err
			}
		}
		if out.pkg != nil {
			out.pkg.Action = p.Seq
			if _, err := rec(docket.EventPackageReady, out.pkg); err != nil {
				return err
			}
		}
		if _, err := rec(docket.EventActionDone, docket.ActionDone{Action: p.Seq, Op: req.Op, EffectiveAt: out.res.EffectiveAt.UTC(), Ref: out.res.Ref, Detail: out.res.Detail}); err != nil {
			return err
		}
		// The statement of reasons goes to the EU Transparency Database once the action
		// took effect: queued in this transaction.
		if err := c.Service.QueueStatement(ctx, tx, cs, p.Seq, out.posted); err != nil {
			return err
		}
		// A rule's decision is answered once the platform confirmed what it did.
		return workflow.AnswerAutomated(cs, rec)
	})
	if err != nil {
		return fmt.Errorf("record %s done: %w", req.Op, err)
	}
	if refused != nil {
		c.log().WarnContext(ctx, "disclosure refused at the moment of effect", slog.String("case", cs.ID), slog.Int64("action", p.Seq), slog.Any("err", refused))
		return nil
	}
	c.log().InfoContext(ctx, "action done", slog.String("case", cs.ID), slog.String("op", req.Op), slog.String("target", req.Target.Value))
	return nil
}

// failed records a failed attempt; the job retries unless the failure is final.
func (c *Carrier) failed(ctx context.Context, j *docket.Job, caseID string, seq int64, op string, cause error) error {
	var pe *docket.PlatformError
	var perm *permanentError
	final := (errors.As(cause, &pe) && pe.Permanent) || errors.As(cause, &perm) || j.Attempts >= j.MaxAttempts
	d := docket.ActionFailed{Action: seq, Op: op, Attempt: j.Attempts, Error: cause.Error(), Final: final}
	if !final {
		d.NextAt = docket.OptTime(c.Service.Now().Add(jobs.Backoff(j.Attempts)))
	}
	if err := c.Service.Record(ctx, caseID, docket.ActorPlatform, workflow.Entry{Type: docket.EventActionFailed, Data: d}); err != nil {
		return errors.Join(cause, err)
	}
	c.log().WarnContext(ctx, "action failed", slog.String("case", caseID), slog.String("op", op), slog.Int("attempt", j.Attempts), slog.Bool("final", final), slog.Any("err", cause))
	if final {
		return nil
	}
	return fmt.Errorf("%s on case %s: %w", op, caseID, cause)
}

// permanentError is a failure that retrying cannot mend (no contact configured…).
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func permanent(format string, args ...any) error {
	return &permanentError{fmt.Sprintf(format, args...)}
}

func (c *Carrier) carry(ctx context.Context, cs *docket.Case, req *docket.ActionRequested) (*outcome, error) {
	if c.Platform == nil && req.Op != docket.OpReportThreat {
		return nil, permanent("no platform connector is configured (platform_url)")
	}
	rg, _ := c.Service.Regimes().Lookup(cs.Regime)
	out := &outcome{}
	var err error
	switch req.Op {
	case docket.OpRemove, docket.OpRestrict, docket.OpSuspend, docket.OpTerminate:
		if req.Op == docket.OpRemove && rg != nil && rg.Keep > 0 {
			// Removed content is kept for the regime's period (TCO art. 6: six months).
			if _, err := c.preserve(ctx, req.Key+"-keep", req.Target, time.Duration(rg.Keep), 0, rg.ID+" (keep removed content)", out); err != nil {
				return nil, fmt.Errorf("preserve before removal: %w", err)
			}
		}
		out.posted = c.published(ctx, req.Target)
		out.res, err = c.Platform.Act(ctx, req.Key, docket.PlatformAction{Op: req.Op, Target: req.Target, Countries: req.Countries, Until: req.Until, Statement: req.Statement,
			AppealURL: c.appealURL(req.Statement)})
	case docket.OpRestore, docket.OpReinstate:
		// An upheld appeal reverts an action: the same idempotency key on every attempt,
		// so that a retry after a lost answer does not act twice.
		out.res, err = c.Platform.Act(ctx, req.Key, docket.PlatformAction{Op: req.Op, Target: req.Target, Countries: req.Countries, Statement: req.Statement})
	case docket.OpPreserve:
		hold, ext, basis := DefaultHold, time.Duration(0), "operator default (the regime names no period)"
		if rg != nil && rg.Hold > 0 {
			hold, ext, basis = time.Duration(rg.Hold), time.Duration(rg.HoldExtension), rg.ID
		} else if rg != nil && rg.Keep > 0 {
			hold, basis = time.Duration(rg.Keep), rg.ID
		}
		if _, err = c.preserve(ctx, req.Key, req.Target, hold, ext, basis, out); err == nil {
			h := out.holds[0]
			out.res = &docket.ActionResult{Status: "done", EffectiveAt: h.TakenAt, Detail: "snapshot " + h.SHA256 + " held until " + h.Until.Format(time.RFC3339)}
		}
	case docket.OpDisclose:
		err = c.disclose(ctx, cs, req, out)
	case docket.OpNotify:
		text := cmp.Or(req.Reason, "An action was taken on your content or account. The statement of reasons explains why and how to contest it.")
		out.res, err = c.Platform.Notify(ctx, req.Key, docket.UserNotice{Target: req.Target, Statement: req.Statement, Text: text, Appeal: req.PlatformAppeal})
	case docket.OpReportThreat:
		err = c.reportThreat(ctx, cs, req, out)
	default:
		err = permanent("unknown operation %q", req.Op)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// published asks the platform, before it acts, when the content was published: the
// statement of reasons' content_date. The platform may not say (an error, an unknown time):
// the action goes on and the statement falls back (see sor.FromAction).
func (c *Carrier) published(ctx context.Context, t docket.Target) time.Time {
	info, err := c.Platform.Lookup(ctx, t)
	if err != nil || info == nil || !info.Exists || info.CreatedAt == "" {
		c.log().DebugContext(ctx, "no time of publication for the statement of reasons", slog.String("target", t.Value), slog.Any("err", err))
		return time.Time{}
	}
	at, err := time.Parse(time.RFC3339Nano, info.CreatedAt)
	if err != nil {
		c.log().DebugContext(ctx, "unreadable time of publication", slog.String("created_at", info.CreatedAt), slog.Any("err", err))
		return time.Time{}
	}
	return at
}

// preserve takes a snapshot, seals it into out's blobs with a hold, and returns it.
func (c *Carrier) preserve(ctx context.Context, key string, t docket.Target, hold, ext time.Duration, basis string, out *outcome) (*docket.Snapshot, error) {
	if c.Keeper == nil {
		return nil, permanent("no evidence key is configured")
	}
	snap, err := c.Platform.Preserve(ctx, key, t)
	if err != nil {
		return nil, err
	}
	sealed, err := c.Keeper.Seal(snap.Data)
	if err != nil {
		return nil, err
	}
	blob := evidence.SHA256(sealed)
	out.blobs = append(out.blobs, docket.Blob{SHA256: blob, Data: sealed})
	taken := snap.TakenAt.UTC()
	if taken.IsZero() {
		taken = c.Service.Now()
	}
	out.holds = append(out.holds, docket.HoldPlaced{Target: t, SHA256: evidence.SHA256(snap.Data), Blob: blob, Size: len(snap.Data),
		TakenAt: taken, Until: c.Service.Now().Add(hold), Extension: docket.Duration(ext), Basis: basis})
	return snap, nil
}

func (c *Carrier) disclose(ctx context.Context, cs *docket.Case, req *docket.ActionRequested, out *outcome) error {
	if req.Recipient == "" {
		return permanent("the authority has no encryption key on record")
	}
	// An early refusal, before the platform's export: the check that counts is made again
	// in the transaction that records the package (see Action).
	reqs, err := c.Store.CaseRequests(ctx, cs.ID)
	if err != nil {
		return err
	}
	if err := workflow.Releasable(cs, reqs, workflow.Effect{Kind: workflow.EffectPackage, Target: &req.Target, Categories: req.Categories}); err != nil {
		return permanent("%s", docket.ErrorMessage(err))
	}
	x, err := c.Platform.Export(ctx, req.Key, docket.ExportRequest{Target: req.Target, Categories: req.Categories, From: req.From, To: req.To})
	if err != nil {
		return err
	}
	m := &evidence.Manifest{CaseID: cs.ID, Reference: cs.Reference, Regime: cs.Regime, Authority: cs.AuthorityID,
		Asked:   evidence.ManifestAsk{Target: req.Target, Categories: req.Categories, From: req.From, To: req.To},
		Missing: x.Missing, CreatedAt: c.Service.Now()}
	var approval int64
	if cs.Decision != nil {
		m.DecidedBy, m.ApprovedBy = cs.Decision.DecidedBy, cs.Decision.ApprovedBy
		approval = cs.Decision.ApprovalSeq
	}
	for _, r := range reqs {
		m.Requests = append(m.Requests, evidence.ManifestReq{ID: r.ID, SHA256: r.SHA256, ReceivedAt: r.ReceivedAt})
	}
	zip, err := evidence.Package(m, x.Items)
	if err != nil {
		return permanent("build package: %v", err)
	}
	enc, err := evidence.EncryptTo(req.Recipient, zip)
	if err != nil {
		return permanent("encrypt package: %v", err)
	}
	blob := evidence.SHA256(enc)
	out.blobs = append(out.blobs, docket.Blob{SHA256: blob, Data: enc})
	out.pkg = &docket.PackageReady{Blob: blob, SHA256: evidence.SHA256(zip), Size: len(enc), Items: len(x.Items), Recipient: req.Recipient, Approval: approval}
	out.res = &docket.ActionResult{Status: "done", EffectiveAt: c.Service.Now(), Ref: blob,
		Detail: fmt.Sprintf("package of %d item(s), encrypted to the authority", len(x.Items))}
	return nil
}

// reportThreat sends a proactive threat-to-life notice (DSA art. 18; TCO art. 14(5)) to the
// competent authority of the country concerned, or to the fallback (Europol): the content,
// its time of publication with time zone, the reason for suspicion and identifying data.
func (c *Carrier) reportThreat(ctx context.Context, cs *docket.Case, req *docket.ActionRequested, out *outcome) error {
	if c.Mail == nil || !c.Mail.Configured() {
		return permanent("no mail relay is configured (relay_addr): a threat notice cannot be sent")
	}
	if c.Platform == nil {
		return permanent("no platform connector is configured (platform_url)")
	}
	info, err := c.Platform.Lookup(ctx, req.Target)
	if err != nil {
		return err
	}
	if !info.Exists {
		return permanent("the platform does not know %s %q", req.Target.Kind, req.Target.Value)
	}
	snap, err := c.preserve(ctx, req.Key, req.Target, 365*24*time.Hour, 0, "threat-to-life notice (evidence kept one year)", out)
	if err != nil {
		return err
	}
	country := strings.ToUpper(req.Country)
	if country == "" {
		country = info.Country
	}
	to, via := c.ThreatContacts[country], country
	if to == "" {
		to, via = c.ThreatContacts["*"], "fallback (Europol)"
	}
	if to == "" {
		return permanent("no threat contact for %q and no fallback (\"*\") in threat_contacts", country)
	}
	h := out.holds[len(out.holds)-1]
	var b strings.Builder
	fmt.Fprintf(&b, "Notification of a suspected threat to life or safety (Regulation (EU) 2022/2065, art. 18; Regulation (EU) 2021/784, art. 14(5)).\n\n")
	fmt.Fprintf(&b, "Platform: %s\nOur reference: %s\nCountry concerned: %s\n\n", c.PlatformName, cs.ID, country)
	fmt.Fprintf(&b, "Content: %s %s\nPublished at: %s\nAccount: %s (country of the account: %s)\nPublic: %v\n\n", req.Target.Kind, req.Target.Value, info.CreatedAt, info.Owner, info.Country, info.Public)
	fmt.Fprintf(&b, "Reason for suspicion:\n%s\n\n", req.Reason)
	fmt.Fprintf(&b, "Snapshot of the content and identifying data (SHA-256 %s, taken %s, preserved one year):\n%s\n", h.SHA256, h.TakenAt.Format(time.RFC3339), snap.Data)
	id, sha, err := c.Mail.Mail(ctx, cs.ID, "threat", to, "Threat to life — notification from "+c.PlatformName+" ["+cs.ID+"]", b.String())
	if err != nil {
		return err
	}
	out.res = &docket.ActionResult{Status: "done", EffectiveAt: c.Service.Now(), Ref: id,
		Detail: fmt.Sprintf("notice sent to %s (%s), message SHA-256 %s", to, via, sha)}
	return nil
}

// Release ends a hold whose time is up: the sealed snapshot is deleted and the release
// recorded. A hold extended meanwhile is left for its later job.
func (c *Carrier) Release(ctx context.Context, j *docket.Job) error {
	var p workflow.HoldJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("hold job payload: %w", err)
	}
	return c.Service.Change(ctx, p.CaseID, docket.ActorClock, func(tx docket.Tx, cs *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
		h := cs.Hold(p.Hold)
		if h == nil || h.ReleasedAt != nil || c.Service.Now().Before(h.Until) {
			return nil
		}
		if err := tx.DeleteBlob(ctx, h.Blob); err != nil {
			return err
		}
		_, err := rec(docket.EventHoldReleased, docket.HoldReleased{Hold: h.Seq})
		return err
	})
}

// appealURL is the public appeal page of the decision st for the user it concerns.
func (c *Carrier) appealURL(st *docket.StatementOfReasons) string {
	if c.PublicURL == "" || st == nil {
		return ""
	}
	link := c.Service.AppealLink(docket.AppellantUser, st.PUID)
	if link == "" {
		return ""
	}
	return strings.TrimRight(c.PublicURL, "/") + link
}

// CollectAppeals files the appeals made in the platform's app (DSA art. 20) on the cases of
// the decisions they contest, and acknowledges each to the platform: received, or refused
// with the reason (too late, unknown decision…). An appeal filed again is recorded once
// (its platform id); one that could not be recorded for a passing reason is not
// acknowledged, and the platform offers it again next time.
func (c *Carrier) CollectAppeals(ctx context.Context, _ *docket.Job) error {
	inbox, ok := c.Platform.(docket.AppealInbox)
	if !ok {
		return nil
	}
	var acks []docket.AppealAck
	for range 20 { // bounded: a platform that keeps offering is asked again next time
		appeals, err := inbox.Appeals(ctx, acks)
		if err != nil {
			return fmt.Errorf("collect in-app appeals: %w", err)
		}
		if len(appeals) == 0 {
			return nil
		}
		acks = nil
		var passing error
		for _, p := range appeals {
			_, ap, err := c.Service.FileAppeal(ctx, workflow.AppealFiling{PUID: p.PUID, Appellant: cmp.Or(p.Appellant, docket.AppellantUser),
				Channel: docket.AppealChannelPlatform, Text: p.Text, PlatformRef: p.ID, FiledAt: p.FiledAt})
			switch code := docket.ErrorCode(err); {
			case err == nil:
				acks = append(acks, docket.AppealAck{ID: p.ID, Status: "received", Detail: "to be decided by " + ap.DeadlineAt.Format(time.RFC3339)})
				c.log().InfoContext(ctx, "in-app appeal received", slog.String("appeal", p.ID), slog.String("decision", p.PUID))
			case code == docket.EINTERNAL || code == docket.EUNAVAILABLE:
				passing = errors.Join(passing, err)
			default:
				acks = append(acks, docket.AppealAck{ID: p.ID, Status: "refused", Detail: docket.ErrorMessage(err)})
				c.log().InfoContext(ctx, "in-app appeal refused", slog.String("appeal", p.ID), slog.String("decision", p.PUID), slog.String("code", code))
			}
		}
		if passing != nil {
			if len(acks) > 0 {
				_, _ = inbox.Appeals(ctx, acks) // what was recorded is acknowledged; the rest waits
			}
			return fmt.Errorf("collect in-app appeals: %w", passing)
		}
		if len(acks) == 0 {
			return nil
		}
	}
	return nil
}
