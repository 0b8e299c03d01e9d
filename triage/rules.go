package triage

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"

	"github.com/docket-dev/docket"
)

// regimeRule maps legal citations and wording, in the languages docket reads, to a regime.
// Rules are tried in order; the first that matches wins.
type regimeRule struct {
	regime string
	re     *lexicon
	why    string
}

// dsaActs name the Digital Services Act.
var dsaActs = []string{"2022/2065", "dsa", "digital services", "services numériques", "digitale dienste"}

// dsaArticle9, dsaArticle10 read "article 9" in the words before a mention of the act, on
// the same line: "artículo 9 del Reglamento (UE) 2022/2065", "άρθρο 9 DSA".
var (
	dsaArticle9  = regexp.MustCompile(`(article|art\.?|artikel|artículo|articolo|artigo|artykuł|άρθρο|articolul|статья|стаття|madde|pasal|điều|المادة|ماده|第)\s*9\b`)
	dsaArticle10 = regexp.MustCompile(`(article|art\.?|artikel|artículo|articolo|artigo|artykuł|άρθρο|articolul|статья|стаття|madde|pasal|điều|المادة|ماده|第)\s*10\b`)
)

// dsaArticle returns the citation of the article that re reads, before a mention of the act.
func dsaArticle(sc *scan, re *regexp.Regexp) string {
	for _, act := range dsaActs {
		if !sc.mayContain(act) {
			continue
		}
		for from := 0; ; {
			i := strings.Index(sc.text[from:], act)
			if i < 0 {
				break
			}
			at := from + i
			from = at + len(act)
			window := sc.text[max(0, at-100):at]
			if nl := strings.LastIndexByte(window, '\n'); nl >= 0 {
				window = window[nl+1:]
			}
			if m := re.FindString(window); m != "" {
				return m + " … " + act
			}
		}
	}
	return ""
}

// lexicon is a list of terms matched against lower-cased text: plain words by substring
// search (fast), the few that need it as regular expressions.
type lexicon struct {
	lits  []string
	res   []*regexp.Regexp
	gates [][]string // per regexp: one of these must occur for it to match (nil: no gate)
}

func rx(parts ...string) *lexicon {
	l := &lexicon{}
	for _, p := range parts {
		p = strings.ToLower(p)
		if strings.ContainsAny(p, `\()[]|?*+.^${}`) {
			l.res = append(l.res, regexp.MustCompile(p))
			l.gates = append(l.gates, gate(p))
		} else {
			l.lits = append(l.lits, p)
		}
	}
	return l
}

// scan is a lower-cased text with a bitset of the three-byte windows it contains, so that
// a lexicon skips, at the cost of two bit tests, the terms that cannot occur in it.
type scan struct {
	text string
	bits [1024]uint64 // 65,536 bits
}

func window(a, b, c byte) uint32 { return ((uint32(a)*131+uint32(b))*131 + uint32(c)) & 0xffff }

// scanPool recycles scans (8 KB each) between requests.
var scanPool = sync.Pool{New: func() any { return new(scan) }}

// release returns a scan from newScan to the pool; it must not be used afterwards.
func (sc *scan) release() {
	clear(sc.bits[:])
	sc.text = ""
	scanPool.Put(sc)
}

func newScan(lower string) *scan {
	sc := scanPool.Get().(*scan)
	sc.text = lower
	for i := 0; i+3 <= len(lower); i++ {
		w := window(lower[i], lower[i+1], lower[i+2])
		sc.bits[w>>6] |= 1 << (w & 63)
	}
	return sc
}

// mayContain reports whether t can occur in the text: each of its three-byte windows does.
// A few bit tests spare most of the substring searches that would find nothing (a term
// whose first and last windows both occur, as "pro…eur" in French, often does not).
func (sc *scan) mayContain(t string) bool {
	for i := 0; i+3 <= len(t); i++ {
		w := window(t[i], t[i+1], t[i+2])
		if sc.bits[w>>6]&(1<<(w&63)) == 0 {
			return false
		}
	}
	return true
}

// find returns the first term found in the text, or "".
func (l *lexicon) find(sc *scan) string {
	for _, t := range l.lits {
		if sc.mayContain(t) && strings.Contains(sc.text, t) {
			return t
		}
	}
	for i, re := range l.res {
		if !l.open(i, sc) {
			continue
		}
		if m := re.FindString(sc.text); m != "" {
			return m
		}
	}
	return ""
}

// findAt is find with the byte offset of the match in the text.
func (l *lexicon) findAt(sc *scan) (string, int) {
	for _, t := range l.lits {
		if sc.mayContain(t) {
			if i := strings.Index(sc.text, t); i >= 0 {
				return t, i
			}
		}
	}
	for i, re := range l.res {
		if !l.open(i, sc) {
			continue
		}
		if loc := re.FindStringIndex(sc.text); loc != nil {
			return sc.text[loc[0]:loc[1]], loc[0]
		}
	}
	return "", -1
}

