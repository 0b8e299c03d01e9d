package triage

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// Languages are the languages the triage tells apart (ISO 639-1). A text in another language
// is "und" (undetermined), never a neighbour in the set.
var Languages = strings.Fields("ar de el en es fa fr hi id it ja ko nl pl pt ro ru sv tr uk vi zh")

var inSet = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range Languages {
		m[l] = true
	}
	return m
}()

// stopwords are frequent short words that tell Latin-script languages apart quickly. The
// languages marked with "-" are outside the set: they are listed so that a Danish or Czech
// text is recognised as such and answered "und", rather than taken for Swedish or Polish.
var stopwords = map[string][]string{
	"fr":  strings.Fields("le la les des du de un une et est pour que qui dans sur au aux par ce cette nous vous il elle sont pas avec ne ou mais votre notre"),
	"en":  strings.Fields("the and of to in is that for this with are on be by it you we from have has please your our an or as was will not"),
	"de":  strings.Fields("der die das und ist nicht ein eine zu den von mit sich des auf für im dem wir sie bitte ihre unser wird sind oder auch nach"),
	"es":  strings.Fields("el la los las de del que y en un una es por para con se al lo su sus como más pero este esta solicita ya usted nos muy fue tiene hay"),
	"it":  strings.Fields("il lo la gli le di che e è un una per con non del della dei nel alla sono come ai degli questo questa chiediamo da un qui su ha ho hai ci si anche tutto"),
	"pt":  strings.Fields("o a os as de do da dos das que e em um uma para com não por se ao na no mais como este esta é são já você seu sua nos nas pelo pela foi tem"),
	"nl":  strings.Fields("de het een en van is dat op te in voor met zijn niet aan er ook als bij deze die wij u uw naar"),
	"pl":  strings.Fields("i w na z się nie do że jest o to jak po co ten ta przez dla od oraz są prosimy konta"),
	"tr":  strings.Fields("ve bir bu için ile da de ne çok olarak gibi daha ama ya ki mi hesabını hemen lütfen bilgi"),
	"sv":  strings.Fields("och att det är som för på med inte av till har vi ni den om ett jag hon han de var kan ska eller efter enligt"),
	"ro":  strings.Fields("și si în să de la cu care pe pentru este nu un o din vă că sunt acest această fost mai prin ale al lui"),
	"id":  strings.Fields("yang dan di untuk dengan ini itu dari tidak akan kami anda pada dalam adalah atau saya kita sudah telah bisa ada mohon"),
	"vi":  strings.Fields("và của là có không được cho này một những các người để trong với đã tôi bạn chúng anh em theo về"),
	"hi":  strings.Fields("hai hain ka ki ke ko mein nahi nahin aap kya ye yeh wo woh tha thi kar raha rahi mujhe tum bhi aur mera meri tera teri uska usne hum"),
	"-da": strings.Fields("og ikke af jeg være hvad eller skal hun hvor også fra bare nogen meget jer hende deres ikk"),
	"-no": strings.Fields("og ikke av jeg være hva eller etter skal ikkje meg deg hun hvor også fra bare noen mye deres dere"),
	"-cs": strings.Fields("je že jsou nebo také jsem který která bylo jako není jsme jste mně mi pro při už jen když proto protože prosím děkuji ve"),
	"-sk": strings.Fields("sa sú ako alebo som ktorý ktorá bolo tiež vo"),
	"-hu": strings.Fields("az és hogy nem egy van meg ez csak már mint volt vagy kell vagyok nekem neki ezt azt mert amikor mindent köszönöm kérem"),
	"-fi": strings.Fields("ja on ei että oli hän mutta kun tai myös ovat tämä joka mitä niin"),
	"-ca": strings.Fields("els les amb és però aquest aquesta seva també perquè això aquí molt moltes gràcies meu meva nostre tinc puc fer dels"),
	"-hr": strings.Fields("je su kao ali što koji koja ili biti jer šta nije će smo ste joj mu ga kod ništa samo već jako hvala molim sam nisu kad ako bi bio bila još može treba hoće"),
	"-sl": strings.Fields("je so kot ali ki pa tudi sem bilo bo bom bomo v"),
	"-lt": strings.Fields("ir yra kad su iš bet tai kaip buvo jis jie"),
	"-lv": strings.Fields("ir ar uz tas kā bija viņš viņa"),
	"-et": strings.Fields("ja on et see ei oli ka kui mis aga või nii tema oma sest ning kuid selle seda kes ära"),
	"-tl": strings.Fields("ang ng mga ay ko mo siya hindi para kung ito sa niya nila ako naman lang nang kay"),
	"-sw": strings.Fields("na ya wa kwa ni za katika hii kuwa au lakini"),
	"-af": strings.Fields("nie vir sy hy ons"),
}

