package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"runtime"

	"github.com/docket-dev/docket/digest"
	"github.com/docket-dev/docket/pdq"
)

// hashPDQ prints the PDQ hash and quality of each image, as Meta's pdq-photo-hasher does
// (HASH,QUALITY,FILE; with --dihedral, eight lines per image: the original, then rotate90,
// rotate180, rotate270, flipx, flipy, flipplus1, flipminus1, as its --pdqdih).
func (m *Main) hashPDQ(_ context.Context, args []string) error {
	flags := flag.NewFlagSet("hash pdq", flag.ContinueOnError)
	dihedral := flags.Bool("dihedral", false, "also the hashes of the 7 rotations and flips, a line each after the original's")
	maxPixels := flags.Int64("max-pixels", pdq.DefaultMaxPixels, "refuse images whose header declares more pixels (decompression bombs)")
	jobs := flags.Int("jobs", runtime.GOMAXPROCS(0), "files hashed at once (the output keeps the order of the files)")
	files, err := m.parseArgs(flags, args, " FILE…")
	if err != nil {
		return err
	}
	h := &pdq.Hasher{MaxPixels: *maxPixels}
	return m.eachFile("hash pdq", files, *jobs, func(out io.Writer, name string) error {
		if !*dihedral {
			res, err := h.HashFile(name)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "%v,%d,%s\n", res.Hash, res.Quality, name)
			return err
		}
		d, err := h.DihedralFile(name)
		if err != nil {
			return err
		}
		for _, hash := range d.Hashes {
			if _, err := fmt.Fprintf(out, "%v,%d,%s\n", hash, d.Quality, name); err != nil {
				return err
			}
		}
		return nil
	})
}

// hashExact prints each file's SHA-256 or MD5 as sha256sum and md5sum do (HEX  FILE).
func (m *Main) hashExact(_ context.Context, alg string, args []string) error {
	flags := flag.NewFlagSet("hash "+alg, flag.ContinueOnError)
	jobs := flags.Int("jobs", runtime.GOMAXPROCS(0), "files hashed at once (the output keeps the order of the files)")
	files, err := m.parseArgs(flags, args, " FILE…")
	if err != nil {
		return err
	}
	kind := map[string]digest.Kind{"sha256": digest.SHA256, "md5": digest.MD5}[alg]
	return m.eachFile("hash "+alg, files, *jobs, func(out io.Writer, name string) error {
		s, err := digest.File(name, kind)
		if err != nil {
			return err
		}
		hex := s.SHA256Hex()
		if kind == digest.MD5 {
			hex = s.MD5Hex()
		}
		_, err = fmt.Fprintf(out, "%s  %s\n", hex, name)
		return err
	})
}

// eachFile runs fn on each file, jobs at a time, and writes what each wrote to stdout in
// the order of the files; a file that fails is named on stderr and the others go on; the
// command then exits 1.
func (m *Main) eachFile(cmd string, files []string, jobs int, fn func(out io.Writer, name string) error) error {
	if len(files) == 0 {
		return exitError{2, fmt.Sprintf("%s needs at least one FILE: docket %s [flags] FILE…", cmd, cmd)}
	}
	type result struct {
		out bytes.Buffer
		err error
	}
	// The results to come, in order; its capacity bounds how far the workers run ahead.
	pending := make(chan chan *result, max(jobs, 1)-1)
	go func() {
		defer close(pending)
		for _, name := range files {
			c := make(chan *result, 1)
			pending <- c
			go func() {
				r := &result{}
				r.err = fn(&r.out, name)
				c <- r
			}()
		}
	}()
	out := bufio.NewWriter(m.Stdout)
	failed, i := 0, 0
	var werr error
	for c := range pending {
		r := <-c
		name := files[i]
		i++
		if werr == nil {
			_, werr = out.Write(r.out.Bytes())
		}
		if r.err != nil {
			err := r.err
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the name is printed already
			}
			out.Flush() // keep the order of the lines with stderr's
			fmt.Fprintf(m.Stderr, "docket: %s: %v\n", name, err)
			failed++
		}
	}
	if werr != nil {
		return werr
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return exitError{1, fmt.Sprintf("%s: %d of %d files could not be hashed", cmd, failed, len(files))}
	}
	return nil
}
