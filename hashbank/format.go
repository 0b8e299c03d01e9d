// Package hashbank reads and writes hash banks in their exchange formats (a hash a line, CSV,
// and the CSV of Meta's ThreatExchange tools and HMA), and matches media against the
// enabled banks from an index kept in memory (Matcher).
package hashbank

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/docket-dev/docket"
)

// The formats of import and export.
const (
	// FormatLines is one hash a line, or "TYPE HASH" (the local signal file of Meta's
	// python-threatexchange: TYPE is pdq, video_md5, video_sha256, md5 or sha256). Blank
	// lines and lines starting with # are skipped.
	FormatLines = "lines"
	// FormatCSV is hash,quality,… : a header naming the columns (hash; quality, kind,
	// others ignored) or none (then hash and quality are the first two columns, the rest
	// ignored), so that the output of docket hash pdq (HASH,QUALITY,FILE) imports as it is.
	FormatCSV = "csv"
	// FormatHMA is the CSV that Meta's ThreatExchange tools exchange (threatexchange dataset
	// --print-signals --csv, read by HMA): a header with collab, signal_type, signal_str,
	// category and tags. Rows whose category is FALSE_POSITIVE are skipped.
	FormatHMA = "hma"
)

// Formats lists the formats.
var Formats = []string{FormatLines, FormatCSV, FormatHMA}

// LineError is malformed input: the line (1 for the first) and what is wrong with it.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parsed is what Parse read.
type Parsed struct {
	// Hashes are the hashes in the order of the file, each once, kind and hex lower-case;
	// Quality is -1 where the file gave none.
	Hashes []docket.BankHash
	// Repeated counts lines that gave a hash given earlier in the file; Skipped the rows of
	// an HMA file whose category says the signal is a false positive.
	Repeated, Skipped int
}

// maxLine is the longest line read: far above any row of these formats.
const maxLine = 64 << 10

// Parse reads a file of hashes in format. kind is the kind of the hashes that the file does
// not type (FormatLines without TYPE, FormatCSV without a kind column): pdq, sha256 or md5.
// The first malformed line fails the whole file with a *LineError: nothing of it is taken.
func Parse(r io.Reader, format, kind string) (*Parsed, error) {
	if docket.HashLen(kind) == 0 {
		return nil, fmt.Errorf("hashbank: unknown kind of hash %q (want %s)", kind, strings.Join(docket.HashKinds, ", "))
	}
	p := &parser{out: &Parsed{}, seen: map[string]bool{}}
	var err error
	switch format {
	case FormatLines:
		err = p.lines(r, kind)
	case FormatCSV:
		err = p.csv(r, kind, false)
	case FormatHMA:
		err = p.csv(r, kind, true)
	default:
		return nil, fmt.Errorf("hashbank: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return nil, err
	}
	return p.out, nil
}

type parser struct {
	out  *Parsed
	seen map[string]bool
}

func (p *parser) add(line int, kind, hash string, quality int) error {
	h, err := Normal(kind, hash)
	if err != nil {
		return &LineError{line, err.Error()}
	}
	if p.seen[kind+" "+h] {
		p.out.Repeated++
		return nil
	}
	p.seen[kind+" "+h] = true
	p.out.Hashes = append(p.out.Hashes, docket.BankHash{Kind: kind, Hash: h, Quality: quality})
	return nil
}

// Normal returns a hash of the kind in lower-case hex, or says what is wrong with it. The
// PDQ hash of nothing (all zeros: what a picture too small to hash gets) is refused: it
// would match every such picture.
func Normal(kind, hash string) (string, error) {
	n := docket.HashLen(kind)
	if n == 0 {
		return "", fmt.Errorf("unknown kind of hash %q (want %s)", kind, strings.Join(docket.HashKinds, ", "))
	}
	h := strings.ToLower(strings.TrimSpace(hash))
	if len(h) != n {
		return "", fmt.Errorf("%s is not a %s hash: want %d hexadecimal digits, got %d characters", quote(hash), kindName(kind), n, utf8.RuneCountInString(hash))
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("%s is not a %s hash: only hexadecimal digits (0-9, a-f)", quote(hash), kindName(kind))
	}
	if kind == docket.HashPDQ && strings.Trim(h, "0") == "" {
		return "", errors.New("the PDQ hash of nothing (all zeros, given to pictures too small to hash) would match every such picture")
	}
	return h, nil
}

func kindName(kind string) string {
	switch kind {
	case docket.HashPDQ:
		return "PDQ"
	case docket.HashSHA256:
		return "SHA-256"
	case docket.HashMD5:
		return "MD5"
	}
	return kind
}

// quote quotes s for an error message, shortened.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:77]) + "…"
	}
	return strconv.Quote(s)
}

