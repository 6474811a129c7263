package cibsvc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// OpKind names what one patch operation does.
type OpKind string

// The operations of a patch. Elements are addressed by a target: an element
// id (looked up in the configuration first, then in the status, because the
// status reuses resource and node ids), or a path starting with "/" (see
// Select).
const (
	// OpCreate adds XML as the last child of Target. It fails when an
	// element with the new element's id exists, unless IfMissing is set,
	// which makes it a no-op then.
	OpCreate OpKind = "create"
	// OpReplace replaces the element Target with XML.
	OpReplace OpKind = "replace"
	// OpSetAttributes sets Attrs on Target and removes the attributes
	// named in Unset.
	OpSetAttributes OpKind = "set_attributes"
	// OpDelete removes Target and everything inside it. It fails when
	// Target does not exist, unless IfExists is set.
	OpDelete OpKind = "delete"
	// OpSetNVPair sets Name=Value in the nvpair block Target (e.g.
	// "cib-bootstrap-options"). When the block does not exist and Parent
	// is given, the block is created there as a SetElement (default
	// "instance_attributes") with id Target. The nvpair gets the id
	// "<block id>-<name>", as crm_attribute names it.
	OpSetNVPair OpKind = "set_nvpair"
	// OpDeleteNVPair removes the nvpair Name from the block Target; it is
	// a no-op when either is absent.
	OpDeleteNVPair OpKind = "delete_nvpair"
)

// Op is one change of a Patch.
type Op struct {
	Kind   OpKind `json:"kind"`
	Target string `json:"target,omitempty"`
	// XML is the element OpCreate adds or OpReplace puts in place.
	XML []byte `json:"xml,omitempty"`
	// Attrs and Unset are OpSetAttributes' changes, applied in order.
	Attrs []cib.Attr `json:"attrs,omitempty"`
	Unset []string   `json:"unset,omitempty"`
	// IfMissing and IfExists make OpCreate and OpDelete idempotent.
	IfMissing bool `json:"if_missing,omitempty"`
	IfExists  bool `json:"if_exists,omitempty"`
	// Parent, SetElement, Name and Value are OpSetNVPair's and
	// OpDeleteNVPair's.
	Parent     string `json:"parent,omitempty"`
	SetElement string `json:"set_element,omitempty"`
	Name       string `json:"name,omitempty"`
	Value      string `json:"value,omitempty"`
}

// Patch is a set of changes applied together to one CIB version: all of
// them, or none when one fails.
type Patch struct {
	Ops []Op `json:"ops"`
}

// apply performs the patch on the tree root (a <cib>), in place.
func (p Patch) apply(root *cib.Element) error {
	for i, op := range p.Ops {
		if err := applyOp(root, op); err != nil {
			return fmt.Errorf("operation %d (%s %s): %w", i+1, op.Kind, op.Target, err)
		}
	}
	return nil
}

