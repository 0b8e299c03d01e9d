package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"

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
	files, err := m.parseArgs(flags, args, " FILE…")
	if err != nil {
		return err
	}
	h := &pdq.Hasher{MaxPixels: *maxPixels}
	return m.eachFile("hash pdq", files, func(out io.Writer, name string) error {
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
	files, err := m.parseArgs(flags, args, " FILE…")
	if err != nil {
		return err
	}
	kind := map[string]digest.Kind{"sha256": digest.SHA256, "md5": digest.MD5}[alg]
	return m.eachFile("hash "+alg, files, func(out io.Writer, name string) error {
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

// eachFile runs fn on each file, writing to stdout; a file that fails is named on stderr
// and the others go on; the command then exits 1.
func (m *Main) eachFile(cmd string, files []string, fn func(out io.Writer, name string) error) error {
	if len(files) == 0 {
		return exitError{2, fmt.Sprintf("%s needs at least one FILE: docket %s [flags] FILE…", cmd, cmd)}
	}
	out := bufio.NewWriter(m.Stdout)
	failed := 0
	for _, name := range files {
		if err := fn(out, name); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the name is printed already
			}
			out.Flush() // keep the order of the lines with stderr's
			fmt.Fprintf(m.Stderr, "docket: %s: %v\n", name, err)
			failed++
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return exitError{1, fmt.Sprintf("%s: %d of %d files could not be hashed", cmd, failed, len(files))}
	}
	return nil
}
