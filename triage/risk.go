package triage

import (
	"fmt"
	"strings"
)

// Classes of the lexicons (lexicon/README.md).
var (
	cForm     = book.classOf("form")
	cKill     = book.classOf("kill")
	cThreat   = book.classOf("threat")
	cSelfharm = book.classOf("selfharm")
	cFarewell = book.classOf("farewell")
	cMeans    = book.classOf("means")
	cKidnap   = book.classOf("kidnap")
	cChild    = book.classOf("child")
	cMeet     = book.classOf("meet")
	cSexual   = book.classOf("sexual")
	cAttack   = book.classOf("attack")
	cWeapon   = book.classOf("weapon")
	cPlace    = book.classOf("place")
	cTime     = book.classOf("time")
	cAddress  = book.classOf("address")
	cDanger   = book.classOf("danger")
	cMissing  = book.classOf("missing")
	// cUnreachable is a phone left unanswered or switched off: with a farewell, a sign that
	// it was meant; alone, everyday life.
	cUnreachable = book.classOf("unreachable")
	// cPast is an event that is over ("last week", "years ago"): an attack on a place told
	// with it is news, not a warning.
	cPast = book.classOf("past")
	// cBenign is a sender saying that threatening words are none ("not a real threat", "it
	// was about the game", "a line from the film"): read in public messages only, and only
	// against threats to kill, never against suicide, kidnapping or a farewell.
	cBenign    = book.classOf("benign")
	cRemoval   = book.classOf("removal")
	cCyber     = book.classOf("cyber")
	cOfficial  = book.classOf("official")
	cSpam      = book.classOf("spam")
	cScam      = book.classOf("scam")
	cSupport   = book.classOf("support")
	cPress     = book.classOf("press")
	cRemove    = book.classOf("kind.removal")
	cPreserve  = book.classOf("kind.preservation")
	cDisclose  = book.classOf("kind.disclosure")
	cRegNation = book.classOf("regime.national")
)

// near is how close (in bytes of text) two signals must be to be read together: about two
// sentences.
const near = 320

// emergencyForms are the citations and boxes of authorities' emergency requests, in every
// language: the US emergency disclosure (18 U.S.C. 2702(b)(8), (c)(4)) and the emergency box
// of the EPOC form (Reg. 2023/1543, annex I, section B).
var (
	emergencyForms = rx(`2702\s*\(b\)\s*\(8\)`, `2702\s*\(c\)\s*\(4\)`, `emergency disclosure request`, `exigent circumstances`)
	epocEmergency  = rx(`emergency case`, `cas d'urgence`, `notfall`, `caso de emergencia`, `caso di emergenza`, `caso de emergência`, `spoedeisend geval`, `nagły przypadek`, `caz de urgență`, `nödfall`, `noodsituatie`, `sytuacja nadzwyczajna`, `situație de urgență`, `situação de emergência`, `situación de emergencia`, `situazione di emergenza`)
)

// risk is what the text says about a threat to a person's life or safety.
type risk struct {
	emergency bool
	reasons   []string // why it is an emergency
	notes     []string // what was read but did not make it one
}

func (r *risk) flag(format string, args ...any) {
	r.emergency = true
	r.reasons = append(r.reasons, fmt.Sprintf(format, args...))
}

