// Package jsonl reads JSON Lines files: one JSON value per line, blank
// lines ignored (the labelled evaluation and training sets).
package jsonl

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
)

// MaxLine is the longest line Read accepts (1 MiB).
const MaxLine = 1 << 20

// Read calls fn with every non-blank line of the file at path, in order.
// The slice is valid only during the call. It stops at the first error:
// fn's, wrapped with the line number ("line 3: …"), or the file's (open,
// read, a line over MaxLine), returned as is.
func Read(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, MaxLine), MaxLine)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if err := fn(b); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	return sc.Err()
}
