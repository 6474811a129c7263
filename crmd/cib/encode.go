package cib

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Encode writes c as Pacemaker CIB XML, indented by two spaces as Pacemaker
// writes it. The output is deterministic: known attributes in a fixed order,
// then the unknown ones (Extra) in their input order; known children first,
// then the unknown ones. References (IDRef) are written as id-ref, without
// the content decoding copied in.
func Encode(w io.Writer, c *CIB) error {
	bw := bufio.NewWriter(w)
	writeElement(bw, c.element(), 0)
	return bw.Flush()
}

// Marshal encodes c; see Encode.
func Marshal(c *CIB) []byte {
	var b bytes.Buffer
	_ = Encode(&b, c)
	return b.Bytes()
}

// attrsOf lists the set known fields then extra. An Extra attribute whose
// name is a known field that is set is left out, so a field set after
// decoding is not written twice.
func attrsOf(fs []field, extra []Attr) []Attr {
	var out []Attr
	for _, f := range fs {
		if *f.p != "" {
			out = append(out, Attr{Name: f.name, Value: *f.p})
		}
	}
	for _, a := range extra {
		if i := slices.IndexFunc(fs, func(f field) bool { return f.name == a.Name }); i >= 0 && *fs[i].p != "" {
			continue
		}
		out = append(out, a)
	}
	return out
}

func refAttrs(id, ref string, extra []Attr) []Attr {
	var out []Attr
	if id != "" {
		out = append(out, Attr{Name: "id", Value: id})
	}
	out = append(out, Attr{Name: "id-ref", Value: ref})
	return append(out, extra...)
}

func el(name string, as []Attr, children ...*Element) *Element {
	return &Element{Name: name, Attrs: as, Children: children}
}

func (c *CIB) element() *Element {
	as := []Attr{}
	if c.CRMFeatureSet != "" {
		as = append(as, Attr{Name: "crm_feature_set", Value: c.CRMFeatureSet})
	}
	if c.ValidateWith != "" {
		as = append(as, Attr{Name: "validate-with", Value: c.ValidateWith})
	}
	as = append(as,
		Attr{Name: "epoch", Value: strconv.FormatInt(c.Version.Epoch, 10)},
		Attr{Name: "num_updates", Value: strconv.FormatInt(c.Version.NumUpdates, 10)},
		Attr{Name: "admin_epoch", Value: strconv.FormatInt(c.Version.AdminEpoch, 10)})
	fs := c.fields()
	fs = slices.DeleteFunc(fs, func(f field) bool { return f.name == "crm_feature_set" || f.name == "validate-with" })
	as = append(as, attrsOf(fs, c.Extra)...)
	root := el(elCIB, as, c.Configuration.element(), c.Status.element())
	root.Children = append(root.Children, c.Unknown...)
	return root
}

func (cfg *Configuration) element() *Element {
	sec := func(name string) []Attr { return cfg.SectionAttrs[name] }
	e := el(elConfiguration, sec(elConfiguration))
	crm := el(elCRMConfig, sec(elCRMConfig))
	for _, s := range cfg.CRMConfig {
		crm.Children = append(crm.Children, s.element(elClusterPropertySet))
	}
	nodes := el(elNodes, sec(elNodes))
	for _, n := range cfg.Nodes {
		nodes.Children = append(nodes.Children, n.element())
	}
	rscs := el(elResources, sec(elResources))
	for _, r := range cfg.Resources {
		rscs.Children = append(rscs.Children, r.element())
	}
	cons := el(elConstraints, sec(elConstraints))
	for _, c := range cfg.Constraints {
		cons.Children = append(cons.Children, c.element())
	}
	e.Children = append(e.Children, crm, nodes, rscs, cons)
	if len(cfg.FencingTopology) > 0 || sec(elFencingTopology) != nil {
		ft := el(elFencingTopology, sec(elFencingTopology))
		for _, l := range cfg.FencingTopology {
			ft.Children = append(ft.Children, el(elFencingLevel, attrsOf(l.fields(), l.Extra)))
		}
		e.Children = append(e.Children, ft)
	}
	for _, d := range []struct {
		name string
		sets []*NVSet
	}{{elRscDefaults, cfg.RscDefaults}, {elOpDefaults, cfg.OpDefaults}} {
		if len(d.sets) == 0 && sec(d.name) == nil {
			continue
		}
		x := el(d.name, sec(d.name))
		for _, s := range d.sets {
			x.Children = append(x.Children, s.element(elMetaAttributes))
		}
		e.Children = append(e.Children, x)
	}
	for _, x := range []*Element{cfg.Alerts, cfg.ACLs, cfg.Tags} {
		if x != nil {
			e.Children = append(e.Children, x)
		}
	}
	e.Children = append(e.Children, cfg.Unknown...)
	return e
}

