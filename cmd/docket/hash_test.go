package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHashCommands runs docket hash on the PDQ test images: the output lines, the exit
// status and what stderr says.
func TestHashCommands(t *testing.T) {
	t.Parallel()
	const img = "../../pdq/testdata/q1050.jpg"
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	sha, md := sha256.Sum256(data), md5.Sum(data)
	// Meta's expected hash of q1050.jpg (its Python reference test); quality 100.
	const pdqLine = "489db672e9190276d452aeab41eba20f02375fe4092d88defdf491a5c55c5f70,100," + img + "\n"
	for _, c := range []struct {
		name       string
		args       []string
		code       int
		out        string // the whole of stdout, if not empty
		outHas     string
		lines      int // stdout lines, if not 0
		errHas     string
		errLacking string
	}{
		{name: "pdq", args: []string{"hash", "pdq", img}, out: pdqLine},
		{name: "pdq two files", args: []string{"hash", "pdq", img, "../../pdq/testdata/wee.jpg"}, outHas: pdqLine, lines: 2},
		{name: "dihedral", args: []string{"hash", "pdq", "--dihedral", img}, outHas: pdqLine, lines: 8},
		{name: "sha256", args: []string{"hash", "sha256", img}, out: hex.EncodeToString(sha[:]) + "  " + img + "\n"},
		{name: "md5", args: []string{"hash", "md5", img}, out: hex.EncodeToString(md[:]) + "  " + img + "\n"},
		{name: "md5 of any file", args: []string{"hash", "md5", "../../pdq/testdata/LICENSE"}, outHas: "  ../../pdq/testdata/LICENSE\n", lines: 1},
		{name: "missing file, the others hashed", args: []string{"hash", "pdq", "no-such.jpg", img}, code: 1, out: pdqLine,
			errHas: "docket: no-such.jpg: no such file or directory", errLacking: "open no-such.jpg"},
		{name: "not an image", args: []string{"hash", "pdq", "../../pdq/testdata/LICENSE"}, code: 1,
			errHas: "LICENSE: pdq: not a JPEG, PNG, GIF, WebP or BMP image"},
		{name: "pixel budget", args: []string{"hash", "pdq", "--max-pixels", "1000", img}, code: 1,
			errHas: "above the budget of 1000"},
		{name: "missing sha256 file", args: []string{"hash", "sha256", "no-such"}, code: 1, errHas: "no such file"},
		{name: "no file", args: []string{"hash", "pdq"}, code: 2},
		{name: "no file to md5", args: []string{"hash", "md5"}, code: 2},
		{name: "no subcommand", args: []string{"hash"}, code: 2},
		{name: "unknown subcommand", args: []string{"hash", "sha1", img}, code: 2},
		{name: "bad flag", args: []string{"hash", "pdq", "--nope", img}, code: 2},
		{name: "help", args: []string{"hash", "pdq", "--help"}, outHas: "usage: docket hash pdq [flags] FILE…"},
		{name: "help md5", args: []string{"hash", "md5", "--help"}, outHas: descriptions["hash md5"]},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
			err := m.Run(context.Background(), c.args)
			code, msg := 0, ""
			if err != nil {
				code, msg = exitStatus(err)
			}
			stderr := errb.String() + msg
			if code != c.code {
				t.Errorf("exit %d, want %d (%s)", code, c.code, stderr)
			}
			if c.out != "" && out.String() != c.out {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), c.out)
			}
			if !strings.Contains(out.String(), c.outHas) {
				t.Errorf("stdout lacks %q:\n%s", c.outHas, out.String())
			}
			if c.lines != 0 && strings.Count(out.String(), "\n") != c.lines {
				t.Errorf("%d lines, want %d:\n%s", strings.Count(out.String(), "\n"), c.lines, out.String())
			}
			if !strings.Contains(stderr, c.errHas) || (c.errLacking != "" && strings.Contains(stderr, c.errLacking)) {
				t.Errorf("stderr %q: want %q, without %q", stderr, c.errHas, c.errLacking)
			}
		})
	}
}

// TestHashKeepsOrder: with several files hashed at once, the lines come in the order of
// the files, the same as one at a time, and a failure in the middle stops nothing.
func TestHashKeepsOrder(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../pdq/testdata/*.jpg")
	if err != nil || len(files) < 5 {
		t.Fatalf("%v %v", files, err)
	}
	files = append(files[:3:3], append([]string{"no-such.jpg"}, files[3:]...)...)
	outputs := map[string]string{}
	for _, jobs := range []string{"1", "4"} {
		for _, alg := range []string{"pdq", "sha256"} {
			var out, errb bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
			err := m.Run(context.Background(), append([]string{"hash", alg, "--jobs", jobs}, files...))
			if code, _ := exitStatus(err); code != 1 || !strings.Contains(errb.String(), "no-such.jpg") {
				t.Errorf("%s --jobs %s: exit %d, stderr %q", alg, jobs, code, errb.String())
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != len(files)-1 {
				t.Fatalf("%s --jobs %s: %d lines for %d files", alg, jobs, len(lines), len(files)-1)
			}
			k := 0
			for _, f := range files {
				if f == "no-such.jpg" {
					continue
				}
				if !strings.HasSuffix(lines[k], f) {
					t.Errorf("%s --jobs %s: line %d is %q, want it for %s", alg, jobs, k, lines[k], f)
				}
				k++
			}
			if prev, ok := outputs[alg]; ok && prev != out.String() {
				t.Errorf("%s: --jobs %s printed otherwise than --jobs 1", alg, jobs)
			}
			outputs[alg] = out.String()
		}
	}
}
