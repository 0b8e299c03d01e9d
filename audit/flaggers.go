package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/docket-dev/docket"
)

// flaggers are the trusted flaggers (with their tokens' hashes), the notifiers and the
// assessed notices as the chain's events left them.
type flaggers struct {
	byID      map[string]*docket.FlaggerRegistered
	notifiers map[string]*docket.NotifierStanding
	// assessed are the notices of the notice_assessed events, by request id.
	assessed map[string]*docket.NoticeAssessment
}

func newFlaggers() flaggers {
	return flaggers{byID: map[string]*docket.FlaggerRegistered{}, notifiers: map[string]*docket.NotifierStanding{},
		assessed: map[string]*docket.NoticeAssessment{}}
}

func (fl *flaggers) notifier(key string) *docket.NotifierStanding {
	n := fl.notifiers[key]
	if n == nil {
		n = &docket.NotifierStanding{Key: key}
		fl.notifiers[key] = n
	}
	return n
}

// apply replays one event outside any case; those of other parts are no business of it.
// It also checks what the rule of DSA art. 23 promises: a suspension follows a warning of
// the same notifier given after its previous suspension.
func (fl *flaggers) apply(e *docket.Event) error {
	decode := func(v any) error {
		if err := json.Unmarshal(e.Data, v); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		return nil
	}
	switch e.Type {
	case docket.EventFlaggerRegistered:
		var d docket.FlaggerRegistered
		if err := decode(&d); err != nil {
			return err
		}
		if fl.byID[d.ID] != nil {
			return fmt.Errorf("trusted flagger %s registered twice", d.ID)
		}
		d.ChangedSeq = e.Seq
		fl.byID[d.ID] = &d
	case docket.EventFlaggerChanged:
		var d docket.FlaggerChanged
		if err := decode(&d); err != nil {
			return err
		}
		f := fl.byID[d.ID]
		if f == nil {
			return fmt.Errorf("%s of trusted flagger %s, which no event registered", e.Type, d.ID)
		}
		if f.Status == docket.FlaggerRevoked {
			return fmt.Errorf("%s of trusted flagger %s after its revocation", e.Type, d.ID)
		}
		f.ApplyChange(&d, e.Seq)
		if d.TokenHash != "" {
			f.TokenHash = d.TokenHash
		}
	case docket.EventNoticeAssessed:
		var d docket.NoticeAssessed
		if err := decode(&d); err != nil {
			return err
		}
		if d.Outcome != docket.NoticeActioned && d.Outcome != docket.NoticeUnfounded {
			return fmt.Errorf("%s with outcome %q", e.Type, d.Outcome)
		}
		for _, a := range d.Notices {
			if fl.assessed[a.RequestID] != nil {
				return fmt.Errorf("notice %s assessed twice", a.RequestID)
			}
			fl.assessed[a.RequestID] = &docket.NoticeAssessment{RequestID: a.RequestID, CaseID: d.CaseID, Notifier: a.Notifier,
				FlaggerID: a.FlaggerID, Outcome: d.Outcome, Manifest: d.Manifest, Seq: e.Seq, At: e.At}
			fl.notifier(a.Notifier).ApplyAssessed(&d, a.FlaggerID, e.Seq)
		}
	case docket.EventNotifierWarned:
		var d docket.NotifierWarned
		if err := decode(&d); err != nil {
			return err
		}
		fl.notifier(d.Notifier).ApplyWarned(e)
	case docket.EventNotifierSuspended:
		var d docket.NotifierSuspended
		if err := decode(&d); err != nil {
			return err
		}
		n := fl.notifier(d.Notifier)
		if !n.Warned() || d.Warning != n.WarnedSeq {
			return fmt.Errorf("%s of %s without a warning in effect (it names event %d; the last warning is event %d, the last suspension event %d)",
				e.Type, d.Notifier, d.Warning, n.WarnedSeq, n.SuspendedSeq)
		}
		n.ApplySuspended(e, d.Until)
	}
	return nil
}

