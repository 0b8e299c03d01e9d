package hashbank_test

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/hashbank"
)

var (
	pdqA = "54a977c221d14c1c43ba5e6e21d4a13989a3553f1462611cbb85fda7be83b677"
	pdqB = "992d44af36d69e6ca6b812585928bac11def254ef5398c6d07466c9abcc65b92"
	sha  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	md5  = "d41d8cd98f00b204e9800998ecf8427e"
)

// hashesOf lists parsed hashes as "KIND HASH QUALITY" ("-" for none).
func hashesOf(p *hashbank.Parsed) []string {
	var out []string
	for _, h := range p.Hashes {
		q := "-"
		if h.Quality >= 0 {
			q = strconv.Itoa(h.Quality)
		}
		out = append(out, h.Kind+" "+h.Hash+" "+q)
	}
	return out
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, kind, in string
		want                   []string
		repeated, skipped      int
	}{
		{"lines", hashbank.FormatLines, "pdq",
			"\uFEFF# a list\r\n" + strings.ToUpper(pdqA) + "\r\n\r\n  " + pdqB + "  \n" + pdqA + "\nmd5 " + md5 + "\nvideo_sha256 " + sha + "\n",
			[]string{"pdq " + pdqA + " -", "pdq " + pdqB + " -", "md5 " + md5 + " -", "sha256 " + sha + " -"}, 1, 0},
		{"lines of sha256", hashbank.FormatLines, "sha256", sha + "\n", []string{"sha256 " + sha + " -"}, 0, 0},
		{"csv with a header", hashbank.FormatCSV, "pdq",
			"kind,note,hash,quality\npdq,x," + pdqA + ",90\nmd5,y," + md5 + ",\n",
			[]string{"pdq " + pdqA + " 90", "md5 " + md5 + " -"}, 0, 0},
		{"csv as docket hash pdq prints it", hashbank.FormatCSV, "pdq",
			pdqA + ",100,photos/a.jpg\n" + pdqB + ",57,\"photos/b, c.jpg\"\n",
			[]string{"pdq " + pdqA + " 100", "pdq " + pdqB + " 57"}, 0, 0},
		{"hma", hashbank.FormatHMA, "pdq",
			"collab,signal_type,signal_str,category,tags\nSample,pdq," + pdqA + ",TRUE_POSITIVE,a b\nSample,video_md5," + md5 + ",WORTH_INVESTIGATING,\nSample,pdq," + pdqB + ",FALSE_POSITIVE,\n",
			[]string{"pdq " + pdqA + " -", "md5 " + md5 + " -"}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := hashbank.Parse(strings.NewReader(tt.in), tt.format, tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			got := hashesOf(p)
			if !slices.Equal(got, tt.want) || p.Repeated != tt.repeated || p.Skipped != tt.skipped {
				t.Fatalf("got %q repeated %d skipped %d\nwant %q repeated %d skipped %d", got, p.Repeated, p.Skipped, tt.want, tt.repeated, tt.skipped)
			}
		})
	}
}

