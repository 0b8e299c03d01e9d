// Command docket receives, tracks and answers the requests that authorities and people send
// an online platform. Run "docket help" for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/docket-dev/docket/pdftext"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == pdftext.ChildArg {
		pdftext.RunChild(os.Args[2:]) // the isolated PDF reader (see package pdftext)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, "docket:", exit.msg)
			os.Exit(exit.code)
		}
		fmt.Fprintln(os.Stderr, "docket:", err)
		os.Exit(1)
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