// outOfSetKin are languages outside the set that the words above would give to a close
// neighbour inside it: Danish and Norwegian share most of Swedish's frequent words, Malay
// Indonesian's, Catalan those of Spanish, French, Italian and Portuguese. A text given to
// one of the neighbours (of) that holds min or more of these words of its own is "und".
var outOfSetKin = []struct {
	code  string // Danish stands for Norwegian too
	of    []string
	words []string
	min   int
}{
	{"da", []string{"sv"}, strings.Fields("ikke jeg og at af et der til skal sier siden inden innen hun også når hvor hva hvad være meg deg seg dere jer deres noe noen noget nogen nogle blitt blevet fra etter"), 2},
	{"ms", []string{"id"}, strings.Fields("kerana bahawa iaitu sahaja awak korang mesej nak isteri wang"), 1},
	{"ca", []string{"es", "fr", "it", "pt"}, strings.Fields("amb els perquè això aquest aquesta aquests aquestes meva seva vull també algú ningú demà avui ahir gràcies sisplau tinc estic sóc"), 1},
}

var kinWord = func() map[string]int {
	m := map[string]int{}
	for i, k := range outOfSetKin {
		for _, w := range k.words {
			m[w] = i
		}
	}
	return m
}()

// kinOf reports the out-of-set neighbour of lang whose words the text holds (counts from
// latinLanguage): its code, or "".
func kinOf(lang string, counts []int) string {
	for i, k := range outOfSetKin {
		if counts[i] >= k.min && slices.Contains(k.of, lang) {
			return k.code
		}
	}
	return ""
}

// foreignLetters are Latin letters that none of the set's Latin-script languages writes:
// Czech and Slovak (č ď ě ľ ĺ ň ŕ ř š ť ů ž, the š ž č also of Croatian, Slovenian and
// the Baltic languages), Hungarian ő ű, Danish and Norwegian æ ø, Lithuanian ė į ų,
// Latvian ā ē ī ū ģ ķ ļ ņ. A Latin-script text in which they are common is "und" whatever
// its frequent words (a Slovak "na", "a", "o" looks Portuguese, a Croatian "o", "po" Polish).
const foreignLetters = "čďěľĺňŕřšťůžőűæøėįųāēīūģķļņČĎĚĽĹŇŔŘŠŤŮŽŐŰÆØĖĮŲĀĒĪŪĢĶĻŅ"

// bulgarianWords are frequent Bulgarian (and a few Serbian) words that Russian does not
// have, for a Cyrillic text without ъ, ј and the like, which would otherwise be Russian.
var bulgarianWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("ще са това тя довечера днес сега които който която защото утре ги нещо някой тук няма има беше бяха искат иска ми сутра данас вечерас шта") {
		bulgarianWords[w] = true
	}
}

var stopwordLang = func() map[string][]string {
	m := map[string][]string{}
	for lang, words := range stopwords {
		for _, w := range words {
			m[w] = append(m[w], lang)
		}
	}
	return m
}()

// Language returns the ISO 639-1 code of the text's language (one of Languages) and a
// confidence in [0, 1]; "und" when it cannot tell or the language is outside the set.
// Scripts decide most languages at once (Hangul, kana, Han, Greek, Devanagari, Arabic vs
// Persian letters, Ukrainian vs Russian letters); Latin-script texts are told apart by
// their frequent words and letters, and a trigram detector (whatlanggo) settles what those
// leave open.
func Language(text string) (string, float64) { return language(text, false) }

// language is Language; lowered says the text is lower-cased already.
func language(text string, lowered bool) (string, float64) {
	lang, conf, _ := detect(text, lowered)
	return lang, conf
}

