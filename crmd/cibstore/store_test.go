package cibstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
)

func cibAt(epoch int64) *cib.CIB {
	return &cib.CIB{ValidateWith: "pacemaker-3.7", Version: cib.Version{Epoch: epoch}}
}

func open(t *testing.T, dir string, keep int) *Store {
	t.Helper()
	s, err := Open(dir, keep)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSaveLoadPrune(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 3)
	if _, _, err := s.Load(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Load of an empty store: %v", err)
	}
	for e := int64(1); e <= 5; e++ {
		if err := s.Save(cibAt(e)); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cib-*.xml"))
	if len(files) != 3 {
		t.Fatalf("kept %v, want the newest 3", files)
	}
	// A new Store over the same directory (a restart) continues the
	// numbering and loads the newest.
	s = open(t, dir, 3)
	c, skipped, err := s.Load()
	if err != nil || len(skipped) != 0 || c.Version.Epoch != 5 {
		t.Fatalf("Load = epoch %v, skipped %v, %v", c.Version, skipped, err)
	}
	if err := s.Save(cibAt(6)); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := s.Load(); c.Version.Epoch != 6 {
		t.Fatalf("after a restart and a save, Load = %v", c.Version)
	}
}

// TestDamagedFilesAreSkipped truncates, flips a byte in, and removes the
// checksum of the newest files: Load takes the newest intact one and says
// which it passed over and why.
func TestDamagedFilesAreSkipped(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 10)
	for e := int64(1); e <= 4; e++ {
		if err := s.Save(cibAt(e)); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cib-*.xml"))
	damage := map[string]func([]byte) []byte{
		files[3]: func(b []byte) []byte { return b[:len(b)/2] },                                // partial write
		files[2]: func(b []byte) []byte { b[10] ^= 0x20; return b },                            // bit rot
		files[1]: func(b []byte) []byte { return []byte(strings.Split(string(b), "<!--")[0]) }, // no checksum
	}
	for path, f := range damage {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, skipped, err := open(t, dir, 10).Load()
	if err != nil || c.Version.Epoch != 1 {
		t.Fatalf("Load = %v, %v; want epoch 1", c, err)
	}
	if len(skipped) != 3 {
		t.Fatalf("skipped %v, want 3", skipped)
	}
	for i, want := range []string{"no checksum line", "checksum mismatch", "no checksum line"} {
		if !strings.Contains(skipped[i].Err.Error(), want) {
			t.Errorf("skipped[%d] = %v, want %q", i, skipped[i], want)
		}
	}
	// Nothing intact at all: an error naming every file.
	if err := os.WriteFile(files[0], []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := open(t, dir, 10).Load(); err == nil || !strings.Contains(err.Error(), files[0]) {
		t.Fatalf("Load with nothing intact: %v", err)
	}
}

func TestSaveXMLRefusesWhatWouldNotLoad(t *testing.T) {
	s := open(t, t.TempDir(), 0)
	if err := s.SaveXML([]byte("<cib><configuration>")); err == nil {
		t.Fatal("SaveXML accepted broken XML")
	}
	if err := s.SaveXML(cib.Marshal(cibAt(9))); err != nil {
		t.Fatal(err)
	}
	if c, _, err := s.Load(); err != nil || c.Version.Epoch != 9 {
		t.Fatalf("Load = %v, %v", c, err)
	}
}

// TestLeftoverTempFilesAreRemoved: what a crash in the middle of a save
// leaves is cleaned up by the next Open and never loaded.
func TestLeftoverTempFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".cib-123.tmp"), []byte("<cib"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir, 0)
	if left, _ := filepath.Glob(filepath.Join(dir, ".cib-*")); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
	if _, _, err := s.Load(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Load: %v", err)
	}
}

func FuzzUnseal(f *testing.F) {
	f.Add(seal([]byte("<cib/>")))
	f.Add([]byte("<!-- vigil-cib-sha256: zz -->\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		xml, err := unseal(b)
		if err == nil && !strings.HasPrefix(string(b), string(xml)) {
			t.Fatalf("unseal returned bytes that are not a prefix of its input")
		}
	})
}
