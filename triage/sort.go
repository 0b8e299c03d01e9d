package triage

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/docket-dev/docket"
)

// allLexicons are read when a text's language is unknown.
var allLexicons = func() []string {
	var out []string
	for l := range book.byLang {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}()

// outOfSetLexicons are the lexicons of languages outside the set (lexicon/README.md):
// risk words only, read in "und" texts.
var outOfSetLexicons = func() []string {
	var out []string
	for _, l := range allLexicons {
		if !inSet[l] && l != "xx" {
			out = append(out, l)
		}
	}
	return out
}()

// undKin are the lexicons of the set that a language outside it shares many words with:
// Norwegian Swedish's (not Danish: Swedish "tak", a roof, is Danish for "thanks"), Malay
// Indonesian's, Urdu Persian's and Arabic's.
var undKin = map[string][]string{"no": {"sv"}, "ms": {"id"}, "ur": {"fa", "ar"}}

// undLexicons are the lexicons read in an "und" text. When a strong sign shows the language
// outside the set that it is in (guess, from detect: its script or letters, its frequent
// words), they are the lexicons outside the set, the guess's kin in it, English and xx:
// the other lexicons of the set would find their short words among the common words of
// those languages (Dutch "mes", a knife, is Lithuanian for "we", Indonesian "bom" Slovenian
// for "I will", Indonesian "gang", an alley, Danish for "time" as in "the third time
// today"). When nothing shows it, every lexicon.
func undLexicons(guess string) []string {
	if guess == "" || (guess != "latin" && !slices.Contains(outOfSetLexicons, guess)) {
		return allLexicons
	}
	if r, ok := undKinReading[guess]; ok {
		return r
	}
	return undReading
}

var undReading = slices.Concat(outOfSetLexicons, []string{"en", "xx"})

var undKinReading = func() map[string][]string {
	m := map[string][]string{}
	for l, kin := range undKin {
		m[l] = slices.Concat(outOfSetLexicons, kin, []string{"en", "xx"})
	}
	return m
}()

// removalRegimes are orders to remove or block content: violent words there describe the
// content, not a threat to a person.
var removalRegimes = map[string]bool{"eu-tco-removal": true, "fr-lcen-6-1": true, "dsa-art9": true}

// lexRegimes are regimes recognised by their wording in each language (regime.* classes),
// after the citations of regimeRules.
var lexRegimes = []struct {
	id    string
	class int16
}{
	{"eu-epoc-pr", book.classOf("regime.eu-epoc-pr")},
	{"eu-epoc", book.classOf("regime.eu-epoc")},
	{"eu-tco-removal", book.classOf("regime.eu-tco-removal")},
	{"dsa-art9", book.classOf("regime.dsa-art9")},
	{"dsa-art10", book.classOf("regime.dsa-art10")},
}

// regimeOf names the regime a text falls under: a cited instrument first (regimeRules,
// then the wording of orders in the text's language), else national legal process words.
func regimeOf(sc *scan, h *lexHits) (id, why string) {
	for _, r := range regimeRules {
		if r.regime == "national-other" {
			continue
		}
		m := r.re.find(sc)
		switch {
		case m != "":
		case r.regime == "dsa-art9":
			m = dsaArticle(sc, dsaArticle9)
		case r.regime == "dsa-art10":
			m = dsaArticle(sc, dsaArticle10)
		}
		if m != "" {
			return r.regime, fmt.Sprintf("%q (%s)", m, r.why)
		}
	}
	for _, r := range lexRegimes {
		if t := h.terms(r.class); len(t) > 0 {
			return r.id, quote(t)
		}
	}
	for _, r := range regimeRules {
		if r.regime == "national-other" {
			if m := r.re.find(sc); m != "" {
				return r.regime, fmt.Sprintf("%q (%s)", m, r.why)
			}
		}
	}
	if t := h.terms(cRegNation); len(t) > 0 {
		return "national-other", quote(t) + " (national legal process)"
	}
	return "", ""
}

// kindOf says what is asked: the regime's own kind when it has one (a removal order
// removes), else the kind whose wording weighs most (words of the subject line, the first
// subject bytes of the text, weigh three times).
func kindOf(sc *scan, h *lexHits, regime string, subject int, sig func(string, ...any)) docket.Kind {
	switch regime {
	case "eu-epoc-pr", "us-2703f":
		return docket.KindPreservation
	case "eu-tco-removal", "fr-lcen-6-1", "dsa-art9":
		return docket.KindRemoval
	case "eu-epoc", "dsa-art10", "us-emergency":
		return docket.KindDisclosure
	}
	lex := map[docket.Kind]int16{docket.KindPreservation: cPreserve, docket.KindRemoval: cRemove, docket.KindDisclosure: cDisclose}
	best, kind := 0, docket.Kind("")
	var words []string
	for _, k := range kindRules {
		m := k.re.findAll(sc)
		n := len(m) + h.count(lex[k.kind])
		for _, x := range h.hits {
			if x.class == lex[k.kind] && int(x.pos) < subject {
				n += 2 // the subject line says what is asked
				if k.kind == docket.KindPreservation {
					n += 3 // and a preservation asked there is what the letter is (its body lists the data, in disclosure's words)
				}
			}
		}
		if k.kind == docket.KindPreservation {
			n *= 2 // rarer words than those of disclosure, which a preservation letter uses too
		}
		if n > best {
			best, kind = n, k.kind
			words = append(uniq(m), h.terms(lex[k.kind])...)
		}
	}
	if best > 0 {
		sig("kind %s: %s", kind, strings.Join(uniq(words), ", "))
	}
	return kind
}

// spamOf weighs marketing and scam wording with the classifier: a scam phrase (phishing, a
// payment demand) counts twice, a marketing word once; phrases that only name a short
// delay ("within 24 hours") count once, as real orders use them too. It returns the score,
// the number of scam phrases and the words found.
func spamOf(sc *scan, h *lexHits, label string, p float64, channel string) (score, strong int, words []string) {
	for _, x := range h.hits {
		switch x.class {
		case cScam:
			if strings.IndexFunc(x.term, unicode.IsDigit) >= 0 {
				score++
			} else {
				score += 2
				strong++
			}
		case cSpam:
			score++
		default:
			continue
		}
		if !slices.Contains(words, x.term) && len(words) < 5 {
			words = append(words, x.term)
		}
	}
	if label == "spam" {
		score++
		if p > 0.6 {
			score++
		}
		words = append(words, fmt.Sprintf("classifier p=%.2f", p))
	}
	return score, strong, words
}

// caseNumber is a file number: digits, a slash or a dash, digits ("456/26", "24-0193").
var caseNumber = regexp.MustCompile(`\d{2,}[/-]\d{2,}`)

// caseWords name a file number in the words before it.
var caseWords = []string{"case", "file", "ref", "aktenzeichen", "az", "dossier", "pv", "procès-verbal", "expediente", "diligencias", "processo", "inquérito", "procedimento", "fascicolo", "rgnr", "sygn", "zaak", "dnr", "дело", "справа", "провадження", "soruşturma", "dosya", "dosar", "perkara", "n°", "nº", "no.", "nr", "№"}

// caseReference finds an authority's file number: "Aktenzeichen 123 Js 456/26", "PV
// n° 2026/1187", "Case No. 24-0193".
func caseReference(lower string) string {
	for _, loc := range caseNumber.FindAllStringIndex(lower, 8) {
		before := lower[max(0, loc[0]-24):loc[0]]
		for _, w := range caseWords {
			if strings.Contains(before, w) {
				return strings.TrimSpace(before[strings.Index(before, w):]) + lower[loc[0]:loc[1]]
			}
		}
	}
	return ""
}

// officialSender returns the sender's domain when it is a government's or a police force's:
// .gov, .gouv.fr, .gob.mx, .go.jp, .gv.at, .admin.ch, police.uk, politie.nl… and "" for the
// rest (a lookalike on a commercial domain is not official).
func officialSender(from string) string {
	addr := strings.ToLower(senderAddress(from))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	domain := addr[at+1:]
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return ""
	}
	tld := labels[len(labels)-1]
	for _, l := range labels[:len(labels)-1] {
		switch l {
		case "gov", "gouv", "gob", "go", "gv", "govt", "admin", "bund", "europa", "mil", "nic", "jus", "mp", "police", "polizei", "politie", "polisen", "politi", "politiet", "policja", "policia", "polícia", "poliisi", "policie", "carabinieri", "poliziadistato", "interno", "interieur", "gendarmerie", "guardiacivil", "mossos", "ertzaintza", "fedpol", "mvd", "npu", "egm", "jandarma", "justice", "justiz", "justitie", "giustizia", "bka", "europol", "eurojust", "ncmec", "fbi", "ic3", "dhs", "ice", "usss", "cnil", "arcom", "ofcom", "agcom", "kominfo", "komdigi", "kcsc", "kocsc", "polri", "bareskrim", "gnr", "psp", "pj", "pf", "parquet", "procura", "fiscalia", "prokuratura", "kripo", "lka", "tribunal", "court", "courts":
			if l == "go" || l == "gv" || l == "mp" || l == "pj" || l == "pf" || l == "nic" || l == "jus" {
				// second-level government domains: go.jp, gv.at, mp.br, nic.in, jus.br.
				if len(tld) != 2 {
					continue
				}
			}
			if slices.Contains([]string{"com", "net", "org", "info", "xyz", "top", "site", "online", "app", "io", "co", "biz", "support"}, tld) && l != "fbi" && l != "ncmec" && l != "ic3" {
				continue
			}
			return domain
		}
	}
	if tld == "gov" || tld == "mil" {
		return domain
	}
	// A police force's own domain under a country's top-level domain: cyberpolice.ir,
	// politiaromana.ro, mumbaipolice.gov.in (a lookalike sits on .com, .org…).
	if len(tld) == 2 {
		for _, l := range labels[:len(labels)-1] {
			for _, w := range []string{"police", "polizei", "politi", "policia", "policja", "polisen", "carabinieri", "gendarmerie", "jandarma"} {
				if strings.Contains(l, w) && !strings.Contains(l, "-") {
					return domain
				}
			}
		}
	}
	return ""
}