func (s *NVSet) element(name string) *Element {
	if s.IDRef != "" {
		return el(name, refAttrs(s.ID, s.IDRef, s.Extra))
	}
	e := el(name, attrsOf(s.fields(), s.Extra))
	for _, r := range s.Rules {
		e.Children = append(e.Children, r.element())
	}
	for _, p := range s.Pairs {
		e.Children = append(e.Children, p.element())
	}
	e.Children = append(e.Children, s.Unknown...)
	return e
}

func (p *NVPair) element() *Element {
	if p.IDRef != "" {
		return el(elNVPair, refAttrs(p.ID, p.IDRef, p.Extra))
	}
	var as []Attr
	if p.ID != "" {
		as = append(as, Attr{Name: "id", Value: p.ID})
	}
	as = append(as, Attr{Name: "name", Value: p.Name}, Attr{Name: "value", Value: p.Value})
	return el(elNVPair, append(as, p.Extra...))
}

func setsElements(name string, sets []*NVSet) []*Element {
	var out []*Element
	for _, s := range sets {
		out = append(out, s.element(name))
	}
	return out
}

func (n *Node) element() *Element {
	e := el(elNode, attrsOf(n.fields(), n.Extra))
	e.Children = append(e.Children, setsElements(elInstanceAttributes, n.InstanceAttributes)...)
	e.Children = append(e.Children, setsElements(elUtilization, n.Utilization)...)
	e.Children = append(e.Children, n.Unknown...)
	return e
}

func (r *Resource) element() *Element {
	if r.Kind == KindBundle && r.Raw != nil {
		return r.Raw
	}
	e := el(string(r.Kind), attrsOf(r.fields(), r.Extra))
	// Pacemaker writes a group's or clone's attribute blocks before or after
	// its children; before keeps the children last, as in most CIBs.
	e.Children = append(e.Children, setsElements(elInstanceAttributes, r.InstanceAttributes)...)
	e.Children = append(e.Children, setsElements(elMetaAttributes, r.MetaAttributes)...)
	e.Children = append(e.Children, setsElements(elUtilization, r.Utilization)...)
	if len(r.Ops) > 0 || len(r.OpsAttrs) > 0 {
		ops := el(elOperations, r.OpsAttrs)
		for _, o := range r.Ops {
			ops.Children = append(ops.Children, o.element())
		}
		e.Children = append(e.Children, ops)
	}
	for _, c := range r.Children {
		e.Children = append(e.Children, c.element())
	}
	e.Children = append(e.Children, r.Unknown...)
	return e
}

func (o *Op) element() *Element {
	e := el(elOp, attrsOf(o.fields(), o.Extra))
	e.Children = append(e.Children, setsElements(elInstanceAttributes, o.InstanceAttributes)...)
	e.Children = append(e.Children, setsElements(elMetaAttributes, o.MetaAttributes)...)
	e.Children = append(e.Children, o.Unknown...)
	return e
}

func (c *Constraint) element() *Element {
	switch {
	case c.Location != nil:
		l := c.Location
		e := el(elRscLocation, attrsOf(l.fields(), l.Extra))
		for _, r := range l.Rules {
			e.Children = append(e.Children, r.element())
		}
		e.Children = append(e.Children, setElements(l.Sets)...)
		e.Children = append(e.Children, l.Unknown...)
		return e
	case c.Colocation != nil:
		co := c.Colocation
		e := el(elRscColocation, attrsOf(co.fields(), co.Extra), setElements(co.Sets)...)
		e.Children = append(e.Children, co.Unknown...)
		return e
	case c.Order != nil:
		o := c.Order
		e := el(elRscOrder, attrsOf(o.fields(), o.Extra), setElements(o.Sets)...)
		e.Children = append(e.Children, o.Unknown...)
		return e
	case c.Raw != nil:
		return c.Raw
	}
	// An empty Constraint has nothing to say; an empty opaque element keeps
	// the encoder total.
	return el("rsc_ticket", nil)
}

func setElements(sets []*ResourceSet) []*Element {
	var out []*Element
	for _, s := range sets {
		if s.IDRef != "" {
			out = append(out, el(elResourceSet, refAttrs(s.ID, s.IDRef, s.Extra)))
			continue
		}
		e := el(elResourceSet, attrsOf(s.fields(), s.Extra))
		for _, id := range s.Refs {
			e.Children = append(e.Children, el(elResourceRef, []Attr{{Name: "id", Value: id}}))
		}
		e.Children = append(e.Children, s.Unknown...)
		out = append(out, e)
	}
	return out
}

