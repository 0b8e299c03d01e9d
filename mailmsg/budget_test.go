package mailmsg

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// manyPDFs is a message with n PDF attachments of size bytes each.
func manyPDFs(n, size int) []byte {
	var b strings.Builder
	b.WriteString("From: officer@police.example\r\nTo: legal@docket.test\r\nSubject: PDFs\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n")
	for i := range n {
		pdf := []byte("%PDF-1.4\n" + strings.Repeat("x", size-9))
		fmt.Fprintf(&b, "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"p%02d.pdf\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n", i, base64.StdEncoding.EncodeToString(pdf))
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

// TestPDFBudgetPerMessage replays the attack: one mail of 20 crafted PDFs of 65 KB had each
// read in turn (88 s on one SMTP connection). The PDF work of one message is budgeted: past
// it the attachments are kept, not read, and each says why. Counted in calls, not seconds.
func TestPDFBudgetPerMessage(t *testing.T) {
	tests := []struct {
		name      string
		n, size   int
		lim       Limits
		wantReads int
	}{
		{"20 × 65 KB, defaults", 20, 65 << 10, Limits{}, 5},
		{"by count", 10, 1 << 10, Limits{MaxPDFs: 3}, 3},
		{"by bytes", 10, 64 << 10, Limits{MaxPDFs: 10, MaxPDFBytes: 200 << 10}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reads := 0
			lim := tt.lim
			lim.PDFText = func(_ context.Context, data []byte) (string, error) {
				reads++
				return "text", nil
			}
			m, err := Parse(manyPDFs(tt.n, tt.size), lim)
			if err != nil {
				t.Fatal(err)
			}
			if reads != tt.wantReads {
				t.Errorf("%d PDFs read, want %d", reads, tt.wantReads)
			}
			if len(m.Attachments) != tt.n {
				t.Fatalf("%d attachments kept, want %d", len(m.Attachments), tt.n)
			}
			for i, a := range m.Attachments {
				read := i < tt.wantReads
				if (a.Text != "") != read || (a.NotRead != "") == read {
					t.Errorf("attachment %d: text %q, not read %q", i, a.Text, a.NotRead)
				}
			}
		})
	}
}
