// Package pdftext reads the text of PDF attachments (most requisitions arrive as a PDF
// letter) for triage. The PDF reader (github.com/ledongthuc/pdf) is not safe on hostile
// input — fuzzing found crafted files on which it loops for ever — so the server runs it in a
// child process (Isolated): the docket binary re-run with a hidden argument, with a memory
// limit, killed after a timeout.
package pdftext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ledongthuc/pdf"
)

// Text returns the text of the first maxPages pages of a PDF, at most maxBytes of it.
// A PDF that cannot be read (broken, encrypted, scanned without a text layer) gives what
// was read and an error; a panic in the PDF reader is an error too.
func Text(data []byte, maxPages, maxBytes int) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable PDF: %v", r)
		}
	}()
	// The PDF reader can loop on crafted cross-references: every read it makes is counted,
	// and reading far more than the file holds, or for too long, stops it.
	src := &budgetReader{r: bytes.NewReader(data), left: 32*int64(len(data)) + 1<<20, until: time.Now().Add(3 * time.Second)}
	r, err := pdf.NewReader(src, int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("open PDF: %w", err)
	}
	var b strings.Builder
	n := min(r.NumPage(), maxPages)
	for i := 1; i <= n && b.Len() < maxBytes; i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		s, err := p.GetPlainText(nil)
		if err != nil {
			return clean(b.String(), maxBytes), fmt.Errorf("page %d: %w", i, err)
		}
		b.WriteString(s)
		b.WriteString("\n")
	}
	return clean(strings.TrimSpace(b.String()), maxBytes), nil
}

var errPDFBudget = errors.New("PDF reader read too much or ran too long (a crafted file?)")

type budgetReader struct {
	r     io.ReaderAt
	left  int64
	until time.Time
}

func (b *budgetReader) ReadAt(p []byte, off int64) (int, error) {
	b.left -= int64(len(p))
	if b.left < 0 || time.Now().After(b.until) {
		panic(errPDFBudget)
	}
	return b.r.ReadAt(p, off)
}

func clean(s string, max int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}
