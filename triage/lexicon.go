package triage

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	unorm "golang.org/x/text/unicode/norm"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The lexicons are data: one file per language in lexicon/, read once when the package
// starts (see lexicon/README.md for the format and the classes).
//
//go:embed lexicon/*.txt
var lexiconFiles embed.FS

// lexTerm is one term of a lexicon.
type lexTerm struct {
	s         string
	class     int16
	wordStart bool // the term must start a word (alphabetic scripts)
	wordEnd   bool // the term must end a word (written with a trailing $)
}

// lexHit is one occurrence of a term in a text.
type lexHit struct {
	class int16
	pos   int32
	term  string
}

// lexBook holds every language's lexicon.
type lexBook struct {
	classes []string
	classID map[string]int16
	byLang  map[string][]lexTerm
}

var book = mustLoadBook()

func mustLoadBook() *lexBook {
	b, err := loadBook(lexiconFiles)
	if err != nil {
		panic("triage: embedded lexicons: " + err.Error())
	}
	return b
}

func loadBook(fsys embed.FS) (*lexBook, error) {
	b := &lexBook{classID: map[string]int16{}, byLang: map[string][]lexTerm{}}
	entries, err := fsys.ReadDir("lexicon")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".txt") {
			continue
		}
		lang := strings.TrimSuffix(e.Name(), ".txt")
		data, err := fsys.ReadFile(path.Join("lexicon", e.Name()))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || line[0] == '#' {
				continue
			}
			class, rest, ok := strings.Cut(line, ":")
			if !ok || strings.ContainsAny(class, " \t") {
				return nil, fmt.Errorf("%s:%d: want `class: term | term`", e.Name(), n)
			}
			id := b.class(class)
			for _, t := range strings.Split(rest, "|") {
				t = strings.ToLower(strings.TrimSpace(t))
				if t == "" {
					continue
				}
				for _, v := range variants(lang, t) {
					term := newTerm(v, id)
					if !slices.Contains(b.byLang[lang], term) { // a term listed twice counts once
						b.byLang[lang] = append(b.byLang[lang], term)
					}
				}
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// variants spells a term the ways texts write it: Romanian with comma or cedilla,
// Vietnamese also without its tone marks and diacritics (as typed on keyboards without them)
// when the term has more than one syllable, and apostrophes straight (texts are normalised
// to straight ones).
func variants(lang, t string) []string {
	t = strings.ReplaceAll(t, "’", "'")
	out := []string{t}
	if strings.ContainsAny(t, "șț") {
		out = append(out, strings.NewReplacer("ș", "ş", "ț", "ţ").Replace(t))
	}
	if lang == "vi" && strings.Contains(t, " ") {
		if bare := unaccented(t); bare != t {
			out = append(out, bare)
		}
	}
	return out
}

// unaccented removes the combining marks of s (after decomposition) and writes đ as d.
func unaccented(s string) string {
	var b strings.Builder
	for _, r := range unorm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteRune('d')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func newTerm(s string, class int16) lexTerm {
	t := lexTerm{class: class}
	if strings.HasSuffix(s, "$") {
		s, t.wordEnd = strings.TrimSuffix(s, "$"), true
	}
	t.s = s
	r, _ := utf8.DecodeRuneInString(s)
	t.wordStart = spacedScript(r) && wordRune(r)
	return t
}

// spacedScript reports whether words of r's script are separated by spaces, so that a
// term must start a word: Latin, Greek, Cyrillic, Devanagari and Hangul. Arabic-script
// words take prefixes (و، ال، ب), and Chinese and Japanese have no spaces.
func spacedScript(r rune) bool {
	return r < 0x0590 || unicode.In(r, unicode.Devanagari, unicode.Hangul)
}

func (b *lexBook) class(name string) int16 {
	if id, ok := b.classID[name]; ok {
		return id
	}
	id := int16(len(b.classes))
	b.classes = append(b.classes, name)
	b.classID[name] = id
	return id
}

// classOf returns the id of a class, -1 when no lexicon defines it.
func (b *lexBook) classOf(name string) int16 {
	if id, ok := b.classID[name]; ok {
		return id
	}
	return -1
}

// wordRune reports a rune that continues a word; '_', '@' and '/' too, so that a term is not
// found inside a handle or a link (@ransom_iberia, t.me/bomb_news).
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || r == '_' || r == '@' || r == '/'
}

// lexIndex is the lexicons of a set of languages ready for matching: the terms that start a
// word, by their first three bytes (looked up at each word start of a text), and the rest
// (looked for anywhere).
type lexIndex struct {
	byStart map[uint32][]lexTerm
	rest    []lexTerm
}

func key3(s string) uint32 { return uint32(s[0])<<16 | uint32(s[1])<<8 | uint32(s[2]) }

var indexes sync.Map // strings.Join(langs, ",") → *lexIndex

func (b *lexBook) index(langs []string) *lexIndex {
	k := strings.Join(langs, ",")
	if x, ok := indexes.Load(k); ok {
		return x.(*lexIndex)
	}
	ix := &lexIndex{byStart: map[uint32][]lexTerm{}}
	for i, lang := range langs {
		if slices.Contains(langs[:i], lang) {
			continue
		}
		for _, t := range b.byLang[lang] {
			if t.wordStart && len(t.s) >= 3 {
				ix.byStart[key3(t.s)] = append(ix.byStart[key3(t.s)], t)
			} else {
				ix.rest = append(ix.rest, t)
			}
		}
	}
	x, _ := indexes.LoadOrStore(k, ix)
	return x.(*lexIndex)
}

// match finds the terms of the given languages' lexicons in a scanned text.
func (b *lexBook) match(sc *scan, langs ...string) *lexHits {
	ix := b.index(langs)
	h := &lexHits{counts: make([]int16, len(b.classes))}
	text := sc.text
	endsWord := func(t lexTerm, end int) bool {
		if !t.wordEnd || end >= len(text) {
			return true
		}
		r, _ := utf8.DecodeRuneInString(text[end:])
		return !wordRune(r)
	}
	// Terms that start a word, at each word start.
	inWord := false
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(text[i:])
		}
		w := wordRune(r)
		if w && !inWord && i+3 <= len(text) {
			for _, t := range ix.byStart[key3(text[i:])] {
				if strings.HasPrefix(text[i:], t.s) && endsWord(t, i+len(t.s)) {
					h.hits = append(h.hits, lexHit{class: t.class, pos: int32(i), term: t.s})
					h.counts[t.class]++
				}
			}
		}
		inWord = w
		i += n
	}
	// The others, anywhere.
	for _, t := range ix.rest {
		if !sc.mayContain(t.s) {
			continue
		}
		from := 0
		for {
			j := strings.Index(text[from:], t.s)
			if j < 0 {
				break
			}
			at := from + j
			from = at + len(t.s)
			if t.wordStart && at > 0 {
				if r, _ := utf8.DecodeLastRuneInString(text[:at]); wordRune(r) {
					continue
				}
			}
			if !endsWord(t, from) {
				continue
			}
			h.hits = append(h.hits, lexHit{class: t.class, pos: int32(at), term: t.s})
			h.counts[t.class]++
		}
	}
	return h
}