// lookalikeWords are what a forger puts in a domain name to pass for an authority or for
// the platform's own staff: generic words only (a review removed words that matched single
// senders of the development set).
var lookalikeWords = []string{"police", "polic", "politi", "polizei", "interpol", "europol", "cybercrim", "cibercrim", "cyber-pol", "gov", "gouv", "court", "justice", "justiz", "ministry", "verif", "kyc", "security", "secure", "telegram", "support", "copyright", "dmca", "domain", "fine"}

// junkTLDs are top-level domains that, in our mail, mostly carry junk.
var junkTLDs = []string{"shop", "store", "top", "xyz", "click", "buzz", "icu", "cfd", "sbs", "live", "biz", "loan", "win"}

// lookalikeSender returns the sender's domain when it is not official but is named like an
// authority, the platform's security team or a rights office: "police-cyber-unit.com".
func lookalikeSender(from string) string {
	if officialSender(from) != "" {
		return ""
	}
	addr := strings.ToLower(senderAddress(from))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	domain := addr[at+1:]
	for _, w := range lookalikeWords {
		if strings.Contains(domain, w) {
			return domain
		}
	}
	// Names of authorities that are also a country's own domains (ministeriopublico.pt):
	// a lookalike only under a generic top-level domain (poliziadistato-it.org).
	if tld := domain[strings.LastIndexByte(domain, '.')+1:]; len(tld) != 2 {
		for _, w := range lookalikeAbroad {
			if strings.Contains(domain, w) {
				return domain
			}
		}
	}
	return ""
}

