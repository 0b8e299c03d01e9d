package triage

import (
	"strings"
	"unicode"

	"github.com/abadojack/whatlanggo"
)

// languages are the ones the fallback detector may answer.
var languages = func() map[whatlanggo.Lang]bool {
	m := map[whatlanggo.Lang]bool{}
	for _, l := range []whatlanggo.Lang{whatlanggo.Fra, whatlanggo.Eng, whatlanggo.Deu, whatlanggo.Spa, whatlanggo.Ita,
		whatlanggo.Por, whatlanggo.Nld, whatlanggo.Pol, whatlanggo.Rus, whatlanggo.Arb, whatlanggo.Pes, whatlanggo.Tur,
		whatlanggo.Hin, whatlanggo.Cmn, whatlanggo.Ukr} {
		m[l] = true
	}
	return m
}()

// stopwords are frequent short words that tell Latin-script languages apart quickly.
var stopwords = map[string][]string{
	"fr": strings.Fields("le la les des du de un une et est pour que qui dans sur au aux par ce cette nous vous il elle sont pas avec ne ou mais votre notre"),
	"en": strings.Fields("the and of to in is that for this with are on be by it you we from have has please your our an or as was will not"),
	"de": strings.Fields("der die das und ist nicht ein eine zu den von mit sich des auf für im dem wir sie bitte ihre unser wird sind oder auch nach"),
	"es": strings.Fields("el la los las de del que y en un una es por para con se al lo su sus como más pero este esta solicita ya usted nos muy fue tiene hay"),
	"it": strings.Fields("il lo la gli le di che e è un una per con non del della dei nel alla sono come ai degli questo questa chiediamo da un qui su ha ho hai ci si anche tutto"),
	"pt": strings.Fields("o a os as de do da dos das que e em um uma para com não por se ao na no mais como este esta é são já você seu sua nos nas pelo pela foi tem"),
	"nl": strings.Fields("de het een en van is dat op te in voor met zijn niet aan er ook als bij deze die wij u uw naar"),
	"pl": strings.Fields("i w na z się nie do że jest o to jak po co ten ta przez dla od oraz są prosimy konta"),
	"tr": strings.Fields("ve bir bu için ile da de ne çok olarak gibi daha ama ya ki mi hesabını hemen lütfen bilgi"),
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

// Language returns the ISO 639-1 code of the text's language and a confidence in [0, 1];
// "und" when it cannot tell (empty text, digits and links only). Scripts decide most
// languages at once; Latin-script texts are told apart by their frequent words and letters,
// and a trigram detector (whatlanggo) settles what those leave open.
func Language(text string) (string, float64) {
	// Links, handles and addresses say nothing of the language.
	words := strings.Fields(text)
	kept := words[:0]
	for _, w := range words {
		if !strings.ContainsAny(w, "/@") && !strings.Contains(w, "t.me") {
			kept = append(kept, w)
		}
	}
	text = strings.Join(kept, " ")
	var latin, cyr, arab, han, deva, letters int
	persian, ukrainian := false, false
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case r < 0x250:
			latin++
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
			ukrainian = ukrainian || strings.ContainsRune("іїєґ", r)
		case unicode.Is(unicode.Arabic, r):
			arab++
			persian = persian || strings.ContainsRune("پچژگکی", r)
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.Is(unicode.Devanagari, r):
			deva++
		}
	}
	if letters < 3 {
		return "und", 0
	}
	share := func(n int) float64 { return float64(n) / float64(letters) }
	switch {
	case share(arab) > 0.5 && persian:
		return "fa", share(arab)
	case share(arab) > 0.5:
		return "ar", share(arab)
	case share(cyr) > 0.5 && ukrainian:
		return "uk", share(cyr)
	case share(cyr) > 0.5:
		return "ru", share(cyr)
	case share(han) > 0.3:
		return "zh", share(han)
	case share(deva) > 0.5:
		return "hi", share(deva)
	}
	if share(latin) > 0.5 {
		if lang, conf, hits := latinLanguage(text); conf >= 0.5 || (lang != "" && hits >= 4) {
			return lang, conf
		}
	}
	info := whatlanggo.DetectWithOptions(text, whatlanggo.Options{Whitelist: languages})
	code := info.Lang.Iso6391()
	switch info.Lang {
	case whatlanggo.Pes:
		code = "fa"
	case whatlanggo.Cmn:
		code = "zh"
	}
	if code == "" {
		return "und", 0
	}
	return code, info.Confidence
}

func latinLanguage(text string) (string, float64, float64) {
	score := map[string]float64{}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	for _, w := range words {
		for _, lang := range stopwordLang[w] {
			score[lang]++
		}
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case strings.ContainsRune("ąćęłńśźż", r):
			score["pl"] += 2
		case strings.ContainsRune("ığş", r):
			score["tr"] += 2
		case r == 'ß':
			score["de"] += 2
		case strings.ContainsRune("ãõ", r):
			score["pt"] += 2
		case r == 'ñ':
			score["es"] += 2
		case strings.ContainsRune("ëï", r):
			score["nl"] += 0.5
			score["fr"] += 0.5
		}
	}
	best, second, lang := 0.0, 0.0, ""
	for l, s := range score {
		if s > best || (s == best && l < lang) {
			best, second, lang = s, best, l
		} else if s > second {
			second = s
		}
	}
	if best < 2 {
		return "", 0, best
	}
	return lang, (best - second) / best, best
}
