package pdftext

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"syscall"
	"time"
)

// ChildArg is the hidden first argument that makes a docket process a PDF reader child.
const ChildArg = "__docket-pdftext"

// Isolated extracts text in a child process.
type Isolated struct {
	// Exe is the executable to run (os.Executable() when empty); it must call RunChild when
	// its first argument is ChildArg.
	Exe      string
	Timeout  time.Duration // default 10 s
	MaxPages int           // default 50
	MaxBytes int           // default 256 KiB
}

// Extract returns the text of one PDF, or an error if the child failed, ran out of time
// (Timeout, or ctx's end: the budget of the whole message) or of memory.
func (x Isolated) Extract(ctx context.Context, data []byte) (string, error) {
	exe := x.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find own executable: %w", err)
		}
	}
	timeout := x.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, ChildArg, fmt.Sprint(max(x.MaxPages, 0)), fmt.Sprint(max(x.MaxBytes, 0)))
	cmd.Stdin = bytes.NewReader(data)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.Env = []string{"GOMAXPROCS=1"}
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("PDF reader stopped after %s or at the end of the message's budget (a crafted or very complex file?)", timeout)
	}
	if err != nil {
		msg := stderr.String()
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return out.String(), fmt.Errorf("PDF reader: %v: %s", err, msg)
	}
	return out.String(), nil // the child wrote Text's result: valid UTF-8, at most MaxBytes
}

// RunChild is the child's main: it reads a PDF on stdin and writes its text on stdout, under
// a memory limit. It does not return.
func RunChild(args []string) {
	var pages, size int
	if len(args) >= 2 {
		fmt.Sscan(args[0], &pages)
		fmt.Sscan(args[1], &size)
	}
	if pages <= 0 {
		pages = 50
	}
	if size <= 0 {
		size = 256 << 10
	}
	// A hard cap on the address space, and a soft one on the heap.
	_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: 2 << 30, Max: 2 << 30})
	debug.SetMemoryLimit(512 << 20)
	data, err := io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	text, err := Text(data, pages, size)
	os.Stdout.WriteString(text)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}
