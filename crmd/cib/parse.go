package cib

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDepth bounds element nesting; a CIB is a few levels deep.
const maxDepth = 256

// DecodeError is a CIB that cannot be decoded: where (line and column,
// 1-based, of the element's start), which element and what was expected.
type DecodeError struct {
	Line, Column int
	// Element is the element's name and ID its id, when known.
	Element string
	ID      string
	Msg     string
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("cib: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d column %d: ", e.Line, e.Column)
	}
	if e.Element != "" {
		b.WriteString("<" + e.Element)
		if e.ID != "" {
			fmt.Fprintf(&b, " id=%q", e.ID)
		}
		b.WriteString(">: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// xnode is a parsed element with its position.
type xnode struct {
	name      string
	attrs     []Attr
	children  []*xnode
	text      string
	line, col int
}

func (n *xnode) attr(name string) string {
	for _, a := range n.attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func (n *xnode) errorf(format string, args ...any) *DecodeError {
	return &DecodeError{Line: n.line, Column: n.col, Element: n.name, ID: n.attr("id"), Msg: fmt.Sprintf(format, args...)}
}

func (n *xnode) element() *Element {
	e := &Element{Name: n.name, Attrs: n.attrs, Text: n.text}
	for _, c := range n.children {
		e.Children = append(e.Children, c.element())
	}
	return e
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// parseTree reads one XML document into a tree of xnodes. Comments,
// processing instructions and directives are skipped; text that is only
// whitespace is dropped.
func parseTree(r io.Reader) (*xnode, error) {
	d := xml.NewDecoder(r)
	var root *xnode
	var stack []*xnode
	var text []bytes.Buffer
	for {
		line, col := d.InputPos()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &DecodeError{Line: se.Line, Msg: "malformed XML: " + se.Msg}
			}
			return nil, &DecodeError{Line: line, Column: col, Msg: "malformed XML: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: qname(t.Name), line: line, col: col}
			seen := map[string]bool{}
			for _, a := range t.Attr {
				name := qname(a.Name)
				if seen[name] {
					return nil, n.errorf("attribute %s given twice", name)
				}
				seen[name] = true
				n.attrs = append(n.attrs, Attr{Name: name, Value: a.Value})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, n.errorf("a second root element after </%s>", root.name)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			if len(stack) >= maxDepth {
				return nil, n.errorf("elements nested deeper than %d", maxDepth)
			}
			stack = append(stack, n)
			text = append(text, bytes.Buffer{})
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, &DecodeError{Line: line, Column: col, Msg: fmt.Sprintf("malformed XML: </%s> without a start", qname(t.Name))}
			}
			n := stack[len(stack)-1]
			if qname(t.Name) != n.name {
				return nil, &DecodeError{Line: line, Column: col, Msg: fmt.Sprintf("malformed XML: </%s> closes <%s> of line %d", qname(t.Name), n.name, n.line)}
			}
			// Text beside child elements is kept trimmed (indentation is not
			// content); text alone is kept exactly.
			if s := text[len(text)-1].String(); strings.TrimSpace(s) != "" {
				n.text = s
				if len(n.children) > 0 {
					n.text = strings.TrimSpace(s)
				}
			}
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return nil, &DecodeError{Line: line, Column: col, Msg: "malformed XML: text outside the root element"}
				}
				continue
			}
			text[len(text)-1].Write(t)
		}
	}
	if len(stack) > 0 {
		n := stack[len(stack)-1]
		return nil, n.errorf("malformed XML: the document ends before </%s>", n.name)
	}
	if root == nil {
		return nil, &DecodeError{Msg: "no XML element: the input is empty"}
	}
	return root, nil
}