// detect is language, and for an "und" text the language outside the set that it is
// written in when a strong sign shows it (its script or letters, its frequent words):
// "he", "cs", "latin" (letters of a language outside the set)…, or "" when nothing does.
func detect(text string, lowered bool) (string, float64, string) {
	// Links, handles and addresses say nothing of the language.
	if strings.ContainsAny(text, "/@") || strings.Contains(text, "t.me") {
		var b strings.Builder
		b.Grow(len(text))
		for _, w := range strings.Fields(text) {
			if !strings.ContainsAny(w, "/@") && !strings.Contains(w, "t.me") {
				b.WriteString(w)
			} else {
				// A link or handle is ASCII; what is glued to it in a script written
				// without spaces (Chinese, Japanese) is not, and is the text.
				for _, r := range w {
					if r >= 0x80 {
						b.WriteRune(r)
					}
				}
			}
			b.WriteByte(' ')
		}
		text = b.String()
	}
	var latin, cyr, arab, han, kana, hangul, deva, greek, other, letters, foreign int
	var uk, ru, bg, cyrOut, serbian, fa, ur, vi bool
	var hebrew, thai, bengali int
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case r < 0x250:
			latin++
			if r >= 0xC6 && strings.ContainsRune(foreignLetters, r) {
				foreign++
			}
		case r >= 0x1E00 && r <= 0x1EFF:
			latin++
			vi = true
		case r >= 0x0370 && r <= 0x03FF, r >= 0x1F00 && r <= 0x1FFF:
			greek++
		case r >= 0x0400 && r <= 0x052F:
			cyr++
			switch {
			case strings.ContainsRune("іїєґ", r):
				uk = true
			case strings.ContainsRune("ыэ", r):
				ru = true
			case r == 'ъ':
				bg = true
			case strings.ContainsRune("јљњћђџ", r):
				cyrOut, serbian = true, true
			case strings.ContainsRune("ўѓќѕәғқңөұүһ", r):
				cyrOut = true
			}
		case unicode.Is(unicode.Arabic, r):
			arab++
			switch {
			case strings.ContainsRune("پچژگکی", r):
				fa = true
			case strings.ContainsRune("ٹڈڑںےھ", r):
				ur = true
			}
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.Is(unicode.Hangul, r):
			hangul++
		case unicode.Is(unicode.Devanagari, r):
			deva++
		default:
			other++
			switch {
			case unicode.Is(unicode.Hebrew, r):
				hebrew++
			case unicode.Is(unicode.Thai, r):
				thai++
			case unicode.Is(unicode.Bengali, r):
				bengali++
			}
		}
	}
	if letters < 3 {
		return "und", 0, ""
	}
	share := func(n int) float64 { return float64(n) / float64(letters) }
	switch {
	case share(hangul) > 0.3:
		return "ko", share(hangul), ""
	case kana > 0 && share(kana) > 0.05 && share(han+kana) > 0.3:
		return "ja", share(han + kana), ""
	case share(han) > 0.3:
		return "zh", share(han), ""
	case share(greek) > 0.5:
		return "el", share(greek), ""
	case share(deva) > 0.5:
		if strings.Contains(text, "आहे") || strings.Contains(text, "आणि") {
			return "und", 0.5, "mr" // Marathi
		}
		return "hi", share(deva), ""
	case share(arab) > 0.5 && ur:
		return "und", 0.5, "ur" // Urdu
	case share(arab) > 0.5 && fa:
		return "fa", share(arab), ""
	case share(arab) > 0.5:
		return "ar", share(arab), ""
	case share(cyr) > 0.5 && serbian:
		return "und", 0.5, "sr" // Serbian
	case share(cyr) > 0.5 && cyrOut:
		return "und", 0.5, "" // Belarusian, Macedonian, Kazakh…
	case share(cyr) > 0.5 && uk && !ru:
		return "uk", share(cyr), ""
	case share(cyr) > 0.5 && ru:
		return "ru", share(cyr), ""
	case share(cyr) > 0.5 && bg:
		return "und", 0.5, "bg" // Bulgarian
	case share(cyr) > 0.5 && (hasWord(text, bulgarianWords) || strings.Contains(text, "ията ") || strings.Contains(text, "ието ")):
		return "und", 0.5, "bg" // Bulgarian or Serbian without ъ, ј…
	case share(cyr) > 0.5:
		return "ru", share(cyr) * 0.6, ""
	case share(other) > 0.5:
		switch {
		case share(hebrew) > 0.5:
			return "und", share(other), "he"
		case share(thai) > 0.5:
			return "und", share(other), "th"
		case share(bengali) > 0.5:
			return "und", share(other), "bn"
		}
		return "und", share(other), ""
	}
	if share(latin) <= 0.5 {
		return "und", 0, ""
	}
	if foreign >= 2 && float64(foreign) >= 0.02*float64(letters) {
		return "und", 0.5, "latin" // Czech, Slovak, Croatian, Slovenian, Baltic, Hungarian, Danish…
	}
	lang, conf, hits, kin := latinLanguage(text, vi, lowered)
	switch {
	case lang != "" && lang[0] == '-' && (conf >= 0.3 || hits >= 4):
		return "und", conf, lang[1:]
	case lang != "" && lang[0] != '-' && (conf >= 0.5 || hits >= 4):
		if k := kinOf(lang, kin); k != "" {
			return "und", 0.5, k
		}
		return lang, conf, ""
	}
	info := whatlanggo.Detect(text)
	code := info.Lang.Iso6391()
	switch info.Lang {
	case whatlanggo.Pes:
		code = "fa"
	case whatlanggo.Cmn:
		code = "zh"
	}
	if k := kinOf(code, kin); k != "" {
		return "und", info.Confidence, k
	}
	if !inSet[code] {
		// The trigrams alone are no strong sign of which language outside the set it is;
		// with the frequent words of one, they are.
		guess := ""
		if lang != "" && lang[0] == '-' {
			guess = lang[1:]
		} else {
			for i, k := range outOfSetKin {
				if kin[i] >= k.min {
					guess = k.code
					break
				}
			}
		}
		return "und", info.Confidence, guess
	}
	return code, info.Confidence, ""
}

