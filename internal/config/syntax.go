package config

import (
	"bytes"
	"fmt"
)

// Section is one brace-delimited block of a corosync.conf-style file, such as
// "totem { ... }". The root of a parsed file is a Section with Name "" and
// Line 0 that holds the top-level keys and sections.
//
// Entries and Sections each keep file order; the interleaving of entries and
// sub-sections is not recorded, because nothing in the format depends on it.
type Section struct {
	Name     string
	Line     int // line of the "name {" that opened the section; 0 for the root
	Entries  []Entry
	Sections []*Section
}

// Entry is one "key: value" line. Key and Value have surrounding blanks
// removed; Value is otherwise verbatim (quotes and '#' are not special).
type Entry struct {
	Key   string
	Value string
	Line  int
}

// SyntaxError reports a line that is not valid corosync.conf syntax. Line is
// 1-based; for a section that is never closed it is the line that opened it.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

// Error returns "FILE:LINE: message".
func (e *SyntaxError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Parse reads corosync.conf syntax, following corosync's own parser
// (exec/coroparse.c) line by line:
//
//   - a line whose first non-blank character is '#' is a comment, and a blank
//     line is skipped; there are no end-of-line comments;
//   - a line containing '{' opens a section named by the text before it
//     ("totem {", "totem{" and "totem: {" all open "totem"); nothing may
//     follow the '{';
//   - otherwise a line containing ':' is a key and a value split at the
//     first ':' ("key:value" needs no space, and the value may contain
//     further colons, as in "ring0_addr: fd00::1"); the value may be empty;
//   - otherwise the line must be a lone '}' closing the innermost section.
//
// Blanks are spaces, tabs, carriage returns and non-breaking spaces, so CRLF
// files and trailing whitespace are accepted. '=' is not a separator, as in
// corosync. Parse stops at the first error, which is a *SyntaxError naming
// filename and the line. Parse does not interpret keys; see Decode.
func Parse(filename string, data []byte) (*Section, error) {
	root := &Section{}
	stack := []*Section{root}
	lineNo := 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lineNo++
		fail := func(format string, args ...any) (*Section, error) {
			return nil, &SyntaxError{File: filename, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
		}

		line = trimBlanks(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		cur := stack[len(stack)-1]

		if i := bytes.IndexByte(line, '{'); i >= 0 {
			name := trimSectionName(line[:i])
			if rest := trimBlanks(line[i+1:]); len(rest) > 0 {
				return fail("unexpected %q after '{': a section opening must be alone on its line", rest)
			}
			if len(name) == 0 {
				return fail("missing section name before '{'")
			}
			sub := &Section{Name: string(name), Line: lineNo}
			cur.Sections = append(cur.Sections, sub)
			stack = append(stack, sub)
			continue
		}

		if i := bytes.IndexByte(line, ':'); i >= 0 {
			key := trimBlanks(line[:i])
			if len(key) == 0 {
				return fail("missing key name before ':'")
			}
			cur.Entries = append(cur.Entries, Entry{
				Key:   string(key),
				Value: string(trimBlanks(line[i+1:])),
				Line:  lineNo,
			})
			continue
		}

		if bytes.IndexByte(line, '}') >= 0 {
			if len(line) != 1 {
				return fail("unexpected text around '}': a section closing must be alone on its line")
			}
			if len(stack) == 1 {
				return fail("unexpected '}' without an open section")
			}
			stack = stack[:len(stack)-1]
			continue
		}

		if bytes.IndexByte(line, '=') >= 0 {
			return fail("%q is not \"key: value\" (the separator is ':', not '=')", line)
		}
		return fail("%q is not \"key: value\", \"name {\", \"}\" or a comment", line)
	}
	if len(stack) > 1 {
		open := stack[len(stack)-1]
		return nil, &SyntaxError{
			File: filename,
			Line: open.Line,
			Msg:  fmt.Sprintf("section %q opened here is never closed (missing '}')", open.Name),
		}
	}
	return root, nil
}

// trimBlanks removes leading and trailing spaces, tabs, carriage returns and
// non-breaking spaces (U+00A0, which corosync also skips; only its UTF-8 form
// is recognised, so that no other UTF-8 character is cut in half).
func trimBlanks(b []byte) []byte {
	for {
		switch {
		case len(b) > 0 && isBlank(b[0]):
			b = b[1:]
		case len(b) >= 2 && b[0] == 0xC2 && b[1] == 0xA0:
			b = b[2:]
		default:
			return trimRightBlanks(b)
		}
	}
}

func trimRightBlanks(b []byte) []byte {
	for {
		n := len(b)
		switch {
		case n > 0 && isBlank(b[n-1]):
			b = b[:n-1]
		case n >= 2 && b[n-2] == 0xC2 && b[n-1] == 0xA0:
			b = b[:n-2]
		default:
			return b
		}
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// trimSectionName trims the text before '{' and, as corosync does, any
// trailing ':' so that "totem: {" names the section "totem".
func trimSectionName(b []byte) []byte {
	for {
		t := bytes.TrimRight(trimBlanks(b), ":")
		if len(t) == len(b) {
			return t
		}
		b = t
	}
}
