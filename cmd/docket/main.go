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

	"github.com/docket-dev/docket"
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
		code, msg := exitStatus(err)
		if msg != "" {
			fmt.Fprintln(os.Stderr, "docket:", msg)
		}
		os.Exit(code)
	}
}

// exitStatus returns the exit status for err and what to print: a docket error's message
// alone (its code is for programs, and the status says it), an exitError's own status.
func exitStatus(err error) (int, string) {
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code, exit.msg
	}
	var de *docket.Error
	if errors.As(err, &de) {
		return 1, de.Message
	}
	return 1, err.Error()
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
