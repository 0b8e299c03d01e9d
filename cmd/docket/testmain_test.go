package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/docket-dev/docket/pdftext"
)

// TestMain lets the test binary be the PDF reader child, as the docket binary is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == pdftext.ChildArg {
		pdftext.RunChild(os.Args[2:])
	}
	if os.Getenv("DOCKET_TEST_AS_DOCKET") == "1" {
		// The test binary runs as the docket command (the reference platform as its own process).
		if err := NewMain().Run(context.Background(), os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "docket:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
