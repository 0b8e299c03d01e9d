package mailmsg

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ledongthuc/pdf"
)

// PDFText returns the text of the first maxPages pages of a PDF, at most maxBytes of it.
// A PDF that cannot be read (broken, encrypted, scanned without a text layer) gives what
// was read and an error; a panic in the PDF reader is an error too.
func PDFText(data []byte, maxPages, maxBytes int) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable PDF: %v", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
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
