package pluginsum

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecureConfig(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "agent")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("#!/bin/sh\n"))
	good := hex.EncodeToString(sum[:])
	write := func(content string) string {
		p := filepath.Join(t.TempDir(), "SHA256SUMS")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if sc, err := SecureConfig("", "agent", bin); sc != nil || err != nil {
		t.Fatalf("no sums file: %v, %v; want no check", sc, err)
	}
	for name, tc := range map[string]struct {
		sums string
		want string // "" for accepted
	}{
		"listed":            {"# comment\n\n" + good + "  agent\n", ""},
		"binary mode":       {good + " *agent\n", ""},
		"path in the list":  {good + "  ./plugins/agent\n", ""},
		"other digest":      {strings.Repeat("00", 32) + "  agent\n", "SHA-256 is " + good},
		"not listed":        {good + "  other\n", "not listed"},
		"not a digest":      {"xyz  agent\n", `"xyz" is not a SHA-256 digest`},
		"line without name": {good + "\n", `want "<sha256>  <name>"`},
	} {
		t.Run(name, func(t *testing.T) {
			sc, err := SecureConfig(write(tc.sums), "agent", bin)
			if tc.want == "" {
				if err != nil || sc == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if (name == "other digest" || name == "not listed") && !errors.Is(err, ErrMismatch) {
				t.Fatalf("%v is not ErrMismatch", err)
			}
		})
	}
	if _, err := SecureConfig(filepath.Join(dir, "missing"), "agent", bin); err == nil {
		t.Fatal("a missing sums file was accepted")
	}
}
