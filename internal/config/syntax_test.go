package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Section
	}{
		{
			name: "empty",
			in:   "",
			want: &Section{},
		},
		{
			name: "comments and blank lines",
			in:   "# a comment\n\n   # indented comment\n\t\n",
			want: &Section{},
		},
		{
			name: "top-level key",
			in:   "compatibility: whitetank\n",
			want: &Section{Entries: []Entry{{Key: "compatibility", Value: "whitetank", Line: 1}}},
		},
		{
			name: "section with keys and tabs",
			in:   "totem {\n\tversion:\t2\n\ttoken: 3000   \n}\n",
			want: &Section{Sections: []*Section{{
				Name: "totem", Line: 1,
				Entries: []Entry{{Key: "version", Value: "2", Line: 2}, {Key: "token", Value: "3000", Line: 3}},
			}}},
		},
		{
			name: "no space after colon, none before brace",
			in:   "totem{\ntoken:3000\n}",
			want: &Section{Sections: []*Section{{
				Name: "totem", Line: 1, Entries: []Entry{{Key: "token", Value: "3000", Line: 2}},
			}}},
		},
		{
			name: "colon before brace",
			in:   "totem: {\n}\n",
			want: &Section{Sections: []*Section{{Name: "totem", Line: 1}}},
		},
		{
			name: "values with colons, spaces and hashes stay verbatim",
			in: "nodelist {\nnode {\nring0_addr: fd00::1\nname: \"my node\"\n}\n}\n" +
				"logging {\nlogfile: /var/log/x.log\nx: a # not a comment\n}\n",
			want: &Section{Sections: []*Section{
				{Name: "nodelist", Line: 1, Sections: []*Section{{
					Name: "node", Line: 2,
					Entries: []Entry{{Key: "ring0_addr", Value: "fd00::1", Line: 3}, {Key: "name", Value: `"my node"`, Line: 4}},
				}}},
				{Name: "logging", Line: 7, Entries: []Entry{
					{Key: "logfile", Value: "/var/log/x.log", Line: 8},
					{Key: "x", Value: "a # not a comment", Line: 9},
				}},
			}},
		},
		{
			name: "a line with ':' is a key even if it holds '}'",
			in:   "a {\nx: 2 }\n}\n",
			want: &Section{Sections: []*Section{{Name: "a", Line: 1, Entries: []Entry{{Key: "x", Value: "2 }", Line: 2}}}}},
		},
		{
			name: "empty value",
			in:   "key:\n",
			want: &Section{Entries: []Entry{{Key: "key", Value: "", Line: 1}}},
		},
		{
			name: "CRLF and non-breaking spaces",
			in:   "totem {\r\n\u00a0token: 3000\u00a0\r\n}\r\n",
			want: &Section{Sections: []*Section{{
				Name: "totem", Line: 1, Entries: []Entry{{Key: "token", Value: "3000", Line: 2}},
			}}},
		},
		{
			name: "closing brace with blanks, no final newline",
			in:   "a {\n  }  ",
			want: &Section{Sections: []*Section{{Name: "a", Line: 1}}},
		},
		{
			name: "repeated sections keep file order",
			in:   "n {\nnode {\nnodeid: 1\n}\nnode {\nnodeid: 2\n}\n}\n",
			want: &Section{Sections: []*Section{{Name: "n", Line: 1, Sections: []*Section{
				{Name: "node", Line: 2, Entries: []Entry{{Key: "nodeid", Value: "1", Line: 3}}},
				{Name: "node", Line: 5, Entries: []Entry{{Key: "nodeid", Value: "2", Line: 6}}},
			}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("test.conf", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string
	}{
		{"unclosed section names where it opened", "totem {\nversion: 2\nlogging {\n}\n", 1, `section "totem" opened here is never closed`},
		{"unclosed inner section", "a {\nb {\n\n}\n", 1, `section "a"`},
		{"closing brace without section", "a: b\n}\n", 2, "unexpected '}' without an open section"},
		{"text after opening brace", "totem { version: 2 }\n", 1, "after '{'"},
		{"text before closing brace", "totem {\nx }\n", 2, "around '}'"},
		{"missing section name", "{\n}\n", 1, "missing section name"},
		{"missing key name", "totem {\n: 2\n}\n", 2, "missing key name"},
		{"equals is not a separator", "token = 3000\n", 1, "the separator is ':', not '='"},
		{"bare word", "totem {\nsecauth\n}\n", 2, `"secauth" is not "key: value"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.conf", []byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.wantLine {
				t.Errorf("line = %d, want %d (%v)", se.Line, tt.wantLine, err)
			}
			if !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", se.Msg, tt.wantMsg)
			}
			if prefix := "bad.conf:"; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
		})
	}
}

// dump shows a tree with its line numbers, for failure messages.
func dump(s *Section) string {
	var b strings.Builder
	var walk func(s *Section, indent string)
	walk = func(s *Section, indent string) {
		fmt.Fprintf(&b, "%s%q@%d {", indent, s.Name, s.Line)
		for _, e := range s.Entries {
			fmt.Fprintf(&b, " %q=%q@%d", e.Key, e.Value, e.Line)
		}
		for _, sub := range s.Sections {
			walk(sub, indent+" ")
		}
		b.WriteString(" }")
	}
	walk(s, "")
	return b.String()
}