// TestParseRefusesWhole: the first malformed line fails the file, with its number and what
// is wrong.
func TestParseRefusesWhole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, in string
		line             int
		want             string
	}{
		{"short hash", hashbank.FormatLines, pdqA + "\n" + pdqB + "\n" + pdqA[:60] + "\n", 3, "want 64 hexadecimal digits, got 60"},
		{"not hex", hashbank.FormatLines, "\n" + strings.Replace(pdqA, "a", "g", 1), 2, "only hexadecimal digits"},
		{"zero PDQ", hashbank.FormatLines, strings.Repeat("0", 64), 1, "would match every such picture"},
		{"three words", hashbank.FormatLines, "pdq " + pdqA + " extra", 1, "want HASH or TYPE HASH"},
		{"unknown type", hashbank.FormatLines, "tmk " + pdqA, 1, `signal type "tmk" is not one docket matches`},
		{"md5 given as PDQ", hashbank.FormatLines, md5, 1, "not a PDQ hash"},
		{"binary", hashbank.FormatLines, "\xff\xfe" + pdqA, 1, "not UTF-8"},
		{"csv quality", hashbank.FormatCSV, "hash,quality\n" + pdqA + ",90\n" + pdqB + ",101\n", 3, `quality "101" is not a whole number from 0 to 100`},
		{"csv syntax", hashbank.FormatCSV, pdqA + ",1\n" + pdqB + `,"2` + "\n", 2, "not valid CSV"},
		{"csv without a hash", hashbank.FormatCSV, "hash,quality\n,50\n", 2, "no hash"},
		{"hma without its header", hashbank.FormatHMA, "Sample,pdq," + pdqA + ",TRUE_POSITIVE,\n", 1, "signal_type is missing"},
		{"hma empty", hashbank.FormatHMA, "", 1, "starts with its header"},
		{"hma signal type", hashbank.FormatHMA, "collab,signal_type,signal_str,category,tags\nS,pdq," + pdqA + ",,\nS,url,https://x.example,,\n", 3, `signal type "url"`},
		{"hma category", hashbank.FormatHMA, "collab,signal_type,signal_str,category,tags\nS,pdq," + pdqA + ",MAYBE,\n", 2, `category "MAYBE"`},
		{"hma bad hash", hashbank.FormatHMA, "collab,signal_type,signal_str,category,tags\nS,video_md5," + pdqA + ",,\n", 2, "not a MD5 hash"},
		{"long line", hashbank.FormatLines, pdqA + "\n" + strings.Repeat("a", 70<<10) + "\n", 2, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := hashbank.Parse(strings.NewReader(tt.in), tt.format, "pdq")
			var le *hashbank.LineError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, %v; want a LineError", p, err)
			}
			if le.Line != tt.line || !strings.Contains(le.Error(), tt.want) || !strings.HasPrefix(le.Error(), "line ") {
				t.Fatalf("got %q (line %d); want line %d and %q", le, le.Line, tt.line, tt.want)
			}
		})
	}
	if _, err := hashbank.Parse(strings.NewReader(pdqA), "xml", "pdq"); err == nil {
		t.Fatal("unknown format accepted")
	}
	if _, err := hashbank.Parse(strings.NewReader(pdqA), hashbank.FormatLines, "tlsh"); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

// TestWriteReadsBack: what each format writes parses back to the same hashes.
func TestWriteReadsBack(t *testing.T) {
	t.Parallel()
	bank := &docket.Bank{Name: "csam", Category: "csam"}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	hs := []docket.BankHash{
		{Kind: docket.HashPDQ, Hash: pdqA, Quality: 90, AddedAt: at, AddedBy: "cli"},
		{Kind: docket.HashPDQ, Hash: pdqB, Quality: -1, AddedAt: at, AddedBy: "cli"},
		{Kind: docket.HashSHA256, Hash: sha, Quality: -1, AddedAt: at, AddedBy: "user:u"},
		{Kind: docket.HashMD5, Hash: md5, Quality: -1, AddedAt: at, AddedBy: "user:u"},
	}
	for _, format := range hashbank.Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := hashbank.NewWriter(&buf, format, bank)
			if err != nil {
				t.Fatal(err)
			}
			for i := range hs {
				if err := w.Write(&hs[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			p, err := hashbank.Parse(bytes.NewReader(buf.Bytes()), format, "pdq")
			if err != nil {
				t.Fatalf("%v in\n%s", err, buf.String())
			}
			if len(p.Hashes) != len(hs) {
				t.Fatalf("read back %d hashes from\n%s", len(p.Hashes), buf.String())
			}
			for i, h := range p.Hashes {
				q := hs[i].Quality
				if format != hashbank.FormatCSV {
					q = -1 // only the CSV carries qualities
				}
				if h.Kind != hs[i].Kind || h.Hash != hs[i].Hash || h.Quality != q {
					t.Fatalf("hash %d read back as %+v from\n%s", i, h, buf.String())
				}
			}
			if format == hashbank.FormatHMA && !strings.HasPrefix(buf.String(), "collab,signal_type,signal_str,category,tags\ncsam,pdq,"+pdqA+",TRUE_POSITIVE,csam\n") {
				t.Fatalf("HMA export:\n%s", buf.String())
			}
		})
	}
}