// checkFlaggers compares the flaggers, notifiers and notice_assessments tables with the
// chain: every flagger's row (name, coordinator, areas, status and its end, reason, token
// hash, who registered it and when, its last event), every notifier's counts and standing,
// every assessed notice's row; and that none of them was added or deleted behind docket's
// back.
func (v *verifier) checkFlaggers(ctx context.Context) error {
	fl := v.flaggers
	seen := map[string]bool{}
	err := v.src.ScanFlaggers(ctx, func(got *docket.FlaggerRegistered) error {
		v.rep.Flaggers++
		fail := func(format string, args ...any) error {
			return &Problem{Table: "flaggers", What: fmt.Sprintf("trusted flagger %s (%s): ", got.ID, got.Name) + fmt.Sprintf(format, args...)}
		}
		want := fl.byID[got.ID]
		switch {
		case want == nil:
			return fail("no flagger_registered event of the chain registered it")
		case got.TokenHash != want.TokenHash:
			return fail("its API token differs from the one its events gave it")
		case got.Status != want.Status || docket.Micros(got.SuspendedUntil) != docket.Micros(want.SuspendedUntil) || got.Reason != want.Reason:
			return fail("status %s (until %s, %q) differs from its events' %s (until %s, %q)", got.Status, got.SuspendedUntil, got.Reason,
				want.Status, want.SuspendedUntil, want.Reason)
		case got.Name != want.Name || got.Coordinator != want.Coordinator || got.Reference != want.Reference || got.Email != want.Email ||
			!slices.Equal(got.Areas, want.Areas):
			return fail("name, coordinator, reference, e-mail or areas differ from the chain's")
		case got.CreatedBy != want.CreatedBy || docket.Micros(got.CreatedAt) != docket.Micros(want.CreatedAt):
			return fail("who registered it, or when, differs from the chain's")
		case got.ChangedSeq != want.ChangedSeq:
			return fail("its last change is recorded as event %d but it is event %d", got.ChangedSeq, want.ChangedSeq)
		}
		seen[got.ID] = true
		return nil
	})
	if err != nil {
		return wrap(err, "scan flaggers")
	}
	for _, id := range slices.Sorted(maps.Keys(fl.byID)) {
		if !seen[id] {
			return &Problem{Table: "flaggers", What: fmt.Sprintf("trusted flagger %s (%s) is in the chain but was deleted from the table", id, fl.byID[id].Name)}
		}
	}
	clear(seen)
	err = v.src.ScanNotifiers(ctx, func(got *docket.NotifierStanding) error {
		v.rep.Notifiers++
		want := fl.notifiers[got.Key]
		if want == nil {
			return &Problem{Table: "notifiers", What: fmt.Sprintf("notifier %s: no event of the chain assessed, warned or suspended it", got.Key)}
		}
		g, w := *got, *want
		g.WarnedAt, g.SuspendedUntil = g.WarnedAt.UTC(), g.SuspendedUntil.UTC()
		w.WarnedAt, w.SuspendedUntil = w.WarnedAt.UTC().Truncate(1000), w.SuspendedUntil.UTC().Truncate(1000)
		if !reflect.DeepEqual(g, w) {
			return &Problem{Table: "notifiers", What: fmt.Sprintf("notifier %s: its counts or standing %+v differ from its events' %+v", got.Key, g, w)}
		}
		seen[got.Key] = true
		return nil
	})
	if err != nil {
		return wrap(err, "scan notifiers")
	}
	for _, k := range slices.Sorted(maps.Keys(fl.notifiers)) {
		if !seen[k] {
			return &Problem{Table: "notifiers", What: fmt.Sprintf("notifier %s is in the chain but was deleted from the table", k)}
		}
	}
	clear(seen)
	err = v.src.ScanAssessments(ctx, func(got *docket.NoticeAssessment) error {
		v.rep.Assessments++
		want := fl.assessed[got.RequestID]
		if want == nil {
			return &Problem{Table: "notice_assessments", What: fmt.Sprintf("notice %s: no notice_assessed event of the chain assessed it", got.RequestID)}
		}
		g, w := *got, *want
		g.At, w.At = g.At.UTC(), w.At.UTC().Truncate(1000)
		if g != w {
			return &Problem{Table: "notice_assessments", What: fmt.Sprintf("notice %s: %+v differs from event %d's %+v", got.RequestID, g, w.Seq, w)}
		}
		seen[got.RequestID] = true
		return nil
	})
	if err != nil {
		return wrap(err, "scan notice assessments")
	}
	for _, id := range slices.Sorted(maps.Keys(fl.assessed)) {
		if !seen[id] {
			return &Problem{Table: "notice_assessments", What: fmt.Sprintf("notice %s was assessed by event %d but its row was deleted", id, fl.assessed[id].Seq)}
		}
	}
	return nil
}