// hasWord reports whether the text holds one of the words (lower-cased).
func hasWord(text string, words map[string]bool) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if words[w] {
			return true
		}
	}
	return false
}

func latinLanguage(text string, vietnamese, lowered bool) (string, float64, float64, []int) {
	score := make(map[string]float64, 8)
	kin := make([]int, len(outOfSetKin))
	lower := text
	if !lowered {
		lower = strings.ToLower(text)
	}
	for i := 0; i < len(lower); {
		j := i
		for j < len(lower) {
			r, n := rune(lower[j]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(lower[j:])
			}
			if !unicode.IsLetter(r) && r != '\'' {
				if j == i {
					j += n
					i = j
					continue
				}
				break
			}
			j += n
		}
		if j > i {
			w := lower[i:j]
			for _, lang := range stopwordLang[w] {
				score[lang]++
			}
			if k, ok := kinWord[w]; ok {
				kin[k]++
			}
		}
		i = j
	}
	if vietnamese {
		score["vi"] += 3
	}
	for i, r := range lower {
		if r < 0x80 {
			continue // the letters below are all beyond ASCII
		}
		switch {
		case r == 'õ' && !strings.HasPrefix(lower[i+len("õ"):], "e"):
			score["-et"] += 2 // Estonian: Portuguese writes õ before e (-ões, põe)
		case r == 'ć':
			score["pl"] += 2
			score["-hr"]++ // Croatian, Serbian, Bosnian too
		case strings.ContainsRune("ąęłńśźż", r):
			score["pl"] += 2
		case strings.ContainsRune("ığ", r):
			score["tr"] += 2
		case r == 'ş':
			score["tr"]++
			score["ro"]++
		case strings.ContainsRune("șțţ", r):
			score["ro"] += 2
		case r == 'ă':
			score["ro"]++
			score["vi"]++
		case strings.ContainsRune("ươđ", r):
			score["vi"] += 2
		case r == 'ß':
			score["de"] += 2
		case strings.ContainsRune("ãõ", r):
			score["pt"] += 2
		case r == 'ñ':
			score["es"] += 2
		case r == 'å':
			score["sv"]++
			score["-da"]++
			score["-no"]++
		case strings.ContainsRune("æø", r):
			score["-da"] += 2
			score["-no"] += 2
		case strings.ContainsRune("ěřů", r):
			score["-cs"] += 2
		case strings.ContainsRune("őű", r):
			score["-hu"] += 2
		case strings.ContainsRune("ëï", r):
			score["nl"] += 0.5
			score["fr"] += 0.5
		}
	}
	best, second, lang := 0.0, 0.0, ""
	for l, s := range score {
		switch {
		case s > best:
			best, second, lang = s, best, l
		case s == best:
			second = s
			lang = min(lang, l)
		case s > second:
			second = s
		}
	}
	if best < 2 {
		return "", 0, best, kin
	}
	return lang, (best - second) / best, best, kin
}
