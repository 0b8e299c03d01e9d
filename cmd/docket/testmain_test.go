package main

import (
	"os"
	"testing"

	"github.com/docket-dev/docket/pdftext"
)

// TestMain lets the test binary be the PDF reader child, as the docket binary is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == pdftext.ChildArg {
		pdftext.RunChild(os.Args[2:])
	}
	os.Exit(m.Run())
}