// open reports whether regexp i may match the text: one of its gate literals occurs in it.
func (l *lexicon) open(i int, sc *scan) bool {
	if l.gates[i] == nil {
		return true
	}
	for _, g := range l.gates[i] {
		if sc.mayContain(g) && strings.Contains(sc.text, g) {
			return true
		}
	}
	return false
}

// gate returns literals of which a text must contain at least one for the pattern to match,
// or nil when it cannot tell. It reads the pattern's syntax tree: a literal is its own gate;
// an alternation gates on the union of its branches' gates; a concatenation on its best part.
func gate(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	var walk func(*syntax.Regexp) []string
	walk = func(r *syntax.Regexp) []string {
		switch r.Op {
		case syntax.OpLiteral:
			if r.Flags&syntax.FoldCase != 0 || len(r.Rune) < 2 {
				return nil
			}
			return []string{string(r.Rune)}
		case syntax.OpCapture:
			return walk(r.Sub[0])
		case syntax.OpPlus:
			return walk(r.Sub[0])
		case syntax.OpAlternate:
			var out []string
			for _, sub := range r.Sub {
				g := walk(sub)
				if g == nil {
					return nil
				}
				out = append(out, g...)
			}
			return out
		case syntax.OpConcat:
			var best []string
			for _, sub := range r.Sub {
				g := walk(sub)
				if g != nil && (best == nil || minLen(g) > minLen(best)) {
					best = g
				}
			}
			return best
		}
		return nil
	}
	return walk(re)
}

func minLen(ss []string) int {
	m := 1 << 30
	for _, s := range ss {
		m = min(m, len(s))
	}
	return m
}

// findAll returns every occurrence of every term in the text.
func (l *lexicon) findAll(sc *scan) []string {
	var out []string
	for _, t := range l.lits {
		if !sc.mayContain(t) {
			continue
		}
		for range strings.Count(sc.text, t) {
			out = append(out, t)
		}
	}
	for i, re := range l.res {
		if l.open(i, sc) {
			out = append(out, re.FindAllString(sc.text, -1)...)
		}
	}
	return out
}

var regimeRules = []regimeRule{
	{"eu-epoc-pr", rx(`EPOC[- ]?PR`, `european preservation order`, `ordonnance européenne de conservation`, `europäische sicherungsanordnung`, `orden europea de conservación`, `ordine europeo di conservazione`, `ordem europeia de conservação`, `europees bewaringsbevel`, `europejski nakaz zabezpieczenia`), "European preservation order (EPOC-PR)"},
	{"eu-epoc", rx(`\bEPOC\b`, `2023/1543`, `european production order`, `ordonnance européenne de production`, `europäische herausgabeanordnung`, `orden europea de entrega`, `ordine europeo di produzione`, `ordem europeia de entrega`, `europees verstrekkingsbevel`, `europejski nakaz wydania`), "European production order (Reg. 2023/1543)"},
	{"eu-tco-removal", rx(`2021/784`, `\bTCO\b`, `terrorist content online`, `removal order`, `injonction de retrait`, `entfernungsanordnung`, `orden de retirada`, `ordine di rimozione`, `decisão de supressão`, `verwijderingsbevel`, `nakaz usunięcia`), "Terrorist content removal order (Reg. 2021/784)"},
	{"fr-lcen-6-1", rx(`article 6-1 de la loi`, `6-1 (de la )?(loi|LCEN)`, `\bLCEN\b`), "France, LCEN art. 6-1 (OFAC/PHAROS)"},
	{"fr-requisition", rx(`(60-1|60-2|77-1-1|77-1-2|99-3|99-4)[^\n]{0,60}(code de procédure pénale|procédure pénale|C\.?P\.?P)`, `réquisition judiciaire`, `réquisition à personne`, `officier de police judiciaire`, `code de procédure pénale`), "France, requisition (CPP art. 60-1, 77-1-1, 99-3)"},
	// OFAC and PHAROS also send requisitions: their name alone says LCEN only when nothing
	// above was cited.
	{"fr-lcen-6-1", rx(`\bPHAROS\b`, `\bOFAC\b`), "France, LCEN art. 6-1 (OFAC/PHAROS)"},
	{"us-emergency", rx(`2702\s*\(b\)\s*\(8\)`, `2702\s*\(c\)\s*\(4\)`, `2702[^\n]{0,80}emergenc`, `emergenc[^\n]{0,80}2702`), "US emergency disclosure (18 U.S.C. 2702)"},
	{"us-2703f", rx(`2703\s*\(f\)`, `preservation letter`), "US preservation (18 U.S.C. 2703(f))"},
	{"us-legal-process", rx(`18 U\.?S\.?C\.?\s*§*\s*2703`, `\bsubpoena\b`, `search warrant`, `grand jury`, `2703\s*\(d\)`), "US legal process (18 U.S.C. 2703)"},
	{"dsa-art9", rx(`order to act against illegal content`, `injonction d'agir`, `\bdsa,? art(icle|\.)?\s*9\b`), "DSA art. 9 order to act"},
	{"dsa-art10", rx(`order to provide information`, `injonction de fournir des informations`, `\bdsa,? art(icle|\.)?\s*10\b`), "DSA art. 10 order to provide information"},
	{"dsa-art16", rx(`(article|art\.?)\s*16\b[^\n]{0,80}(2022/2065|DSA)`, `notice and action`), "DSA art. 16 notice"},
	{"national-other", rx(`§\s*100[a-j]\s*StPO`, `\bStPO\b`, `Strafprozessordnung`, `Marco Civil`, `Lei 12\.965`, `Ley de Enjuiciamiento Criminal`, `LECrim`, `codice di procedura penale`, `c\.p\.p\.`, `Código de Processo Penal`, `Wetboek van Strafvordering`, `kodeks postępowania karnego`, `\bk\.p\.k\.`, `УПК`, `уголовно-процессуальн`, `Ceza Muhakemesi`, `\bCMK\b`, `قانون الإجراءات الجزائية`, `قانون آیین دادرسی`, `court order`, `tribunal`, `juzgado`, `tribunale`, `Gericht`, `prosecutor`, `procureur`, `Staatsanwaltschaft`, `fiscalía`, `procura della repubblica`, `Ministério Público`, `Openbaar Ministerie`, `prokuratura`, `прокуратур`, `savcılığı`, `النيابة`, `دادستان`), "national legal process"},
}

