package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedCorpus adds every testdata file and a few awkward snippets.
func seedCorpus(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.conf"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "{", "}", ":", "a {\n", "a:b{\n}", "totem {\ntoken: 99999999999\n}",
		"nodelist {\nnode {\nring9_addr: x\nnodeid: -1\n}\n}",
		"quorum {\ntwo_node: 1\nauto_tie_breaker: 1\nauto_tie_breaker_node: 0 x\n}",
		"totem.interface {\nmcastport: 1\n}\nnodelist {\nnode.nodeid: 1\n}\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParse checks that Parse never panics, that its errors carry a line,
// and that rendering a parsed tree and parsing it again gives the same tree.
func FuzzParse(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := Parse("fuzz.conf", data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 {
				t.Fatalf("Parse error %v (%T) is not a *SyntaxError with a line", err, err)
			}
			return
		}
		var b strings.Builder
		render(&b, root, 0)
		again, err := Parse("rendered.conf", []byte(b.String()))
		if err != nil {
			t.Fatalf("rendered tree does not parse: %v\n%s", err, b.String())
		}
		if !sameTree(root, again) {
			t.Fatalf("round trip changed the tree:\n got %s\nwant %s", dump(again), dump(root))
		}
	})
}

// FuzzDecode checks that Decode never panics, that every error it returns
// carries a file and line, and that a decoded Config validates.
func FuzzDecode(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode("fuzz.conf", data)
		if err != nil {
			if c != nil {
				t.Fatalf("Decode returned a Config with error %v", err)
			}
			for _, e := range unjoin(err) {
				var se *SyntaxError
				var fe *FieldError
				switch {
				case errors.As(e, &se):
					if se.Line < 1 {
						t.Fatalf("syntax error without a line: %v", e)
					}
				case errors.As(e, &fe):
					if fe.Line < 1 || fe.Key == "" {
						t.Fatalf("field error without a line or key: %v", e)
					}
				default:
					t.Fatalf("unexpected error type %T: %v", e, e)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("decoded Config does not validate: %v", err)
		}
		for _, ig := range c.Ignored {
			if ig.Line < 1 || ig.Key == "" || ig.Why == "" {
				t.Fatalf("incomplete ignored entry %+v", ig)
			}
		}
	})
}

// render writes s back as corosync.conf text: entries first, then sections.
func render(b *strings.Builder, s *Section, depth int) {
	indent := strings.Repeat("\t", depth)
	for _, e := range s.Entries {
		b.WriteString(indent + e.Key + ": " + e.Value + "\n")
	}
	for _, sub := range s.Sections {
		b.WriteString(indent + sub.Name + " {\n")
		render(b, sub, depth+1)
		b.WriteString(indent + "}\n")
	}
}

// sameTree compares names, keys and values, not line numbers.
func sameTree(a, b *Section) bool {
	if a.Name != b.Name || len(a.Entries) != len(b.Entries) || len(a.Sections) != len(b.Sections) {
		return false
	}
	for i := range a.Entries {
		if a.Entries[i].Key != b.Entries[i].Key || a.Entries[i].Value != b.Entries[i].Value {
			return false
		}
	}
	for i := range a.Sections {
		if !sameTree(a.Sections[i], b.Sections[i]) {
			return false
		}
	}
	return true
}