// assessRisk reads a risk to life from the lexicon hits. It errs on the safe side: a threat
// to kill, suicide, kidnapping, a child lured to a meeting, an attack announced with a time
// or place, an authority's emergency wording — any one is enough. The one restraint: in a
// removal order (or a report of content), words of attacks and weapons describe the content,
// and do not by themselves make an emergency about a person; a threat to kill there still
// does when it names a time or an address. An address posted with a time counts only in a
// message from the public (public): authorities' letters are full of addresses and dates.
func assessRisk(h *lexHits, sc *scan, regime string, removalOrder, public bool) risk {
	var r risk
	if m := emergencyForms.find(sc); m != "" {
		r.flag("emergency form: %q", m)
	}
	if m, at := epocEmergency.findAt(sc); m != "" && regime == "eu-epoc" {
		// The box is ticked or not: "Dringlichkeit: kein Notfall", "Urgence : non".
		before, after := sc.text[max(0, at-12):at], sc.text[at+len(m):min(len(sc.text), at+len(m)+12)]
		if strings.Contains(before, "kein") || strings.Contains(before, "no ") || strings.Contains(before, "non ") || strings.Contains(before, "not ") ||
			strings.Contains(after, "no") || strings.Contains(after, "nein") || strings.Contains(after, "nee") || strings.Contains(after, "nie") ||
			strings.Contains(after, "não") || strings.Contains(after, "nej") || strings.Contains(after, "όχι") {
			r.notes = append(r.notes, fmt.Sprintf("the emergency box of the production order is not ticked: %q", strings.TrimSpace(before+m+after)))
		} else {
			r.flag("the emergency box of a production order: %q", m)
		}
	}
	if t := h.terms(cForm); len(t) > 0 {
		r.flag("an authority's emergency wording: %s", quote(t))
	}
	if t := h.terms(cSelfharm); len(t) > 0 {
		if removalOrder {
			r.notes = append(r.notes, fmt.Sprintf("self-harm words in a removal order, read as describing content: %s", quote(t)))
		} else {
			r.flag("suicide or self-harm: %s", quote(t))
		}
	}
	if t := h.terms(cKidnap); len(t) > 0 {
		if removalOrder && h.count(cTime) == 0 {
			r.notes = append(r.notes, fmt.Sprintf("kidnapping words in a removal order, read as describing content: %s", quote(t)))
		} else {
			r.flag("kidnapping or hostage: %s", quote(t))
		}
	}
	// Whatever the sender says, a posted address beside threatening words stays an emergency.
	benign := public && h.count(cBenign) > 0 && h.count(cAddress) == 0
	if t := h.terms(cKill); len(t) > 0 {
		tw, _, timed := h.near(cTime, cKill, near)
		aw, _, addr := h.near(cAddress, cKill, near)
		switch {
		case benign:
			r.notes = append(r.notes, fmt.Sprintf("threat words the sender says are no threat (%s): %s", quote(h.terms(cBenign)), quote(t)))
		case !removalOrder:
			r.flag("threat to kill: %s", quote(t))
		case timed && !removalRegimes[regime]:
			// An order under a removal regime speaks of its own deadline ("as soon as
			// possible, within one hour"): its time words are not the threat's.
			r.flag("threat to kill with a time (%q), though in a removal order: %s", tw, quote(t))
		case addr:
			r.flag("threat to kill with an address (%q), though in a removal order: %s", aw, quote(t))
		default:
			r.notes = append(r.notes, fmt.Sprintf("threat words in a removal order, read as describing content: %s", quote(t)))
		}
	}
	if f, m, ok := h.near(cFarewell, cMeans, near*2); ok {
		r.flag("farewell with means of self-harm: %q, %q", f, m)
	} else if f, t, ok := h.near(cFarewell, cTime, near); ok && (h.count(cFarewell) >= 2 || h.count(cSelfharm)+h.count(cMissing)+h.count(cDanger)+h.count(cUnreachable) > 0) {
		// One farewell phrase and a time is also how people thank and greet ("thank you
		// all, see you today"): a second farewell, or a word of danger, makes it one.
		r.flag("farewell message with a time: %q, %q", f, t)
	} else if t := h.terms(cFarewell); len(t) >= 2 && !removalOrder {
		r.flag("farewell message: %s", quote(t))
	} else if f, u, ok := h.near(cFarewell, cUnreachable, near*2); ok && !removalOrder {
		r.flag("a farewell, and the phone unanswered: %q, %q", f, u)
	}
	if c, m, ok := h.near(cChild, cMeet, 2*near); ok && (h.count(cSexual) > 0 || h.count(cMeet) >= 2 || h.count(cTime) > 0) {
		r.flag("a child lured to a meeting: %q, %q", c, m)
	}
	if c, m, ok := h.near(cChild, cMissing, near); ok {
		r.flag("a missing child: %q, %q", c, m)
	} else if m, x, ok := h.nearAny(cMissing, near, cDanger, cMeans, cFarewell); ok && !removalOrder {
		r.flag("a missing person at risk: %q, %q", m, x)
	}
	if c, d, ok := h.near(cChild, cDanger, near); ok && !removalOrder {
		r.flag("a child in danger: %q, %q", c, d)
	}
	if a := h.terms(cAttack); len(a) > 0 {
		tw, _, timed := h.near(cTime, cAttack, near)
		pw, _, placed := h.near(cPlace, cAttack, near)
		_, _, armed := h.near(cWeapon, cAttack, near)
		switch {
		case removalOrder:
			r.notes = append(r.notes, fmt.Sprintf("attack words in a removal order, read as describing content: %s", quote(a)))
		case h.count(cCyber) > 0 && !timed:
			r.notes = append(r.notes, fmt.Sprintf("attack words about a computer attack: %s, %s", quote(a), quote(h.terms(cCyber))))
		case benign:
			r.notes = append(r.notes, fmt.Sprintf("attack words the sender says are no threat (%s): %s", quote(h.terms(cBenign)), quote(a)))
		case timed:
			r.flag("an attack announced with a time (%q): %s", tw, quote(a))
		case placed && h.count(cPast) > 0:
			r.notes = append(r.notes, fmt.Sprintf("an attack on a place told as past (%s): %s", quote(h.terms(cPast)), quote(a)))
		case placed:
			r.flag("an attack on a place where people gather (%q): %s", pw, quote(a))
		case armed:
			r.notes = append(r.notes, fmt.Sprintf("attack words without a time: %s", quote(a)))
		}
	}
	if !removalOrder && !benign {
		if th, t, ok := h.near(cThreat, cTime, near); ok {
			r.flag("a threat with a time: %q, %q", th, t)
		} else if th, a, ok := h.near(cThreat, cAddress, near); ok && public {
			r.flag("a threat with someone's address: %q, %q", th, a)
		}
		if w, t, ok := h.near(cWeapon, cTime, near); ok {
			r.flag("a weapon with a time: %q, %q", w, t)
		}
		if a, t, ok := h.near(cAddress, cTime, near); ok && public {
			r.flag("someone's address with a time: %q, %q", a, t)
		}
	}
	return r
}

