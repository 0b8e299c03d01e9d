package pdftext

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be its own PDF reader child, as the docket binary is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ChildArg {
		RunChild(os.Args[2:])
	}
	os.Exit(m.Run())
}

func TestIsolatedReadsALetter(t *testing.T) {
	b, err := os.ReadFile("testdata/requisition.pdf")
	if err != nil {
		t.Fatal(err)
	}
	text, err := Isolated{}.Extract(context.Background(), b)
	if err != nil || !strings.Contains(text, "Article 60-1 du Code de procedure penale") {
		t.Fatalf("text %q, err %v", text, err)
	}
}

// The hang-*.pdf files are crafted PDFs (found by fuzzing) on which the PDF reader loops
// for ever; the child is stopped and the error says so.
func TestIsolatedStopsAHang(t *testing.T) {
	files, _ := filepath.Glob("testdata/hang-*.pdf")
	if len(files) == 0 {
		t.Fatal("no hang-*.pdf fixtures")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		start := time.Now()
		_, err := Isolated{Timeout: 2 * time.Second}.Extract(context.Background(), b)
		if err == nil {
			t.Errorf("%s: no error", f)
		}
		t.Logf("%s: %v after %s", filepath.Base(f), err, time.Since(start).Round(time.Millisecond))
	}
}

func TestIsolatedRefusesGarbage(t *testing.T) {
	if _, err := (Isolated{}).Extract(context.Background(), []byte("%PDF-1.4 not really")); err == nil {
		t.Fatal("garbage read without error")
	}
}