// signalKinds maps the signal types of Meta's ThreatExchange tools, and docket's kinds, to
// docket's kinds. Their MD5 and SHA-256 signal types are named for videos; docket's digests
// are of files of any kind.
var signalKinds = map[string]string{
	"pdq": docket.HashPDQ,
	"md5": docket.HashMD5, "video_md5": docket.HashMD5, "photo_md5": docket.HashMD5,
	"sha256": docket.HashSHA256, "video_sha256": docket.HashSHA256, "photo_sha256": docket.HashSHA256,
}

// exportTypes are the signal types written for each kind in FormatHMA.
var exportTypes = map[string]string{docket.HashPDQ: "pdq", docket.HashMD5: "video_md5", docket.HashSHA256: "video_sha256"}

func signalKind(typ string) (string, error) {
	if k, ok := signalKinds[strings.ToLower(strings.TrimSpace(typ))]; ok {
		return k, nil
	}
	return "", fmt.Errorf("signal type %s is not one docket matches (pdq, video_md5, video_sha256, md5, sha256)", quote(typ))
}

func (p *parser) lines(r io.Reader, kind string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		text := sc.Text()
		if n == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if !utf8.ValidString(text) {
			return &LineError{n, "not UTF-8 text"}
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, hash := kind, text
		switch f := strings.Fields(text); len(f) {
		case 1:
		case 2:
			var err error
			if k, err = signalKind(f[0]); err != nil {
				return &LineError{n, err.Error()}
			}
			hash = f[1]
		default:
			return &LineError{n, fmt.Sprintf("want HASH or TYPE HASH, got %d words", len(f))}
		}
		if err := p.add(n, k, hash, -1); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &LineError{n + 1, fmt.Sprintf("longer than %d bytes", maxLine)}
		}
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// csv reads FormatCSV, or FormatHMA when hma is set.
func (p *parser) csv(r io.Reader, kind string, hma bool) error {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\uFEFF")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	col := map[string]int{}
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return &LineError{pe.Line, "not valid CSV: " + pe.Err.Error()}
			}
			return fmt.Errorf("read: %w", err)
		}
		line, _ := cr.FieldPos(0)
		for _, f := range rec {
			if !utf8.ValidString(f) {
				return &LineError{line, "not UTF-8 text"}
			}
			if len(f) > maxLine {
				return &LineError{line, fmt.Sprintf("a field longer than %d bytes", maxLine)}
			}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if first {
			first = false
			names := make([]string, len(rec))
			for i, f := range rec {
				names[i] = strings.ToLower(strings.TrimSpace(f))
			}
			switch {
			case hma:
				for i, n := range names {
					col[n] = i
				}
				for _, need := range []string{"signal_type", "signal_str"} {
					if _, ok := col[need]; !ok {
						return &LineError{line, fmt.Sprintf("the header must name the columns collab, signal_type, signal_str, category, tags (as threatexchange dataset --csv writes them); %s is missing", need)}
					}
				}
				continue
			case slices.Contains(names, "hash"):
				for i, n := range names {
					if _, ok := col[n]; !ok {
						col[n] = i
					}
				}
				continue
			}
			col = map[string]int{"hash": 0, "quality": 1}
		}
		field := func(name string) (string, bool) {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}
		if hma {
			typ, _ := field("signal_type")
			k, err := signalKind(typ)
			if err != nil {
				return &LineError{line, err.Error()}
			}
			switch cat, _ := field("category"); strings.ToUpper(cat) {
			case "", "TRUE_POSITIVE", "WORTH_INVESTIGATING", "POSITIVE_CLASS":
			case "FALSE_POSITIVE", "NEGATIVE_CLASS":
				p.out.Skipped++
				continue
			default:
				return &LineError{line, fmt.Sprintf("category %s is not one of TRUE_POSITIVE, WORTH_INVESTIGATING, FALSE_POSITIVE", quote(cat))}
			}
			hash, ok := field("signal_str")
			if !ok || hash == "" {
				return &LineError{line, "no signal_str"}
			}
			if err := p.add(line, k, hash, -1); err != nil {
				return err
			}
			continue
		}
		hash, _ := field("hash")
		if hash == "" {
			return &LineError{line, "no hash in the first column"}
		}
		k := kind
		if t, ok := field("kind"); ok && t != "" {
			var err error
			if k, err = signalKind(t); err != nil {
				return &LineError{line, err.Error()}
			}
		}
		quality := -1
		if q, _ := field("quality"); q != "" {
			v, err := strconv.Atoi(q)
			if err != nil || v < 0 || v > 100 {
				return &LineError{line, fmt.Sprintf("quality %s is not a whole number from 0 to 100", quote(q))}
			}
			quality = v
		}
		if err := p.add(line, k, hash, quality); err != nil {
			return err
		}
	}
	if hma && first {
		return &LineError{1, "empty: an HMA file starts with its header (collab,signal_type,signal_str,category,tags)"}
	}
	return nil
}