func quote(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// The content lexicon's classes, for languages the content model was not trained on.
var (
	cSlur    = book.classOf("content.slur")
	cGroup   = book.classOf("content.group")
	cDehuman = book.classOf("content.dehuman")
	cInsult  = book.classOf("content.insult")
	cAdvert  = book.classOf("content.spam")
	cPolicy  = book.classOf("policy")
)

// lexiconLabelled are the languages whose content label the lexicons give when the model,
// which saw no labelled text in them, reads none.
var lexiconLabelled = map[string]bool{"fa": true, "ru": true, "tr": true, "uk": true}

// lexiconLabel reads a content label from the lexicon hits: hate for a slur, or for a group
// named beside dehumanising words; abuse for an insult; spam for two spam words or a scam's;
// "" when none of them is there. contact says the text gives a way to reach its sender (a
// link, a handle, a phone number): one advertising word is enough with it.
func lexiconLabel(h *lexHits, contact bool) (label, why string) {
	switch {
	case h.count(cSlur) > 0:
		return "hate", "a slur: " + quote(h.terms(cSlur))
	}
	if g, d, ok := h.near(cGroup, cDehuman, near); ok {
		return "hate", fmt.Sprintf("a group beside dehumanising words: %q, %q", g, d)
	}
	// Abuse aimed at people for who they are is hate: an insult beside a group's name.
	if g, i, ok := h.near(cGroup, cInsult, near/4); ok {
		return "hate", fmt.Sprintf("a group beside insults: %q, %q", g, i)
	}
	switch {
	case h.count(cInsult) > 0:
		return "abuse", "insults: " + quote(h.terms(cInsult))
	case h.count(cScam) > 0 || h.count(cSpam)+h.count(cAdvert) >= 2 || (h.count(cAdvert) > 0 && contact):
		return "spam", "spam words: " + quote(append(append(h.terms(cScam), h.terms(cSpam)...), h.terms(cAdvert)...))
	}
	return "", ""
}