// lookalikeAbroad are authorities' names that count as a lookalike under a generic
// top-level domain only.
var lookalikeAbroad = []string{"polizi", "policj", "policia", "gendarm", "carabinier", "procura", "fiscalia", "parquet", "tribunal", "govern", "minist", "guardia"}

func senderDomain(from string) string {
	addr := strings.ToLower(senderAddress(from))
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[at+1:]
	}
	return ""
}

// credentialAsk: a message that asks for a password or credentials (with a link, phishing).
var credentialAsk = rx(`password`, `passwort`, `mot de passe`, `contraseña`, `senha`, `wachtwoord`, `hasło`, `пароль`, `credenziali`, `credentials`, `şifre`, `κωδικό`, `parola`,
	`lösenord`, `kata sandi`, `mật khẩu`, `كلمة المرور`, `رمز عبور`, `पासवर्ड`, `密码`, `密碼`, `パスワード`, `비밀번호`, `otp`, `log in with`, `logga in med`, `inloggen met`, `connectez-vous`, `anmelden mit`)

// priceTag: prices, the stuff of offers (read only in texts with no legal signal).
var priceTag = regexp.MustCompile(`\d[\d.,]*\s?(€|eur\b|euro|usd\b|\$|mxn|lei\b|zł|руб|грн|₹|円|원|元|tl\b|vnđ|đồng|triệu|rp\b|dólares|دولار|تومان|ریال)|(€|\$|£|₹|rp\.?|r\$)\s?\d`)
