package jsonl

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.jsonl")
	if err := os.WriteFile(path, []byte("{\"a\":1}\n\n  \n{\"a\":2}\nbad\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	stop := errors.New("stop")
	err := Read(path, func(b []byte) error {
		if string(b) == "bad" {
			return stop
		}
		got = append(got, string(b))
		return nil
	})
	if !errors.Is(err, stop) || err.Error() != "line 5: stop" {
		t.Errorf("err = %v, want line 5: stop", err)
	}
	if len(got) != 2 || got[0] != `{"a":1}` || got[1] != `{"a":2}` {
		t.Errorf("lines = %q", got)
	}
	if err := Read(filepath.Join(t.TempDir(), "missing.jsonl"), func([]byte) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}