// kindRules map wording to what is asked; the kind with the most matches wins, ties going to
// the earlier rule.
var kindRules = []struct {
	kind docket.Kind
	re   *lexicon
}{
	{docket.KindPreservation, rx(`preserv`, `conserv`, `sichern`, `sicherung`, `aufbewahr`, `bewar`, `zabezpiecz`, `сохран`, `حفظ`, `نگهداری`, `muhafaza`, `koru`, `60-2`, `2703\s*\(f\)`, `EPOC[- ]?PR`)},
	{docket.KindRemoval, rx(`take down`, `takedown`, `delete`, `retrait`, `retirer`, `supprim`, `lösch`, `entfern`, `sperr`, `eliminar`, `retirada`, `rimuov`, `rimozion`, `remover`, `remoção`, `supressão`, `verwijder`, `usun`, `удал`, `заблокир`, `حذف`, `إزالة`, `kaldır`, `erişim engel`, `6-1`, `2021/784`)},
	{docket.KindDisclosure, rx(`datos`, `telefonnummer`, `phone number`, `numéro de téléphone`, `número de telefone`, `paylaş`, `identif`, `subscriber`, `disclos`, `provide`, `produce`, `communiquer`, `communication`, `transmettre`, `fournir`, `auskunft`, `herausgabe`, `übermitt`, `bestandsdaten`, `proporcion`, `facilit`, `fornire`, `fornecer`, `dados cadastrais`, `verstrekken`, `gegevens`, `udostępn`, `przekaz`, `предостав`, `сведения`, `информаци`, `تزويد`, `معلومات`, `اطلاعات`, `bilgi`, `IP address`, `adresse IP`, `EPOC\b`, `60-1`, `77-1-1`, `99-3`, `100j`)},
}

// csamTerms recognise notices and requests about child sexual abuse material.
var csamTerms = rx(`child (sexual )?abuse material`, `\bCSAM\b`, `child pornograph`, `pédopornograph`, `pédocriminel`, `Kinderpornograf`, `kinderpornograph`, `sexuelle[rn]? Missbrauch`, `abuso sexual infantil`, `pornografía infantil`, `pedopornograf`, `pornografia infantil`, `kinderporno`, `pornografia dziecięca`, `детская порнограф`, `إباحية الأطفال`, `کودک‌آزاری جنسی`, `çocuk istismar`, `grooming`)

// terrorTerms recognise terrorist content.
var terrorTerms = rx(`terror`, `jihad`, `daesh`, `\bISIS\b`, `\bISIL\b`, `etat islamique`, `état islamique`, `islamic state`, `al-qaeda`, `al-qaida`, `apologie`, `propagand`, `beheading`, `décapitation`, `терро`, `إرهاب`, `داعش`, `تروریست`, `terör`)
