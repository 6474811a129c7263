// Package pluginsum checks a plugin binary against a SHA256SUMS file before
// vigil-lrmd (resource agents) or vigil-fenced (STONITH drivers) runs it,
// so that a binary dropped into the plugin directory, or changed there,
// does not run as root unless an administrator listed its digest.
//
// The file is sha256sum's format: "<64 hex digits>  <name>" per line
// (" *<name>" in binary mode), names relative to the plugin directory,
// lines starting with # are comments. It is read at every check, so it can
// be updated without restarting a daemon.
package pluginsum

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"
)

// ErrMismatch means the binary's digest is not the listed one, or the
// binary is not listed at all.
var ErrMismatch = errors.New("plugin checksum mismatch")

// SecureConfig returns go-plugin's check of the binary at path, named name
// in the sums file, or nil when sumsFile is empty (no checking). It hashes
// the binary itself first, so that a refusal says what is wrong instead of
// go-plugin's bare "checksums did not match"; go-plugin checks again right
// before it starts the binary.
func SecureConfig(sumsFile, name, path string) (*goplugin.SecureConfig, error) {
	if sumsFile == "" {
		return nil, nil
	}
	want, err := lookup(sumsFile, name)
	if err != nil {
		return nil, err
	}
	got, err := fileSHA256(path)
	if err != nil {
		return nil, fmt.Errorf("plugin: %s: %w", path, err)
	}
	if !bytes.Equal(got, want) {
		return nil, fmt.Errorf("plugin: %s: refused: SHA-256 is %x but %s lists %x: %w", path, got, sumsFile, want, ErrMismatch)
	}
	return &goplugin.SecureConfig{Checksum: want, Hash: sha256.New()}, nil
}

// lookup returns the digest sumsFile lists for name.
func lookup(sumsFile, name string) ([]byte, error) {
	f, err := os.Open(sumsFile)
	if err != nil {
		return nil, fmt.Errorf("plugin: checksum file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, listed, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("plugin: %s:%d: want \"<sha256>  <name>\"", sumsFile, n)
		}
		listed = strings.TrimPrefix(strings.TrimLeft(listed, " "), "*")
		if filepath.Base(listed) != name {
			continue
		}
		b, err := hex.DecodeString(sum)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("plugin: %s:%d: %q is not a SHA-256 digest", sumsFile, n, sum)
		}
		return b, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("plugin: checksum file: %w", err)
	}
	return nil, fmt.Errorf("plugin: %s: refused: not listed in checksum file %s: %w", name, sumsFile, ErrMismatch)
}

func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := bufio.NewReader(f).WriteTo(h); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
