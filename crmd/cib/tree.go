package cib

import (
	"bufio"
	"bytes"
	"io"
)

// Tree returns c as a generic element tree, the same tree Encode writes.
// Code that edits a CIB by element id or path (the patches of vigil-crmd)
// works on this tree and decodes the result with FromTree, so that there is
// one XML reader and one writer.
func (c *CIB) Tree() *Element { return c.element() }

// FromTree decodes a tree (as from Tree or ParseElement) into a CIB, with
// the checks of Decode.
func FromTree(e *Element) (*CIB, error) {
	return Unmarshal(MarshalElement(e))
}

// ParseElement reads one XML element of any name (a whole CIB, a section,
// a single resource) into a tree. Comments, processing instructions and
// whitespace-only text are dropped, as Decode drops them.
func ParseElement(b []byte) (*Element, error) {
	n, err := parseTree(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, &DecodeError{Msg: "no element"}
	}
	return n.element(), nil
}

// EncodeElement writes e and its children as Encode writes a CIB.
func EncodeElement(w io.Writer, e *Element) error {
	bw := bufio.NewWriter(w)
	writeElement(bw, e, 0)
	return bw.Flush()
}

// MarshalElement encodes e; see EncodeElement.
func MarshalElement(e *Element) []byte {
	var b bytes.Buffer
	_ = EncodeElement(&b, e)
	return b.Bytes()
}