func applyOp(root *cib.Element, op Op) error {
	switch op.Kind {
	case OpCreate:
		parent, err := resolve(root, op.Target)
		if err != nil {
			return err
		}
		e, err := parseOpXML(op.XML)
		if err != nil {
			return err
		}
		if id, ok := e.Attr("id"); ok {
			if FindByID(root, id) != nil {
				if op.IfMissing {
					return nil
				}
				return fmt.Errorf("%w: an element with id %q", ErrExists, id)
			}
		}
		parent.Children = append(parent.Children, e)
	case OpReplace:
		e, err := parseOpXML(op.XML)
		if err != nil {
			return err
		}
		old, err := resolve(root, op.Target)
		if err != nil {
			return err
		}
		if old == root {
			return fmt.Errorf("%w: replace the whole CIB with Replace, not a patch", ErrBadPatch)
		}
		*old = *e
	case OpSetAttributes:
		e, err := resolve(root, op.Target)
		if err != nil {
			return err
		}
		for _, a := range op.Attrs {
			if e == root && isVersionAttr(a.Name) {
				return fmt.Errorf("%w: %s is kept by the CIB service", ErrBadPatch, a.Name)
			}
			if a.Name == "" {
				return fmt.Errorf("%w: an attribute without a name", ErrBadPatch)
			}
			setAttr(e, a.Name, a.Value)
		}
		for _, name := range op.Unset {
			if e == root && isVersionAttr(name) {
				return fmt.Errorf("%w: %s is kept by the CIB service", ErrBadPatch, name)
			}
			e.Attrs = slices.DeleteFunc(e.Attrs, func(a cib.Attr) bool { return a.Name == name })
		}
	case OpDelete:
		e, err := resolve(root, op.Target)
		if err != nil {
			if op.IfExists && isNotFound(err) {
				return nil
			}
			return err
		}
		if e == root {
			return fmt.Errorf("%w: the <cib> element cannot be deleted", ErrBadPatch)
		}
		removeChild(root, e)
	case OpSetNVPair:
		if op.Name == "" {
			return fmt.Errorf("%w: set_nvpair needs a name", ErrBadPatch)
		}
		set, err := resolve(root, op.Target)
		if err != nil {
			if !isNotFound(err) || op.Parent == "" || strings.HasPrefix(op.Target, "/") {
				return err
			}
			parent, perr := resolve(root, op.Parent)
			if perr != nil {
				return fmt.Errorf("parent of the new block: %w", perr)
			}
			name := op.SetElement
			if name == "" {
				name = "instance_attributes"
			}
			set = &cib.Element{Name: name, Attrs: []cib.Attr{{Name: "id", Value: op.Target}}}
			parent.Children = append(parent.Children, set)
		}
		for _, c := range set.Children {
			if n, _ := c.Attr("name"); c.Name == "nvpair" && n == op.Name {
				setAttr(c, "value", op.Value)
				return nil
			}
		}
		setID, _ := set.Attr("id")
		set.Children = append(set.Children, &cib.Element{Name: "nvpair", Attrs: []cib.Attr{
			{Name: "id", Value: setID + "-" + op.Name}, {Name: "name", Value: op.Name}, {Name: "value", Value: op.Value}}})
	case OpDeleteNVPair:
		set, err := resolve(root, op.Target)
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return err
		}
		set.Children = slices.DeleteFunc(set.Children, func(c *cib.Element) bool {
			n, _ := c.Attr("name")
			return c.Name == "nvpair" && n == op.Name
		})
	default:
		return fmt.Errorf("%w: unknown operation %q", ErrBadPatch, op.Kind)
	}
	return nil
}

func isVersionAttr(name string) bool {
	return name == "epoch" || name == "num_updates" || name == "admin_epoch"
}

func parseOpXML(b []byte) (*cib.Element, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: the operation needs XML", ErrBadPatch)
	}
	e, err := cib.ParseElement(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return e, nil
}

func setAttr(e *cib.Element, name, value string) {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			e.Attrs[i].Value = value
			return
		}
	}
	e.Attrs = append(e.Attrs, cib.Attr{Name: name, Value: value})
}

// removeChild removes e from wherever it is below root.
func removeChild(root, e *cib.Element) bool {
	for i, c := range root.Children {
		if c == e {
			root.Children = slices.Delete(root.Children, i, i+1)
			return true
		}
		if removeChild(c, e) {
			return true
		}
	}
	return false
}

