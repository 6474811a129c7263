// Package cibstore keeps a node's copy of the CIB on disk so that it
// survives a restart of vigil-crmd or of the machine.
//
// Every save writes a new file, cib-SEQ.xml, holding the CIB XML followed
// by one comment line with the SHA-256 of the XML before it:
//
//	<cib ...>...</cib>
//	<!-- vigil-cib-sha256: 3a7bd3e2... -->
//
// The file is written to a temporary name, fsynced, renamed into place and
// the directory fsynced, so a crash leaves either the old set of files or
// the new one, never a half-written current file. Load walks the files from
// the newest back and takes the first whose checksum matches and whose XML
// decodes; the files it passes over are reported, not deleted, so an
// administrator can look at them. The newest Keep good files are kept.
//
// The checksum sits in the same file as the XML (Pacemaker keeps cib.xml.sig
// beside cib.xml) so that one rename publishes both: there is no moment where
// a new XML has an old checksum. The trailing comment keeps the file valid
// XML for anyone who reads it by hand (`xmllint`, `cibadmin`, an editor).
package cibstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// DefaultKeep is how many saved versions a store keeps.
const DefaultKeep = 5

const (
	prefix      = "cib-"
	suffix      = ".xml"
	sumMarker   = "<!-- vigil-cib-sha256: "
	sumTrailer  = " -->\n"
	seqDigits   = 10
	tempPattern = ".cib-*.tmp"
)

// Store is the directory of one node's saved CIB versions. It is not safe
// for concurrent use; vigil-crmd saves from one goroutine.
type Store struct {
	dir  string
	keep int
	next uint64 // sequence number of the next save
}

// Skipped is a saved file Load passed over, and why.
type Skipped struct {
	Path string
	Err  error
}

func (s Skipped) String() string { return s.Path + ": " + s.Err.Error() }

// ErrEmpty is returned by Load when the store holds no saved CIB at all.
var ErrEmpty = errors.New("cibstore: no saved CIB")

// Open opens (creating it if missing, mode 0700: the CIB may hold
// passwords of fencing devices) the store in dir. keep <= 0 means
// DefaultKeep.
func Open(dir string, keep int) (*Store, error) {
	if keep <= 0 {
		keep = DefaultKeep
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cibstore: %w", err)
	}
	s := &Store{dir: dir, keep: keep}
	seqs, err := s.list()
	if err != nil {
		return nil, err
	}
	if len(seqs) > 0 {
		s.next = seqs[len(seqs)-1] + 1
	}
	// Temporary files are what a crash in the middle of a save leaves.
	if temps, _ := filepath.Glob(filepath.Join(dir, tempPattern)); len(temps) > 0 {
		for _, t := range temps {
			os.Remove(t)
		}
	}
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// path is the file of sequence number seq.
func (s *Store) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%0*d%s", prefix, seqDigits, seq, suffix))
}

// list returns the sequence numbers of the saved files, oldest first.
func (s *Store) list() ([]uint64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("cibstore: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, prefix), suffix), 10, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, n)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// Save writes c as the newest version and prunes versions beyond Keep. When
// it returns nil the version is on stable storage.
func (s *Store) Save(c *cib.CIB) error {
	return s.write(seal(cib.Marshal(c)))
}

// SaveXML is Save for a CIB already encoded as XML. The XML must decode;
// the store never writes something Load would refuse.
func (s *Store) SaveXML(xml []byte) error {
	if _, err := cib.Unmarshal(xml); err != nil {
		return fmt.Errorf("cibstore: refusing to save a CIB that does not decode: %w", err)
	}
	return s.write(seal(xml))
}

// write publishes body as the newest version.
func (s *Store) write(body []byte) error {
	f, err := os.CreateTemp(s.dir, tempPattern)
	if err != nil {
		return fmt.Errorf("cibstore: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(body); err != nil {
		return fmt.Errorf("cibstore: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cibstore: fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cibstore: close %s: %w", tmp, err)
	}
	final := s.path(s.next)
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("cibstore: rename %s: %w", tmp, err)
	}
	ok = true
	if err := syncDir(s.dir); err != nil {
		return err
	}
	s.next++
	return s.prune()
}

// prune removes the oldest files beyond Keep.
func (s *Store) prune() error {
	seqs, err := s.list()
	if err != nil {
		return err
	}
	for len(seqs) > s.keep {
		if err := os.Remove(s.path(seqs[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cibstore: prune: %w", err)
		}
		seqs = seqs[1:]
	}
	return nil
}

// Load returns the newest saved CIB that is intact, with the files it
// passed over because they were damaged. It returns ErrEmpty when there is
// no saved CIB, and an error naming every damaged file when none is good.
func (s *Store) Load() (*cib.CIB, []Skipped, error) {
	seqs, err := s.list()
	if err != nil {
		return nil, nil, err
	}
	if len(seqs) == 0 {
		return nil, nil, ErrEmpty
	}
	var skipped []Skipped
	for i := len(seqs) - 1; i >= 0; i-- {
		path := s.path(seqs[i])
		c, err := readFile(path)
		if err == nil {
			return c, skipped, nil
		}
		skipped = append(skipped, Skipped{Path: path, Err: err})
	}
	var msgs []string
	for _, sk := range skipped {
		msgs = append(msgs, sk.String())
	}
	return nil, skipped, fmt.Errorf("cibstore: no intact CIB in %s: %s", s.dir, strings.Join(msgs, "; "))
}

// readFile reads and checks one saved file.
func readFile(path string) (*cib.CIB, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	xml, err := unseal(body)
	if err != nil {
		return nil, err
	}
	c, err := cib.Unmarshal(xml)
	if err != nil {
		return nil, fmt.Errorf("checksum matches but the XML does not decode: %w", err)
	}
	return c, nil
}

// seal appends the checksum line to xml.
func seal(xml []byte) []byte {
	sum := sha256.Sum256(xml)
	out := make([]byte, 0, len(xml)+len(sumMarker)+64+len(sumTrailer)+1)
	out = append(out, xml...)
	if len(xml) > 0 && xml[len(xml)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(append(append(out, sumMarker...), hex.EncodeToString(sum[:])...), sumTrailer...)
}

// unseal checks the checksum line of body and returns the XML it covers.
func unseal(body []byte) ([]byte, error) {
	i := bytes.LastIndex(body, []byte(sumMarker))
	if i < 0 {
		return nil, errors.New("no checksum line: the file is truncated or was not written by vigil-crmd")
	}
	line := body[i+len(sumMarker):]
	if !bytes.HasSuffix(line, []byte(sumTrailer)) || len(line) != 64+len(sumTrailer) {
		return nil, errors.New("checksum line is damaged")
	}
	want, err := hex.DecodeString(string(line[:64]))
	if err != nil {
		return nil, errors.New("checksum line is damaged")
	}
	xml := body[:i]
	// seal added a newline when the XML did not end with one; the
	// checksum covers the XML as given, so try both.
	for _, cand := range [][]byte{xml, bytes.TrimSuffix(xml, []byte("\n"))} {
		if sum := sha256.Sum256(cand); bytes.Equal(sum[:], want) {
			return cand, nil
		}
	}
	return nil, errors.New("checksum mismatch: the file was changed or damaged after it was written")
}

// syncDir fsyncs a directory so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cibstore: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cibstore: fsync %s: %w", dir, err)
	}
	return nil
}
