package triage

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// usernameSpans finds what reUsername finds — an @handle of 4 to 32 ASCII letters, digits and
// underscores, starting with a letter, not preceded by a letter, digit, '_', '@', '/' or '.'
// and not followed by a word character — without a regular expression: it looks only at the
// '@' signs. Each span is the match's [start, end, nameStart, nameEnd], as
// FindAllStringSubmatchIndex gives them (the match includes the preceding character).
func usernameSpans(line string) [][]int {
	var out [][]int
	next := 0 // matches do not overlap
	for i := 0; i < len(line); i++ {
		if line[i] != '@' {
			continue
		}
		start := i
		if i > 0 {
			r, n := utf8.DecodeLastRuneInString(line[:i])
			if unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' || r == '@' || r == '/' || r == '.' {
				continue
			}
			start = i - n
		}
		if start < next {
			continue
		}
		j := i + 1
		if j >= len(line) || !isASCIILetter(line[j]) {
			continue
		}
		for j < len(line) && isASCIIWord(line[j]) {
			j++
		}
		if l := j - (i + 1); l < 4 || l > 32 {
			continue
		}
		out = append(out, []int{start, j, i + 1, j})
		next = j
		i = j - 1
	}
	return out
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isASCIIWord(c byte) bool { return isASCIILetter(c) || c >= '0' && c <= '9' || c == '_' }

// emailSpans finds what reEmail finds, running it only from where the first address can
// start: every match holds an '@', and its local part — letters, digits and "._%+-", which
// include every character a \b can sit after — runs back from the first '@' at most to the
// first character that cannot be in it. Before that point the expression can match nothing.
func emailSpans(line string) [][]int {
	at := strings.IndexByte(line, '@')
	if at < 0 {
		return nil
	}
	start := at
	for start > 0 && isLocalPart(line[start-1]) {
		start--
	}
	locs := reEmail.FindAllStringIndex(line[start:], -1)
	for _, l := range locs {
		l[0] += start
		l[1] += start
	}
	return locs
}

// isLocalPart reports whether c may be in the local part reEmail reads ([a-z0-9._%+-],
// either case).
func isLocalPart(c byte) bool {
	return isASCIIWord(c) || c == '.' || c == '%' || c == '+' || c == '-'
}