func isNotFound(err error) bool {
	for e := err; e != nil; {
		if e == ErrNotFound {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// resolve finds the one element a target names: an id or a path.
func resolve(root *cib.Element, target string) (*cib.Element, error) {
	if target == "" {
		return nil, fmt.Errorf("%w: no target", ErrBadPatch)
	}
	if !strings.HasPrefix(target, "/") {
		if e := FindByID(root, target); e != nil {
			return e, nil
		}
		return nil, fmt.Errorf("%w: no element with id %q", ErrNotFound, target)
	}
	es, err := Select(root, target)
	if err != nil {
		return nil, err
	}
	switch len(es) {
	case 0:
		return nil, fmt.Errorf("%w: nothing at %s", ErrNotFound, target)
	case 1:
		return es[0], nil
	}
	return nil, fmt.Errorf("%w: %s names %d elements, an operation needs one", ErrBadPatch, target, len(es))
}

// FindByID returns the element with the id, looking in the configuration
// first, then everywhere else.
func FindByID(root *cib.Element, id string) *cib.Element {
	for _, c := range root.Children {
		if c.Name == "configuration" {
			if e := findIn(c, id); e != nil {
				return e
			}
		}
	}
	for _, c := range root.Children {
		if c.Name != "configuration" {
			if e := findIn(c, id); e != nil {
				return e
			}
		}
	}
	return nil
}

func findIn(e *cib.Element, id string) *cib.Element {
	if v, ok := e.Attr("id"); ok && v == id {
		return e
	}
	for _, c := range e.Children {
		if f := findIn(c, id); f != nil {
			return f
		}
	}
	return nil
}

// step is one step of a path: an element name ("*" for any) with
// attribute conditions, or a descendant step (from "//").
type step struct {
	name       string
	descendant bool
	preds      []cib.Attr
}

// Select returns the elements below and including root that a path
// names, in document order. Paths are a small subset of XPath: absolute,
// steps separated by "/", each an element name or "*", optionally followed
// by conditions [@attr='value'] (several are and-ed); "//" before a step
// matches it at any depth. Examples: /cib/configuration/resources,
// //primitive[@id='ip'], /cib/status/node_state[@uname='n1'].
func Select(root *cib.Element, path string) ([]*cib.Element, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	// The root is matched by the first step, as /cib selects <cib>.
	cur := []*cib.Element{{Children: []*cib.Element{root}}}
	for _, s := range steps {
		var next []*cib.Element
		seen := map[*cib.Element]bool{}
		add := func(e *cib.Element) {
			if !seen[e] && s.matches(e) {
				seen[e] = true
				next = append(next, e)
			}
		}
		for _, e := range cur {
			if s.descendant {
				walkBelow(e, add)
			} else {
				for _, c := range e.Children {
					add(c)
				}
			}
		}
		cur = next
	}
	return cur, nil
}

func walkBelow(e *cib.Element, f func(*cib.Element)) {
	for _, c := range e.Children {
		f(c)
		walkBelow(c, f)
	}
}

func (s step) matches(e *cib.Element) bool {
	if s.name != "*" && s.name != e.Name {
		return false
	}
	for _, p := range s.preds {
		if v, ok := e.Attr(p.Name); !ok || v != p.Value {
			return false
		}
	}
	return true
}

func parsePath(path string) ([]step, error) {
	bad := func(why string) error { return fmt.Errorf("%w: path %q: %s", ErrBadPath, path, why) }
	if !strings.HasPrefix(path, "/") {
		return nil, bad("must start with /")
	}
	var steps []step
	rest := path[1:]
	descendant := false
	for {
		if rest == "" {
			return nil, bad("ends with /")
		}
		if rest[0] == '/' {
			if descendant {
				return nil, bad("/// is not a path")
			}
			descendant, rest = true, rest[1:]
			continue
		}
		end := 0
		depth := 0
		for end < len(rest) {
			c := rest[end]
			if c == '[' {
				depth++
			} else if c == ']' {
				depth--
			} else if c == '/' && depth == 0 {
				break
			}
			end++
		}
		s, err := parseStep(rest[:end])
		if err != nil {
			return nil, bad(err.Error())
		}
		s.descendant = descendant
		steps = append(steps, s)
		descendant = false
		if end == len(rest) {
			return steps, nil
		}
		rest = rest[end+1:]
	}
}

func parseStep(s string) (step, error) {
	name, preds, _ := strings.Cut(s, "[")
	if name == "" {
		return step{}, fmt.Errorf("a step without an element name")
	}
	st := step{name: name}
	if preds == "" {
		return st, nil
	}
	preds = "[" + preds
	for preds != "" {
		if !strings.HasPrefix(preds, "[@") {
			return step{}, fmt.Errorf("condition %q: want [@attr='value']", preds)
		}
		end := strings.Index(preds, "]")
		if end < 0 {
			return step{}, fmt.Errorf("condition %q lacks ]", preds)
		}
		attr, val, ok := strings.Cut(preds[2:end], "=")
		if !ok || len(val) < 2 || (val[0] != '\'' && val[0] != '"') || val[len(val)-1] != val[0] {
			return step{}, fmt.Errorf("condition %q: want [@attr='value']", preds[:end+1])
		}
		st.preds = append(st.preds, cib.Attr{Name: strings.TrimSpace(attr), Value: val[1 : len(val)-1]})
		preds = preds[end+1:]
	}
	return st, nil
}