func (r *Rule) element() *Element {
	if r.IDRef != "" {
		return el(elRule, refAttrs(r.ID, r.IDRef, r.Extra))
	}
	e := el(elRule, attrsOf(r.fields(), r.Extra))
	for _, c := range r.Conditions {
		switch {
		case c.Expression != nil:
			e.Children = append(e.Children, el(elExpression, attrsOf(c.Expression.fields(), c.Expression.Extra)))
		case c.Date != nil:
			d := c.Date
			de := el(elDateExpression, attrsOf(d.fields(), d.Extra))
			for _, s := range []struct {
				name string
				spec *DateSpec
			}{{elDateSpec, d.DateSpec}, {elDuration, d.Duration}} {
				if s.spec == nil {
					continue
				}
				var as []Attr
				if s.spec.ID != "" {
					as = append(as, Attr{Name: "id", Value: s.spec.ID})
				}
				de.Children = append(de.Children, el(s.name, append(as, s.spec.Fields...)))
			}
			e.Children = append(e.Children, de)
		case c.Rule != nil:
			e.Children = append(e.Children, c.Rule.element())
		case c.Resource != nil:
			e.Children = append(e.Children, el(elRscExpression, attrsOf(c.Resource.fields(), c.Resource.Extra)))
		case c.Op != nil:
			e.Children = append(e.Children, el(elOpExpression, attrsOf(c.Op.fields(), c.Op.Extra)))
		}
	}
	e.Children = append(e.Children, r.Unknown...)
	return e
}

func (st *Status) element() *Element {
	e := el(elStatus, st.Extra)
	for _, n := range st.NodeStates {
		ne := el(elNodeState, attrsOf(n.fields(), n.Extra))
		if n.TransientAttributes != nil {
			t := n.TransientAttributes
			te := el(elTransientAttrs, attrsOf(t.fields(), t.Extra), setsElements(elInstanceAttributes, t.Sets)...)
			te.Children = append(te.Children, t.Unknown...)
			ne.Children = append(ne.Children, te)
		}
		if n.LRM != nil {
			l := n.LRM
			rs := el(elLRMResources, l.ResourcesAttrs)
			for _, r := range l.Resources {
				re := el(elLRMResource, attrsOf(r.fields(), r.Extra))
				for _, o := range r.Ops {
					re.Children = append(re.Children, el(elLRMRscOp, attrsOf(o.fields(), o.Extra)))
				}
				re.Children = append(re.Children, r.Unknown...)
				rs.Children = append(rs.Children, re)
			}
			le := el(elLRM, attrsOf(l.fields(), l.Extra), rs)
			le.Children = append(le.Children, l.Unknown...)
			ne.Children = append(ne.Children, le)
		}
		ne.Children = append(ne.Children, n.Unknown...)
		e.Children = append(e.Children, ne)
	}
	e.Children = append(e.Children, st.Unknown...)
	return e
}

// writeElement writes e and its children, indented by depth.
func writeElement(w *bufio.Writer, e *Element, depth int) {
	indent := strings.Repeat("  ", depth)
	w.WriteString(indent)
	w.WriteString("<")
	w.WriteString(e.Name)
	for _, a := range e.Attrs {
		if a.Name == "" {
			continue
		}
		w.WriteString(" ")
		w.WriteString(a.Name)
		w.WriteString(`="`)
		escape(w, a.Value, true)
		w.WriteString(`"`)
	}
	if len(e.Children) == 0 && e.Text == "" {
		w.WriteString("/>\n")
		return
	}
	w.WriteString(">")
	if len(e.Children) == 0 {
		escape(w, e.Text, false)
	} else {
		w.WriteString("\n")
		if e.Text != "" {
			escape(w, e.Text, false)
			w.WriteString("\n")
		}
		for _, c := range e.Children {
			writeElement(w, c, depth+1)
		}
		w.WriteString(indent)
	}
	w.WriteString("</")
	w.WriteString(e.Name)
	w.WriteString(">\n")
}

func escape(w *bufio.Writer, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '&':
			w.WriteString("&amp;")
		case r == '<':
			w.WriteString("&lt;")
		case r == '>':
			w.WriteString("&gt;")
		case r == '"' && attr:
			w.WriteString("&quot;")
		case attr && (r == '\n' || r == '\r' || r == '\t'):
			w.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		case r == '\r':
			w.WriteString("&#13;")
		case r < 0x20 && r != '\n' && r != '\t':
			// Not representable in XML 1.0; a decoded CIB never holds it,
			// only a model built by hand.
			w.WriteString("\uFFFD")
		default:
			w.WriteRune(r)
		}
	}
}
