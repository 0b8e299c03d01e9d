// Package triage sorts a request the moment it arrives: its language, the legal regime and
// kind it falls under, whether a life is at risk, whether it is spam, what content harm it
// describes, which accounts, channels, messages and numbers it names, a DSA category and a
// priority. Every conclusion comes with the signals that led to it, so that a reviewer sees
// why; nothing here needs a server or a database.
package triage

import (
	"cmp"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/docket-dev/docket"
)

// Input is what triage reads.
type Input struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	From    string `json:"from"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// Country is the sender's ISO 3166 country when known (a registered authority's); else
	// it is guessed from the sender's domain or the language, for national phone numbers.
	Country string `json:"country,omitempty"`
	// Regime and Kind, when the requester named them, are kept unless the text contradicts them.
	Regime string      `json:"regime,omitempty"`
	Kind   docket.Kind `json:"kind,omitempty"`
	// Emergency is the requester's own flag.
	Emergency bool `json:"emergency,omitempty"`
	// Authority is the registered authority that sent the request, if any: an official
	// sender whatever its address.
	Authority string `json:"authority,omitempty"`
}

// Result is the triage of one request.
type Result struct {
	ID        string      `json:"id"`
	Language  string      `json:"language"`
	Regime    string      `json:"regime"`
	Kind      docket.Kind `json:"kind"`
	Emergency bool        `json:"emergency"`
	Spam      bool        `json:"spam"`
	Label     string      `json:"label"`
	Category  string      `json:"category"`
	Priority  int         `json:"priority"`
	Queue     string      `json:"queue"`
	// Policy: an authority's request that touches political speech, journalists, protest or
	// religion (the rules send it to the policy queue).
	Policy     bool            `json:"policy,omitempty"`
	Targets    []docket.Target `json:"targets"`
	Confidence float64         `json:"confidence"`
	Signals    []string        `json:"signals"`
}

// Triager sorts requests. It is safe for concurrent use.
type Triager struct {
	model   *Model
	risk    *Model
	profile Profile
	memory  *Memory
}

// New returns a Triager with the shipped model and the default platform profile.
func New() (*Triager, error) {
	m, err := ShippedModel()
	if err != nil {
		return nil, fmt.Errorf("triage: %w", err)
	}
	return WithModel(m), nil
}

// WithModel returns a Triager using another model.
func WithModel(m *Model) *Triager {
	risk, err := ShippedRiskModel()
	if err != nil {
		panic("triage: the embedded risk model: " + err.Error()) // the build embeds it; a test checks it
	}
	return &Triager{model: m, risk: risk, profile: DefaultProfile, memory: NewMemory()}
}

// Learn keeps a person's correction: requests like the corrected one are triaged as the
// person said from now on (see Memory).
func (t *Triager) Learn(c Correction) { t.memory.Learn(c) }

// Corrections is the number of corrections the triager has learnt.
func (t *Triager) Corrections() int { return t.memory.Len() }

// languageCountry guesses a sender's country from the language it writes in.
var languageCountry = map[string]string{"fr": "FR", "de": "DE", "es": "ES", "it": "IT", "pt": "PT", "nl": "NL", "pl": "PL", "ru": "RU", "fa": "IR", "tr": "TR", "en": "GB", "uk": "UA"}

// Triage sorts one request.
func (t *Triager) Triage(in Input) Result {
	res := Result{ID: in.ID, Label: "none", Confidence: 1}
	sig := func(format string, args ...any) { res.Signals = append(res.Signals, fmt.Sprintf(format, args...)) }
	text := in.Text
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
		sig("text is not valid UTF-8: bad bytes replaced")
		res.Confidence *= 0.7
	}
	if strings.ContainsRune(text, 0) {
		text = strings.ReplaceAll(text, "\x00", " ")
		sig("text holds NUL bytes (binary content?)")
		res.Confidence *= 0.7
	}
	if strings.TrimSpace(text) == "" && strings.TrimSpace(in.Subject) == "" {
		sig("empty text")
		res.Confidence = 0.1
	}
	full := strings.TrimSpace(in.Subject + "\n" + text)
	lower := strings.ToLower(prefix(full, MaxClassifiedBytes))
	if strings.Contains(lower, "’") {
		lower = strings.ReplaceAll(lower, "’", "'")
	}
	sc := newScan(lower)
	defer sc.release()
	if len(full) > MaxClassifiedBytes {
		sig("long text: the first %d KB were classified", MaxClassifiedBytes>>10)
		res.Confidence *= 0.9
	}

	// Language.
	lang, conf, guess := detect(prefix(lower, 480), true)
	res.Language = lang
	sig("language %s (confidence %.2f)", lang, conf)
	if conf < 0.3 {
		res.Confidence *= 0.8
	}

	// Sender's country, for national phone numbers.
	country := strings.ToUpper(in.Country)
	switch {
	case country != "":
	case fromCountry(in.From) != "":
		country = fromCountry(in.From)
		sig("sender's country %s from its address", country)
	default:
		country = languageCountry[lang]
	}

	// The lexicons of the text's language, English (the second language of letters) and
	// what all share; for a language outside the set, the lexicons of those languages
	// (undLexicons), or every lexicon when nothing shows which.
	var hits *lexHits
	if lang == "und" {
		hits = book.match(sc, undLexicons(guess)...)
	} else {
		hits = book.match(sc, lang, "en", "xx")
	}
	official := officialSender(in.From)
	if in.Authority != "" {
		official = "registered authority " + in.Authority
	}
	if official != "" {
		sig("official sender: %s", official)
	}

	// Regime and kind.
	res.Regime, res.Kind = in.Regime, in.Kind
	matched, why := regimeOf(sc, hits)
	cited := matched != "" && matched != "national-other" // an instrument of its own, not national words
	if matched != "" {
		if res.Regime == "" {
			res.Regime = matched
		}
		sig("regime %s: %s", matched, why)
	}
	if in.Regime != "" && matched != "" && matched != in.Regime && matched != "national-other" {
		sig("the requester named regime %s but the text cites %s", in.Regime, matched)
	}
	if res.Kind == "" {
		res.Kind = kindOf(sc, hits, matched, len(strings.TrimSpace(in.Subject)), sig)
	}

	// Emergency.
	officialWords := hits.count(cOfficial)
	removalOrder := removalRegimes[matched] || (in.Channel != docket.ChannelNotice && res.Kind == docket.KindRemoval &&
		(matched != "" || officialWords >= 2 || official != "" || hits.count(cRemoval) >= 2))
	rk := assessRisk(hits, sc, matched, removalOrder, official == "" && officialWords < 2)
	for _, n := range rk.notes {
		sig("%s", n)
	}
	if rk.emergency {
		res.Emergency = true
		for _, r := range rk.reasons {
			sig("emergency: %s", r)
		}
	}
	// The risk model fills the gaps of the rules, not their decisions: it is not asked where
	// the rules read the risk words and set them aside (a removal order describing content,
	// a game, news of an attack, an unticked emergency box), nor for an event told as past
	// with no time ahead, nor where the sender says there is no threat, nor in a public
	// notice without a word of a risk to a person. In letters it is asked without one: on
	// two fresh sets it was right about half the time there, and a missed emergency costs
	// more than a false alarm.
	pastOnly := hits.count(cPast) > 0 && hits.count(cTime) == 0
	saysNoThreat := official == "" && hits.count(cBenign) > 0
	askRisk := !res.Emergency && !removalOrder && len(rk.notes) == 0 && !pastOnly && !saysNoThreat && t.risk != nil &&
		(in.Channel != docket.ChannelNotice || riskWords(hits) > 0)
	// One pass of feature hashing serves both models: the risk model's buckets are the
	// content model's, masked to its fewer bits (the same hash), over a longer prefix.
	buf := featurePool.Get().(*[]uint32)
	defer func() { featurePool.Put(buf) }()
	n := ContentBytes
	if askRisk {
		n = max(RiskBytes, ContentBytes)
	}
	feats, nContent := featuresCut(prefix(lower, n), t.model.Bits, ContentBytes, (*buf)[:0])
	*buf = feats
	label, p := t.model.classifyFeats(feats[:nContent])
	if askRisk {
		if p := t.riskOf(feats, lower); p >= RiskThreshold {
			res.Emergency = true
			sig("emergency: the risk model reads a risk to life (p=%.2f) where no rule did", p)
		}
	}
	if in.Emergency {
		res.Emergency = true
		sig("emergency flagged by the requester")
	}

	// Content harm and spam.
	res.Label = label
	sig("content label %s (p=%.2f)", label, p)
	score, strong, words := spamOf(sc, hits, label, p, in.Channel)
	lookalike := lookalikeSender(in.From)
	if lookalike != "" {
		score, strong = score+2, strong+1
		words = append(words, "sender named like an authority or the platform: "+lookalike)
	}
	if d := senderDomain(in.From); slices.Contains(junkTLDs, d[strings.LastIndexByte(d, '.')+1:]) && d != "" {
		score++
		words = append(words, "sender's domain "+d)
	}
	if m := credentialAsk.find(sc); m != "" && strings.Contains(lower, "http") {
		score, strong = score+2, strong+1
		words = append(words, "asks to log in through a link ("+m+")")
	}
	noLegal := matched == "" && official == "" && officialWords == 0 && !res.Emergency
	if noLegal || lookalike != "" {
		// Prices are the stuff of offers, and of the forged fine "payable within 48 hours".
		if m := priceTag.FindString(lower); m != "" {
			score++
			words = append(words, "prices ("+m+")")
		}
	}
	why = strings.Join(words, ", ")
	threshold := 3
	switch {
	case in.Channel == docket.ChannelNotice && reFraud.find(sc) != "":
		threshold = 8 // a notice that reports a fraud quotes it
	case in.Channel == docket.ChannelNotice:
		threshold = 4
	case noLegal && strings.Contains(lower, "http") && reFraud.find(sc) == "":
		threshold = 1 // no authority, no citation, a link and a selling or scam word (and no report of a fraud)
	case noLegal:
		threshold = 2
	}
	legal := matched != ""
	switch {
	case score < threshold:
		if label == "spam" && (legal || res.Emergency) {
			res.Label = "none"
			sig("classifier said spam but the text cites a legal basis or a risk to life: kept as a request")
		}
	case res.Emergency:
		res.Label = "none"
		sig("spam words (%s), but a risk to life outweighs them", why)
	case official != "":
		res.Label = "none"
		sig("spam words (%s), but the sender is official (%s): kept as a request", why, official)
	case lookalike != "" && score >= 4:
		res.Spam = true
		res.Label = "spam"
		sig("spam: a lookalike of an authority or of the platform (%s)", why)
	case (legal || officialWords >= 2 || caseReference(lower) != "") && strong < 2:
		sig("spam words (%s), but the text cites a legal basis, an authority or a case reference: kept as a request", why)
	default:
		res.Spam = true
		res.Label = "spam"
		sig("spam: %s", why)
	}
	if lexiconLabelled[lang] && res.Label == "none" && !res.Spam {
		contact := strings.Contains(lower, "http") || strings.Contains(lower, "t.me") || strings.Contains(lower, "@") || digitRun(lower, 7)
		if l, why := lexiconLabel(hits, contact); l != "" {
			res.Label = l
			sig("content label %s from the lexicon (%s): the model has no training data in %s", l, why, lang)
		}
	}

	// People's corrections of requests like this one.
	corrected := t.recall(in, &res, official != "", sig)

	// Defaults for what the text did not say.
	if in.Channel == docket.ChannelNotice && !res.Spam {
		res.Regime, res.Kind = cmp.Or(in.Regime, "dsa-art16"), docket.KindNotice
	}
	if res.Kind == "" {
		res.Kind = docket.KindOther
	}
	if res.Emergency && (res.Kind == docket.KindDisclosure || (in.Channel != docket.ChannelNotice && in.Kind == "" && in.From != "" && official == "" && res.Kind != docket.KindPreservation)) {
		// A life at risk: what is asked first, by an authority or for a person who wrote
		// to us, is who and where the people are.
		res.Kind = docket.KindEmergencyDisclosure
	}
	switch {
	case res.Spam:
		res.Regime, res.Kind = "none", docket.KindOther
	case corrected:
	case res.Emergency && (res.Regime == "" || ((res.Regime == "national-other" || res.Regime == "fr-requisition") && in.Regime == "")):
		res.Regime = "emergency"
		sig("regime emergency: a threat to life without a cited instrument of its own")
	case (res.Regime == "" || (res.Regime == "national-other" && in.Regime == "" && !cited)) && official == "" && in.Channel != docket.ChannelNotice && hits.count(cPress) > 0:
		res.Regime, res.Kind = "none", docket.KindOther
		sig("regime none: a journalist's question, not a legal request (%s)", quote(hits.terms(cPress)))
	case res.Regime == "" && official == "" && officialWords == 0 && (hits.count(cSupport) > 0 || hits.count(cSpam) > 0 || hits.count(cScam) > 0):
		res.Regime, res.Kind = "none", docket.KindOther
		sig("regime none: no legal request (no authority, no citation; %s)", strings.Join(append(hits.terms(cSupport), hits.terms(cSpam)...), ", "))
	case res.Regime == "" && in.Kind == "" && official == "" && officialWords == 0 && in.Channel != docket.ChannelNotice && caseReference(lower) == "" && !lawCited.MatchString(lower) &&
		!(res.Kind == docket.KindRemoval && (strings.Contains(lower, "http") || strings.Contains(lower, "t.me/") || strings.Contains(lower, "@"))):
		// No authority, no citation, no word of one, no file number, the sender did not say
		// what is asked, and no content pointed at for removal: a person's letter (a
		// question, a complaint about the service), answered without a legal clock.
		res.Regime, res.Kind = "none", docket.KindOther
		sig("regime none: no authority, no citation, no legal wording")
	case res.Regime == "":
		res.Regime = "national-other"
		sig("regime national-other: no citation recognised")
	}

	// Targets (never for spam: links in junk are not requests to act).
	if !res.Spam {
		targets, notes := t.profile.Extract(text, country, senderAddress(in.From))
		if in.Channel == docket.ChannelNotice {
			targets = withoutNotifier(text, targets)
		}
		res.Targets = targets
		for _, n := range notes {
			sig("%s", n)
			res.Confidence *= 0.9
		}
	}
	if res.Targets == nil {
		res.Targets = []docket.Target{}
	}

	if t := hits.terms(cPolicy); len(t) > 0 && res.Regime != "none" && in.Channel != docket.ChannelNotice && !res.Spam {
		res.Policy = true
		sig("policy: the request touches political speech, journalists, protest or religion (%s)", quote(t))
	}
	res.Category = category(res, sc)
	res.Priority, res.Queue = priorityOf(res, sc)
	return res
}

// recall applies the correction of the request most like this one, if any, and reports
// whether it set the regime. It raises the emergency flag but never lowers it; it marks
// spam only when the sender is not official.
func (t *Triager) recall(in Input, res *Result, official bool, sig func(string, ...any)) bool {
	c, sim, ok := t.memory.like(in.Subject, in.Text)
	if !ok {
		return false
	}
	ref := cmp.Or(c.Ref, "a corrected request")
	sig("like %s (similarity %.2f): triaged as the person who corrected it said", ref, sim)
	if c.Emergency != nil {
		switch {
		case *c.Emergency && !res.Emergency:
			res.Emergency = true
			sig("emergency: like %s, which a person marked an emergency", ref)
		case !*c.Emergency && res.Emergency:
			sig("like %s, which a person said is no emergency; kept as one (a correction never lowers the flag)", ref)
		}
	}
	if c.Spam != nil {
		switch {
		case *c.Spam && !res.Spam && !res.Emergency && !official:
			res.Spam, res.Label = true, "spam"
			sig("spam: like %s, which a person marked spam", ref)
		case !*c.Spam && res.Spam:
			res.Spam, res.Label = false, "none"
			sig("not spam: like %s, which a person said is no spam", ref)
		}
	}
	if c.Label != "" && !res.Spam {
		res.Label = c.Label
	}
	if c.Kind != "" {
		res.Kind = c.Kind
	}
	if c.Regime != "" && !res.Spam {
		res.Regime = c.Regime
		return true
	}
	return false
}

func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s
}

func uniq(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		s = strings.ToLower(s)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func senderAddress(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		return a.Address
	}
	return strings.TrimSpace(from)
}

// fromCountry reads a country from a sender's domain: interieur.gouv.fr → FR.
func fromCountry(from string) string {
	addr := senderAddress(from)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	dot := strings.LastIndexByte(addr, '.')
	if dot < at || len(addr)-dot-1 != 2 {
		return ""
	}
	cc := strings.ToUpper(addr[dot+1:])
	if cc == "UK" {
		return "GB"
	}
	return cc
}

// category suggests a DSA statement-of-reasons category from the lower-cased text.
func category(r Result, sc *scan) string {
	text := sc.text
	const p = "STATEMENT_CATEGORY_"
	switch {
	case r.Spam:
		return p + "SCAMS_AND_FRAUD"
	case csamTerms.find(sc) != "":
		return p + "PROTECTION_OF_MINORS"
	case r.Regime == "eu-tco-removal" || terrorTerms.find(sc) != "":
		return p + "RISK_FOR_PUBLIC_SECURITY"
	case strings.Contains(text, "suicid") || strings.Contains(text, "self-harm") || strings.Contains(text, "automutilation"):
		return p + "SELF_HARM"
	case r.Label == "hate":
		return p + "ILLEGAL_OR_HARMFUL_SPEECH"
	case r.Label == "abuse":
		return p + "CYBER_VIOLENCE"
	case r.Emergency:
		return p + "VIOLENCE"
	case reFraud.find(sc) != "":
		return p + "SCAMS_AND_FRAUD"
	case reIP.find(sc) != "":
		return p + "INTELLECTUAL_PROPERTY_INFRINGEMENTS"
	case rePrivacy.find(sc) != "":
		return p + "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
	}
	return p + "NOT_SPECIFIED_NOTICE"
}

var (
	reFraud   = rx(`fraud`, `escroquer`, `arnaque`, `betrug`, `estafa`, `truffa`, `golpe`, `oplichting`, `oszustw`, `мошенни`, `احتيال`, `کلاهبرداری`, `dolandırıc`, `sahtekar`, `lừa đảo`, `penipuan`, `詐欺`, `诈骗`, `詐騙`, `απάτη`, `înșelătorie`, `escrocherie`, `bedrägeri`, `шахрай`, `धोखाधड़ी`, `ठगी`, `phishing`, `scam`)
	reIP      = rx(`copyright`, `droit d'auteur`, `contrefaçon`, `urheberrecht`, `derechos de autor`, `diritto d'autore`, `direitos autorais`, `auteursrecht`, `trademark`, `marque déposée`, `piracy`, `piratage`)
	rePrivacy = rx(`doxx`, `personal data`, `données personnelles`, `personenbezogene`, `datos personales`, `dati personali`, `dados pessoais`, `persoonsgegevens`, `dane osobowe`, `intimate image`, `revenge porn`, `image intime`)
)

// lawCited finds an article or section of a law cited by number, in the languages of the
// set: "art. 58", "§ 1", "section 5", "ст. 13", "madde 8", "άρθρο 4", "第66M條", "제44조",
// "المادة 9", "ماده 12", "pasal 27", "điều 15", "धारा 69".
var lawCited = regexp.MustCompile(`(?:(?:^|[^\p{L}])(?:art|arts|article|artikel|artículo|articolo|artigo|artykuł|articolul|section|sec|ст|стаття|статья|статті|статьи|madde|maddesi|άρθρο|άρθρου|pasal|điều)\.?|§|धारा|अनुच्छेद|المادة|ماده)\s?\d+|第\s?\d+[a-z]?\s?[条條]|제\s?\d+\s?조`)

// priority scores 0–100 (higher first) and picks a queue.
func priorityOf(r Result, sc *scan) (int, string) {
	switch {
	case r.Emergency:
		return 100, "emergency"
	case r.Spam:
		return 0, "spam"
	case csamTerms.find(sc) != "":
		return 95, "child-safety"
	case r.Regime == "eu-tco-removal":
		return 90, "terrorism"
	case terrorTerms.find(sc) != "":
		return 85, "terrorism"
	case r.Regime == "fr-lcen-6-1":
		return 85, "removal"
	}
	base := map[docket.Kind]int{docket.KindRemoval: 70, docket.KindPreservation: 65, docket.KindDisclosure: 60, docket.KindNotice: 30, docket.KindOther: 40}[r.Kind]
	queue := map[docket.Kind]string{docket.KindRemoval: "removal", docket.KindPreservation: "preservation", docket.KindDisclosure: "disclosure", docket.KindNotice: "notices", docket.KindOther: "default"}[r.Kind]
	if r.Label == "hate" || r.Label == "abuse" {
		base += 5
	}
	return min(base, 99), cmp.Or(queue, "default")
}

// digitRun reports whether s holds n digits in a row, spaces and dashes between them allowed
// (a phone number).
func digitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if run++; run >= n {
				return true
			}
		case c == ' ' || c == '-':
		default:
			run = 0
		}
	}
	return false
}

// Route returns the priority and queue that the triage gives a result r when the request's
// text names no child-abuse or terror terms: what `docket sim` uses for its synthetic
// requests, which have no text.
func Route(r Result) (priority int, queue string) { return priorityOf(r, new(scan)) }
