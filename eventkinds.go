package docket

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// eventKind is how one type of case event is read and what it does to a case: decode
// returns its typed data (nil: it carries nothing Apply needs), apply changes the case.
type eventKind struct {
	decode func(json.RawMessage) (any, error)
	apply  func(c *Case, e *Event, data any) error
}

// with registers a type of event whose data is a D.
func with[D any](apply func(c *Case, e *Event, d *D) error) eventKind {
	return eventKind{
		decode: func(raw json.RawMessage) (any, error) {
			d := new(D)
			if err := json.Unmarshal(raw, d); err != nil {
				return nil, err
			}
			return d, nil
		},
		apply: func(c *Case, e *Event, data any) error { return apply(c, e, data.(*D)) },
	}
}

// bare registers a type of event whose data Apply does not read.
func bare(apply func(c *Case, e *Event) error) eventKind {
	return eventKind{apply: func(c *Case, e *Event, _ any) error { return apply(c, e) }}
}

// history registers a type of event that changes nothing but the case's history.
var history = bare(func(*Case, *Event) error { return nil })

// platform registers an event of the platform part (applyPlatform) whose data is a D.
func platform[D any]() eventKind {
	return with(func(c *Case, e *Event, d *D) error { return c.applyPlatform(e, d) })
}

// eventKinds is the one registry of case event types: DecodeEvent and ApplyDecoded, and so
// Apply and the audit's replay, read it. An event type missing here cannot be applied.
var eventKinds = map[EventType]eventKind{
	EventCaseOpened: with(func(c *Case, e *Event, d *CaseOpened) error {
		if c.ID != "" {
			return fmt.Errorf("apply event %d: case %s opened twice", e.Seq, e.CaseID)
		}
		*c = Case{
			ID: e.CaseID, State: StateOpen, Regime: d.Regime, Kind: d.Kind, Channel: d.Channel,
			AuthorityID: d.AuthorityID, Country: d.Country, Reference: d.Reference,
			Emergency: d.Emergency, Sender: d.Sender, Queue: d.Queue, Priority: d.Priority, Discloses: d.Discloses,
			PauseOnNeedInfo: d.PauseOnNeedInfo, ReceivedAt: d.ReceivedAt.UTC(),
			DeadlineAt: d.DeadlineAt.orZero(), DueSoonAt: d.DueSoonAt.orZero(), SplitFrom: d.SplitFrom,
			TrustedFlagger: d.TrustedFlagger,
		}
		return nil
	}),
	EventRequestReceived: with(func(c *Case, e *Event, d *RequestReceived) error {
		// The request row carries its content; the event fixes its hash in the chain.
		c.applyJoined(d.DeadlineAt, d.DueSoonAt, d.Emergency, d.Discloses, d.Unverified)
		if d.TrustedFlagger != "" && c.TrustedFlagger == "" {
			c.TrustedFlagger = d.TrustedFlagger
		}
		return nil
	}),
	EventAssigned: with(func(c *Case, e *Event, d *Assigned) error {
		c.AssigneeID = d.AssigneeID
		return nil
	}),
	EventCommented: history,
	EventDecided: with(func(c *Case, e *Event, d *Decided) error {
		dec := d.Decision
		c.Decision = &dec
		c.State = StateDecided
		if dec.NeedsApproval {
			c.State = StateAwaitingApproval
		}
		return nil
	}),
	EventApproved: with(func(c *Case, e *Event, d *Approved) error {
		if c.Decision == nil {
			return fmt.Errorf("apply event %d: approval without a decision", e.Seq)
		}
		c.Decision.ApprovedBy = actorID(e.Actor)
		c.Decision.ApprovedAt = &Time{e.At}
		if d.Coverage != nil {
			c.Decision.Coverage, c.Decision.ApprovalSeq = d.Coverage, e.Seq
		}
		c.State = StateDecided
		return nil
	}),
	EventApprovalVoided: with(func(c *Case, e *Event, d *ApprovalVoided) error {
		if c.Decision == nil {
			return fmt.Errorf("apply event %d: approval voided without a decision", e.Seq)
		}
		c.Decision.ApprovedBy, c.Decision.ApprovedAt = "", nil
		c.Decision.Coverage, c.Decision.ApprovalSeq = nil, 0
		c.Decision.NeedsApproval = true
		c.State = StateAwaitingApproval
		return nil
	}),
	EventApprovalRejected: bare(func(c *Case, e *Event) error {
		c.Decision = nil
		c.State = StateOpen
		return nil
	}),
	EventAnswered: with(func(c *Case, e *Event, d *Answered) error {
		c.Answer = &Answer{Text: d.Text, AnsweredBy: actorID(e.Actor), AnsweredAt: e.At}
		c.State = StateAnswered
		if c.Decision != nil && c.Decision.Outcome == OutcomeNeedInfo {
			c.State = StateAwaitingRequester
			if d.PausesClock {
				c.PausedAt = e.At
			}
		}
		return nil
	}),
	EventRequesterReplied: with(func(c *Case, e *Event, d *RequesterReplied) error {
		c.DeadlineAt, c.DueSoonAt = d.DeadlineAt.orZero(), d.DueSoonAt.orZero()
		c.PausedAt = time.Time{}
		c.State = StateOpen
		c.Decision = nil
		c.Answer = nil
		if c.DueSoonAt.After(e.At) {
			c.DueSoon = false
		}
		if c.DeadlineAt.After(e.At) {
			c.Overdue = false
		}
		return nil
	}),
	EventTriaged:   with(func(c *Case, e *Event, d *Triaged) error { c.applyTriage(e, d); return nil }),
	EventRetriaged: with(func(c *Case, e *Event, d *Triaged) error { c.applyTriage(e, d); return nil }),
	EventAcknowledged: bare(func(c *Case, e *Event) error {
		if c.AcknowledgedAt.IsZero() {
			c.AcknowledgedAt = e.At
		}
		return nil
	}),
	EventSenderVerified: with(func(c *Case, e *Event, d *SenderVerified) error {
		c.SenderVerified = d
		return nil
	}),
	EventMerged: with(func(c *Case, e *Event, d *Merged) error { c.applyMerged(d); return nil }),
	EventMergedInto: with(func(c *Case, e *Event, d *MergedInto) error {
		c.MergedInto = d.Into
		c.State = StateMerged
		return nil
	}),
	EventSplit: with(func(c *Case, e *Event, d *Split) error {
		c.SplitTo = append(c.SplitTo, d.To)
		return nil
	}),
	// Delivery attempts are history only.
	EventMailSent:   history,
	EventMailFailed: history,

	EventActionRequested:   platform[ActionRequested](),
	EventActionDone:        platform[ActionDone](),
	EventActionFailed:      platform[ActionFailed](),
	EventHoldPlaced:        platform[HoldPlaced](),
	EventHoldExtended:      platform[HoldExtended](),
	EventHoldReleased:      platform[HoldReleased](),
	EventPackageReady:      platform[PackageReady](),
	EventPackageDownloaded: platform[PackageDownloaded](),
	EventStatementQueued:   platform[StatementQueued](),
	EventStatementAccepted: platform[StatementAccepted](),
	EventStatementRefused:  platform[StatementRefused](),
	EventPaged:             platform[Paged](),
	EventPageFailed:        platform[Paged](),
	EventPageAcknowledged:  bare(func(c *Case, e *Event) error { return c.applyPlatform(e, nil) }),

	EventMediaHashed:  with(func(c *Case, e *Event, d *MediaHashed) error { c.applyMediaHashed(d); return nil }),
	EventMediaMatched: with(func(c *Case, e *Event, d *MediaMatched) error { c.applyMediaMatched(d); return nil }),

	EventAppealReceived: with(func(c *Case, e *Event, d *AppealReceived) error { return c.applyAppealReceived(e, d) }),
	EventAppealDecided:  with(func(c *Case, e *Event, d *AppealDecided) error { return c.applyAppealDecided(e, d) }),
	EventReviewRequested: with(func(c *Case, e *Event, d *ReviewRequested) error {
		a := c.Action(d.Action)
		if a == nil || a.Rule == "" {
			return fmt.Errorf("apply event %d: action %d is no automated action of the case", e.Seq, d.Action)
		}
		a.Review, c.Queue = ReviewPending, QueueAutomationReview
		return nil
	}),
	EventAutomationReviewed: with(func(c *Case, e *Event, d *AutomationReviewed) error {
		// Checked in the transaction that records the review and in every replay: a
		// person reviews, once, an automated action sent to review.
		a := c.Action(d.Action)
		switch {
		case a == nil || a.Review != ReviewPending:
			return fmt.Errorf("apply event %d: action %d awaits no review", e.Seq, d.Action)
		case !strings.HasPrefix(string(e.Actor), "user:"):
			return fmt.Errorf("apply event %d: %s is not a person: automation is reviewed by people", e.Seq, e.Actor)
		}
		a.Review, a.ReviewedBy = ReviewOverturned, actorID(e.Actor)
		if d.Upheld {
			a.Review = ReviewUpheld
		}
		return nil
	}),

	EventNCMECQueued:           ncmec[NCMECQueuedData](),
	EventNCMECOpened:           ncmec[NCMECOpenedData](),
	EventNCMECUploaded:         ncmec[NCMECUploadedData](),
	EventNCMECDescribed:        ncmec[NCMECDescribedData](),
	EventNCMECFinished:         ncmec[NCMECFinishedData](),
	EventNCMECFailed:           ncmec[NCMECFailedData](),
	EventNCMECRetractRequested: ncmec[NCMECRetractData](),
	EventNCMECRetracted:        ncmec[NCMECRetractedData](),

	EventDueSoon: bare(func(c *Case, e *Event) error { c.DueSoon = true; return nil }),
	EventOverdue: bare(func(c *Case, e *Event) error { c.Overdue = true; return nil }),
}

// CaseEventTypes lists the types of case events, sorted.
func CaseEventTypes() []EventType {
	return slices.Sorted(maps.Keys(eventKinds))
}