// Writer writes a bank's hashes in a format.
type Writer struct {
	format string
	bank   *docket.Bank
	w      *bufio.Writer
	cw     *csv.Writer
}

// NewWriter returns a Writer of format to w, with the format's header when it has one.
func NewWriter(w io.Writer, format string, bank *docket.Bank) (*Writer, error) {
	x := &Writer{format: format, bank: bank, w: bufio.NewWriter(w)}
	switch format {
	case FormatLines:
	case FormatCSV:
		x.cw = csv.NewWriter(x.w)
		x.cw.Write([]string{"hash", "quality", "kind", "added_at", "added_by"})
	case FormatHMA:
		x.cw = csv.NewWriter(x.w)
		x.cw.Write([]string{"collab", "signal_type", "signal_str", "category", "tags"})
	default:
		return nil, fmt.Errorf("hashbank: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
	}
	return x, nil
}

// Write writes one hash: in FormatLines a PDQ hash alone and a digest as "KIND HASH", so that
// the file imports back as it was.
func (x *Writer) Write(h *docket.BankHash) error {
	switch x.format {
	case FormatLines:
		if h.Kind != docket.HashPDQ {
			x.w.WriteString(h.Kind + " ")
		}
		_, err := x.w.WriteString(h.Hash + "\n")
		return err
	case FormatCSV:
		q := ""
		if h.Quality >= 0 {
			q = strconv.Itoa(h.Quality)
		}
		return x.cw.Write([]string{h.Hash, q, h.Kind, h.AddedAt.UTC().Format("2006-01-02T15:04:05Z"), string(h.AddedBy)})
	default:
		return x.cw.Write([]string{x.bank.Name, exportTypes[h.Kind], h.Hash, "TRUE_POSITIVE", x.bank.Category})
	}
}

// Flush writes what is buffered.
func (x *Writer) Flush() error {
	if x.cw != nil {
		x.cw.Flush()
		if err := x.cw.Error(); err != nil {
			return err
		}
	}
	return x.w.Flush()
}
