package triage

import (
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/docket-dev/docket"
)

// Profile holds the platform-specific link patterns. The default profile recognises Telegram
// links; a platform replaces Channel with its own pattern (two groups: the name, and an
// optional message id) and Base with its canonical prefix.
type Profile struct {
	Channel *regexp.Regexp
	Base    string
}

// DefaultProfile recognises https://t.me/<name>[/<id>] and its t.me/…, telegram.me/… forms.
var DefaultProfile = Profile{
	Channel: regexp.MustCompile(`(?i)(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/(?:s/)?([a-z][a-z0-9_]{3,31})(?:/(\d{1,12}))?\b`),
	Base:    "https://t.me/",
}

var (
	reUsername = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_@/.])@([A-Za-z][A-Za-z0-9_]{3,31})\b`)
	reEmail    = regexp.MustCompile(`(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,24}\b`)
	reURL      = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'()\[\]{}]+`)
	reIPv4     = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	reIPv6     = regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f:]{1,4}\b|(?i)\b[0-9a-f]{1,4}::(?:[0-9a-f]{1,4}:?){0,6}`)
	rePhone    = regexp.MustCompile(`(?:\+|\b00)?\d[\d\s().\-/]{6,18}\d\b`)
	reBTC58    = regexp.MustCompile(`\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b`)
	reBech32   = regexp.MustCompile(`(?i)\b(?:bc1|tb1)[ac-hj-np-z02-9]{8,87}\b`)
	reETH      = regexp.MustCompile(`\b0x[a-fA-F0-9]{40}\b`)
	reTON      = regexp.MustCompile(`\b[EUk0]Q[A-Za-z0-9_-]{46}\b`)
	reTRON     = regexp.MustCompile(`\bT[1-9A-HJ-NP-Za-km-z]{33}\b`)
)

// contactLine marks a line that gives the requester's own details: a labelled phone or
// address ("Tél :", "Phone:"), a call-back offer, an officer's title. What is on it is not
// a target, unless the line also says whose it is (the suspect's, the account's).
var contactLabels = []string{
	`\btel\s*[.:]`, `\btél\s*[.:]`, `t[ée]l[ée]phone\s*:`, `\bphone\s*:`, `\bfax\s*:`, `\bmobile\s*:`, `\bportable\s*:`, `\bcontact\s*:`,
	`courriel\s*:`, `e-?mail\s*:`, `telefon\s*:`, `tel[ée]fono\s*:`, `телефон\s*:`, `هاتف\s*:`, `تلفن\s*:`,
	`call\s*back`, `call me`, `reach me`, `joignable`, `rappeler`, `me joindre`, `nous joindre`, `erreichbar`, `r[üu]ckruf`, `ulaşabilirsiniz`,
	// Labels of letterheads and signature blocks in the other languages (with their colon
	// where the bare word is also what a letter asks about: "電話番号 080-…" is the suspect's).
	`\btfn\b`, `växel`, `telefoon\s*:`, `\bdesk\s*:`, `\bcell\s*:`, `\boffice\s*:`, `switchboard`, `duty officer`, `dyżurny\s*:`,
	`дежурн\S*\s*:`, `черговий\s*:`, `ضابط الخفر`, `संपर्क\s*:`, `電話\s*[:：]`, `电话\s*[:：]`, `전화\s*[:：]`, `연락처\s*[:：]`,
	`đt\s*:`, `điện thoại\s*:`, `τηλ\.?\s*:`, `тел\.?\s*:`, `telp\.?\s*:`, `puh\.?\s*:`,
}

var contactLine = regexp.MustCompile(`(` + strings.Join(contactLabels, "|") + `)`)

// labelBefore is a contact label that ends just before a number ("… Dyżurny: 47 835 23 00",
// "… tfn 010-563 70 00", "Tel. +33 …"): the number is the sender's own.
var labelBeforeRx = regexp.MustCompile(`(?:\btel|\btél|\btfn|\btelf|\btelp|\btlf|\bph|\bfax|växel|switchboard|hotline|dyżurny|дежурн\S*|черговий|\bтел|τηλ|đt|(?:phone|mobile|telefon|telefoon|telefone|tel[ée]fono|desk|cell|office|standard|電話|电话|전화|điện thoại|फ़ोन|फोन|दूरभाष|هاتف|تلفن)\s*[:：])\s*(?:\.|:|：|nr\.?|no\.?|n°)?\s*[:.]?\s*$`)

// numberWords say "the number": "numero di telefono +39 …" is what is asked about.
var numberWords = []string{"number", "numero", "número", "nummer", "numer", "номер", "số", "رقم", "شماره", "नंबर", "번호", "番号", "号码", "號碼", "αριθμ"}

// labelBefore reports whether a contact label ends just before a number in a line.
func labelBefore(line string, at int) bool {
	w := strings.ToLower(line[max(0, at-24):at])
	for i := 0; i < 3 && len(w) > 0 && !utf8.RuneStart(w[0]); i++ {
		w = w[1:]
	}
	if !labelBeforeRx.MatchString(w) {
		return false
	}
	// Whose it is is said in the same clause: "…konto @x. Dyżurny: …" is the officer's.
	if i := strings.LastIndexAny(strings.TrimRight(w, " :."), ".;,"); i >= 0 {
		w = w[i+1:]
	}
	for _, n := range numberWords {
		if strings.Contains(w, n) {
			return false
		}
	}
	return !mentionsTargetWords(w)
}

// inIdentifier reports whether the digits at line[a:b] are part of a file number or a
// reference ("TCO-SE-2026-0041", "1400-K2014477-26", "DI-2026-7712"): a letter or a hyphen
// after a letter or digit just before them, or a hyphen and a letter just after.
func inIdentifier(line string, a, b int) bool {
	if a > 0 {
		c := line[a-1]
		if isAlpha(c) || (c == '-' || c == '/' || c == '_') && a > 1 && (isAlpha(line[a-2]) || line[a-2] >= '0' && line[a-2] <= '9') {
			return true
		}
	}
	if b < len(line) {
		c := line[b]
		if isAlpha(c) || c == '-' && b+1 < len(line) && isAlpha(line[b+1]) {
			return true
		}
	}
	return false
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// maxContactLine is the longest line read as a contact line ("Tél : 01 53 71 53 71").
const maxContactLine = 160

// contactGate holds the literals without which contactLine cannot match (gathered label by
// label: the parser's factoring of the whole alternation hides them).
var contactGate = func() []string {
	var out []string
	for _, l := range contactLabels {
		g := gate(l)
		if g == nil {
			return nil
		}
		out = append(out, g...)
	}
	return out
}()

// contactGated reports whether a lower-cased line holds one of contactGate's literals.
func contactGated(lower string) bool {
	if contactGate == nil {
		return true
	}
	for _, g := range contactGate {
		if strings.Contains(lower, g) {
			return true
		}
	}
	return false
}

// mayLinkTelegram reports whether a line may hold a Telegram link, whatever its case.
func mayLinkTelegram(s string) bool {
	return strings.Contains(s, "t.me") || strings.Contains(s, "T.me") || strings.Contains(s, "T.ME") ||
		strings.Contains(s, "elegram") || strings.Contains(s, "ELEGRAM")
}

// signatureStarts open a closing block: from a line that starts with one of them, the rest
// of the text is the sender's.
var signatureStarts = []string{"--", "cordialement", "bien à vous", "respectueusement", "best regards", "kind regards", "regards",
	"sincerely", "yours faithfully", "mit freundlichen grüßen", "mfg", "atentamente", "saludos", "cordiali saluti", "distinti saluti",
	"atenciosamente", "cumprimentos", "met vriendelijke groet", "z poważaniem", "с уважением", "مع التحية", "مع خالص", "با احترام",
	"با تشکر", "saygılarımla", "le commandant", "l'officier de police judiciaire", "the undersigned"}

// signatureAt returns the byte offset of the first line that opens a closing block, or -1.
func signatureAt(text string) int {
	off := 0
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line = text[:i+1]
		}
		text = text[len(line):]
		l := strings.TrimSpace(line)
		for _, s := range signatureStarts {
			if len(l) >= len(s) && strings.EqualFold(l[:len(s)], s) && (s != "--" || l == "--") {
				return off
			}
		}
		off += len(line)
	}
	return -1
}

// Extract returns the targets a text asks about, normalised, each once, with the odd things
// it noticed. country is the sender's ISO 3166 country, for numbers written in national form.
// from is the sender's address: it is never a target.
func (p Profile) Extract(text, country, from string) ([]docket.Target, []string) {
	var out []docket.Target
	var notes []string
	seen := map[docket.Target]bool{}
	add := func(kind, value string) {
		t := docket.Target{Kind: kind, Value: value}
		if value != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	from = strings.ToLower(strings.TrimSpace(from))
	body := text
	if at := signatureAt(text); at > len(text)/3 {
		body = text[:at]
	}
	lineAt := 0
	for _, line := range strings.Split(body, "\n") {
		lineAt += len(line) + 1
		digits := 0
		for i := 0; i < len(line); i++ {
			if line[i] >= '0' && line[i] <= '9' {
				digits++
			}
		}
		// A line with no digits, no @, no colon, no Telegram link and no long token holds no
		// target: skip it before the costlier reading.
		if digits < 4 && !strings.ContainsAny(line, "@:") && !mayLinkTelegram(line) && !hasLongToken(line, 26) {
			if !isASCII(line) && hasMixedScripts(line) {
				notes = append(notes, "mixed scripts in a line (possible homoglyphs)")
			}
			continue
		}
		lower := strings.ToLower(line)
		// Only a short line with a number or an address can give the sender's own contact;
		// a paragraph is not a signature line.
		if utf8.RuneCountInString(line) <= maxContactLine && (digits >= 6 || strings.Contains(line, "@")) &&
			contactGated(lower) && contactLine.MatchString(lower) && !mentionsTargetWords(lower) {
			continue
		}
		has := func(subs ...string) bool {
			for _, s := range subs {
				if strings.Contains(lower, s) {
					return true
				}
			}
			return false
		}
		if !isASCII(line) && hasMixedScripts(line) {
			notes = append(notes, "mixed scripts in a line (possible homoglyphs)")
		}
		taken := []([2]int){}
		take := func(loc []int) bool {
			for _, t := range taken {
				if loc[0] < t[1] && t[0] < loc[1] {
					return false
				}
			}
			taken = append(taken, [2]int{loc[0], loc[1]})
			return true
		}
		for _, m := range p.Channel.FindAllStringSubmatchIndex(ifHas(line, has("t.me", "telegram")), -1) {
			take(m[:2])
			name := line[m[2]:m[3]]
			if strings.EqualFold(name, "joinchat") || strings.EqualFold(name, "share") {
				continue
			}
			if m[4] >= 0 {
				add("message", p.Base+name+"/"+line[m[4]:m[5]])
			} else {
				add("channel", p.Base+name)
			}
		}
		for _, loc := range reURL.FindAllStringIndex(ifHas(line, has("http")), -1) {
			if !take(loc) {
				continue
			}
			raw := strings.TrimRight(line[loc[0]:loc[1]], ".,;:!?»”’")
			u, err := url.Parse(raw)
			if err != nil || u.Host == "" {
				continue
			}
			if !isASCII(u.Host) {
				notes = append(notes, "non-ASCII host in a link: "+u.Host)
			}
			if officialSender("x@"+u.Hostname()) != "" {
				continue // an authority's own portal or page, not what is asked about
			}
			add("url", u.String())
		}
		for _, loc := range emailSpans(line) { // reEmail, from where an address can start (scanners_test.go)
			if !take(loc) {
				continue
			}
			addr := strings.ToLower(line[loc[0]:loc[1]])
			if addr != from {
				add("email", addr)
			}
		}
		for _, m := range usernameSpans(line) { // reUsername, by hand (scanners_test.go)
			if take(m[2:4]) {
				add("username", "@"+line[m[2]:m[3]])
			}
		}
		longToken := hasLongToken(line, 26)
		for _, w := range []struct {
			re *regexp.Regexp
			ok bool
		}{
			{reBech32, has("bc1", "tb1")},
			{reETH, strings.Contains(line, "0x")},
			{reTON, longToken && has("eq", "uq", "kq", "0q")},
			{reBTC58, longToken},
			{reTRON, longToken},
		} {
			re := w.re
			for _, loc := range re.FindAllStringIndex(ifHas(line, w.ok && digits >= 6), -1) {
				w := line[loc[0]:loc[1]]
				switch {
				case validWallet(w) && take(loc):
					add("wallet", w)
				case shapedWallet(w) && take(loc):
					// A wallet typed by hand may carry a typo: it still names what is asked.
					add("wallet", w)
					notes = append(notes, "wallet "+w+" has the shape of an address but its checksum fails")
				}
			}
		}
		for _, loc := range reIPv4.FindAllStringIndex(ifHas(line, digits >= 4 && strings.Count(line, ".") >= 3), -1) {
			if ip := net.ParseIP(line[loc[0]:loc[1]]); ip != nil && take(loc) {
				add("ip", ip.String())
			}
		}
		for _, loc := range reIPv6.FindAllStringIndex(ifHas(line, mayHoldIPv6(line)), -1) {
			if ip := net.ParseIP(line[loc[0]:loc[1]]); ip != nil && strings.Contains(line[loc[0]:loc[1]], ":") && take(loc) {
				add("ip", ip.String())
			}
		}
		for _, loc := range rePhone.FindAllStringIndex(ifHas(line, digits >= 8), -1) {
			if line[loc[0]] != '+' && inIdentifier(line, loc[0], loc[1]) {
				continue
			}
			num, ok := phone(line[loc[0]:loc[1]], country)
			if !ok || !take(loc) {
				continue
			}
			if labelBefore(line, loc[0]) {
				continue // the sender's own number, after its label
			}
			// A fixed line on a short line (a signature, a switchboard) or in the last part of
			// the letter is the sender's own, unless the line says whose it is.
			if (utf8.RuneCountInString(line) <= 140 || lineAt > len(body)*6/10) && !mentionsTargetWords(lower) &&
				switchboard(phonenumbers.GetNumberType(num)) {
				continue
			}
			add("phone", phonenumbers.Format(num, phonenumbers.E164))
		}
	}
	return out, notes
}

// switchboard reports a number type that is an office's, not a person's: a fixed line, a
// universal access or shared-cost number, a toll-free line.
func switchboard(t phonenumbers.PhoneNumberType) bool {
	return t == phonenumbers.FIXED_LINE || t == phonenumbers.UAN || t == phonenumbers.SHARED_COST || t == phonenumbers.TOLL_FREE
}

// mayHoldIPv6 reports whether a line has "::" or two colons between hexadecimal digits, as
// an IPv6 address does (a time, a URL's scheme or a label's colon do not).
func mayHoldIPv6(line string) bool {
	if strings.Contains(line, "::") {
		return true
	}
	n := 0
	for i := 1; i+1 < len(line); i++ {
		if line[i] == ':' && isHex(line[i-1]) && isHex(line[i+1]) {
			n++
		}
	}
	return n >= 2
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// hasLongToken reports whether line holds a run of at least n letters and digits (a wallet
// address is one).
func hasLongToken(line string, n int) bool {
	run := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// ifHas returns line when a cheap test says a pattern may match in it, else "", so that the
// costlier regular expressions run only on lines that can hold what they look for.
func ifHas(line string, ok bool) string {
	if ok {
		return line
	}
	return ""
}

// targetWords say whose a number or address is: the suspect's, the account's.
var targetWords = []string{"suspect", "titulaire", "کاربر", "المستخدم", "صاحب", "пользовател", "abonné", "account", "compte", "utilisateur", "user", "inhaber", "nutzer", "cuenta", "usuario", "utente", "conta", "gebruiker", "konto", "użytkownik", "абонент", "аккаунт", "حساب", "kullanıcı", "hesap", "victim", "victime", "opfer", "víctima", "vittima", "vítima", "slachtoffer", "ofiara", "жертв", "ضحية", "قربانی", "mağdur", "target", "cible", "ziel",
	"titular", "sospech", "sospett", "verdächt", "verdacht", "đối tượng", "犯人", "容疑者", "被疑者", "嫌疑人", "अभियुक्त", "आरोपी",
	"подозрева", "підозрюван", "şüpheli", "ύποπτ", "podejrzan", "suspeit", "misstänkt", "tersangka", "متهم", "المشتبه", "مظنون", "als kontakt", "como contacto", "como contato", "come contatto"}

// mentionsTargetWords tells a line that gives a suspect's number ("the number 06… used by
// the suspect") from a contact line.
// A Latin target word must start a word, and "conta" (Portuguese: account) end one, so that
// "contact", "contato" and "contatto" are not read as an account.
func mentionsTargetWords(l string) bool {
	for _, w := range targetWords {
		for off := 0; off < len(l); {
			i := strings.Index(l[off:], w)
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			if w[0] < 0x80 && i > 0 && isAlpha(l[i-1]) {
				continue
			}
			if w == "conta" && i+len(w) < len(l) && isAlpha(l[i+len(w)]) {
				continue
			}
			return true
		}
	}
	return false
}

var citation = regexp.MustCompile(`^(19|20)\d{2}\s*/\s*\d+$`)

// dateLike is a date (22.10.2026, 2026-10-22, 22/10/2026), not a number to parse.
var dateLike = regexp.MustCompile(`^(\d{1,2}[./-]\d{1,2}[./-](19|20)?\d{2}|(19|20)\d{2}[./-]\d{1,2}[./-]\d{1,2})$`)

// phone reads a phone number.
func phone(candidate, country string) (*phonenumbers.PhoneNumber, bool) {
	if citation.MatchString(strings.TrimSpace(candidate)) || dateLike.MatchString(strings.TrimSpace(candidate)) {
		return nil, false // 2022/2065 is a regulation, not a number
	}
	digits := 0
	for _, r := range candidate {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits < 8 || digits > 15 {
		return nil, false
	}
	c := strings.TrimSpace(candidate)
	if strings.HasPrefix(c, "00") {
		c = "+" + c[2:]
	}
	region := strings.ToUpper(country)
	if region == "" {
		region = "ZZ"
	}
	if !strings.HasPrefix(c, "+") && region == "ZZ" {
		return nil, false
	}
	num, err := phonenumbers.Parse(c, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return nil, false
	}
	return num, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hasMixedScripts reports a word mixing Latin with Cyrillic or Greek letters, the usual
// homoglyph trick.
func hasMixedScripts(line string) bool {
	latin, other := false, false
	for _, r := range line {
		switch {
		case !unicode.IsLetter(r) && r != '.' && r != '/':
			latin, other = false, false // a word ends
		case r < 0x80 || unicode.Is(unicode.Latin, r):
			latin = true
		case unicode.Is(unicode.Cyrillic, r), unicode.Is(unicode.Greek, r):
			other = true
		}
		if latin && other {
			return true
		}
	}
	return false
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// shapedWallet reports an address of the exact shape of a Bitcoin segwit (bc1q, 42 or 62
// characters) or a TRON (T, 34 characters) address, whatever its checksum.
func shapedWallet(w string) bool {
	lw := strings.ToLower(w)
	switch {
	case strings.HasPrefix(lw, "bc1q") && (len(w) == 42 || len(w) == 62) && (lw == w || strings.ToUpper(w) == w):
		return strings.Trim(lw[4:], "qpzry9x8gf2tvdw0s3jn54khce6mua7l") == ""
	case w[0] == 'T' && len(w) == 34:
		return true
	}
	return false
}

func validWallet(w string) bool {
	switch {
	case strings.HasPrefix(w, "0x"):
		return validETH(w)
	case strings.HasPrefix(strings.ToLower(w), "bc1"), strings.HasPrefix(strings.ToLower(w), "tb1"):
		return validBech32(w)
	case len(w) == 48 && w[1] == 'Q':
		return validTON(w)
	}
	return validBase58Check(w)
}

func validBase58Check(s string) bool {
	n := new(big.Int)
	for _, r := range s {
		i := strings.IndexRune(base58Alphabet, r)
		if i < 0 {
			return false
		}
		n.Mul(n, big.NewInt(58))
		n.Add(n, big.NewInt(int64(i)))
	}
	b := n.Bytes()
	for _, r := range s {
		if r != '1' {
			break
		}
		b = append([]byte{0}, b...)
	}
	if len(b) != 25 {
		return false
	}
	h1 := sha256.Sum256(b[:21])
	h2 := sha256.Sum256(h1[:])
	return slices.Equal(h2[:4], b[21:])
}

func validBech32(s string) bool {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return false
	}
	s = strings.ToLower(s)
	pos := strings.LastIndexByte(s, '1')
	if pos < 1 || pos+7 > len(s) {
		return false
	}
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	hrp, data := s[:pos], s[pos+1:]
	values := make([]int, 0, len(hrp)*2+1+len(data))
	for _, c := range hrp {
		values = append(values, int(c)>>5)
	}
	values = append(values, 0)
	for _, c := range hrp {
		values = append(values, int(c)&31)
	}
	for _, c := range data {
		i := strings.IndexRune(charset, c)
		if i < 0 {
			return false
		}
		values = append(values, i)
	}
	gen := []int{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := 1
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ v
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk == 1 || chk == 0x2bc830a3 // bech32 or bech32m
}

// validETH accepts any 0x + 40 hex digits. Mixed case carries an EIP-55 checksum
// (Keccak-256), which is not verified here: the pattern alone is specific enough.
func validETH(string) bool { return true }

func decodeBase64URL(s string) ([]byte, error) {
	if b, err := base64.URLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func validTON(s string) bool {
	b, err := decodeBase64URL(s)
	if err != nil || len(b) != 36 {
		return false
	}
	return crc16(b[:34]) == uint16(b[34])<<8|uint16(b[35])
}

func crc16(data []byte) uint16 {
	var crc uint16
	for _, b := range data {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// withoutNotifier drops from a notice's targets the e-mail address its sender gave as their
// own: a notice must name its notifier (DSA art. 16(2)(c)), and the address does so on a
// line of the notice's second half that names nothing else — no link, no other handle.
func withoutNotifier(text string, targets []docket.Target) []docket.Target {
	lower := strings.ToLower(text)
	out := targets[:0]
	for _, t := range targets {
		if t.Kind == "email" && notifierLine(lower, t.Value) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// notifierLine reports whether addr appears in the second half of lower on a line that holds
// no link and no @ but the address's own.
func notifierLine(lower, addr string) bool {
	at := strings.LastIndex(lower, addr)
	if at < 0 || at < len(lower)/2 {
		return false
	}
	start := strings.LastIndexByte(lower[:at], '\n') + 1
	end := len(lower)
	if i := strings.IndexByte(lower[at:], '\n'); i >= 0 {
		end = at + i
	}
	line := lower[start:at] + lower[at+len(addr):end]
	return !strings.Contains(line, "@") && !strings.Contains(line, "http") && !mayLinkTelegram(line)
}