// lexHits are the terms found in one text.
type lexHits struct {
	hits   []lexHit
	counts []int16
}

func (h *lexHits) count(class int16) int {
	if class < 0 {
		return 0
	}
	return int(h.counts[class])
}

// terms returns the distinct terms of a class found, at most four.
func (h *lexHits) terms(class int16) []string {
	var out []string
	for _, x := range h.hits {
		if x.class == class && !slices.Contains(out, x.term) {
			out = append(out, x.term)
			if len(out) == 4 {
				break
			}
		}
	}
	return out
}

// near reports whether a term of class a occurs within dist bytes of a term of class b,
// and returns the pair.
func (h *lexHits) near(a, b int16, dist int) (string, string, bool) {
	if h.count(a) == 0 || h.count(b) == 0 {
		return "", "", false
	}
	for _, x := range h.hits {
		if x.class != a {
			continue
		}
		for _, y := range h.hits {
			if y.class == b && abs(int(x.pos)-int(y.pos)) <= dist {
				return x.term, y.term, true
			}
		}
	}
	return "", "", false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// nearAny is near for the first of several classes b that is within dist of a hit of a.
func (h *lexHits) nearAny(a int16, dist int, bs ...int16) (string, string, bool) {
	for _, b := range bs {
		if x, y, ok := h.near(a, b, dist); ok {
			return x, y, true
		}
	}
	return "", "", false
}
