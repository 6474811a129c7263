package cib

import (
	"bytes"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Decode reads a CIB in Pacemaker's XML (the output of `cibadmin --query`,
// a crm_simulate input). Unknown attributes and elements are kept in the
// model (Extra, Unknown, Raw); id-ref references are resolved. An error is
// a *DecodeError naming the line and column or the element.
func Decode(r io.Reader) (*CIB, error) {
	root, err := parseTree(r)
	if err != nil {
		return nil, err
	}
	if root.name != elCIB {
		return nil, root.errorf("the root element is <%s>; a CIB starts with <cib>", root.name)
	}
	d := &decoder{ids: map[string]*xnode{}, resolving: map[string]bool{}}
	d.index(root)
	return d.cib(root)
}

// Unmarshal decodes a CIB from b; see Decode.
func Unmarshal(b []byte) (*CIB, error) { return Decode(bytes.NewReader(b)) }

type decoder struct {
	// ids maps an id to the first element that has it, for id-ref.
	ids map[string]*xnode
	// resolving holds the id-refs being followed, to refuse loops.
	resolving map[string]bool
}

func (d *decoder) index(n *xnode) {
	if id := n.attr("id"); id != "" && n.attr("id-ref") == "" {
		if _, dup := d.ids[id]; !dup {
			d.ids[id] = n
		}
	}
	for _, c := range n.children {
		d.index(c)
	}
}

// attrs fills the known fields of n's attributes and puts the others in
// extra. A known attribute written with an empty value goes to extra too,
// so that it is written back as it was.
func attrs(n *xnode, extra *[]Attr, fs []field) {
	for _, a := range n.attrs {
		i := slices.IndexFunc(fs, func(f field) bool { return f.name == a.Name })
		if i < 0 || a.Value == "" {
			*extra = append(*extra, a)
			continue
		}
		*fs[i].p = a.Value
	}
}

// noText refuses character data in an element the model types.
func noText(n *xnode) error {
	if n.text != "" {
		return n.errorf("unexpected text %q", abbreviate(strings.TrimSpace(n.text)))
	}
	return nil
}

// container checks a section element that carries nothing but children
// and keeps its attributes, if any, in cfg.SectionAttrs.
func container(n *xnode, cfg *Configuration) error {
	if len(n.attrs) > 0 {
		if cfg.SectionAttrs == nil {
			cfg.SectionAttrs = map[string][]Attr{}
		}
		cfg.SectionAttrs[n.name] = append(cfg.SectionAttrs[n.name], n.attrs...)
	}
	return noText(n)
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (d *decoder) cib(n *xnode) (*CIB, error) {
	c := &CIB{}
	var rest []Attr
	attrs(n, &rest, c.fields())
	version := map[string]*int64{"admin_epoch": &c.Version.AdminEpoch, "epoch": &c.Version.Epoch, "num_updates": &c.Version.NumUpdates}
	for _, a := range rest {
		p, ok := version[a.Name]
		if !ok {
			c.Extra = append(c.Extra, a)
			continue
		}
		v, err := strconv.ParseInt(a.Value, 10, 64)
		if err != nil || v < 0 {
			return nil, n.errorf("%s=%q: want a whole number of at least 0", a.Name, a.Value)
		}
		*p = v
	}
	if err := noText(n); err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, ch := range n.children {
		var err error
		if line, dup := seen[ch.name]; dup && (ch.name == elConfiguration || ch.name == elStatus) {
			return nil, ch.errorf("a second <%s> in <cib> (the first is on line %d)", ch.name, line)
		}
		seen[ch.name] = ch.line
		switch ch.name {
		case elConfiguration:
			err = d.configuration(ch, &c.Configuration)
		case elStatus:
			err = d.status(ch, &c.Status)
		default:
			c.Unknown = append(c.Unknown, ch.element())
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (d *decoder) configuration(n *xnode, cfg *Configuration) error {
	if err := container(n, cfg); err != nil {
		return err
	}
	seen := map[string]int{}
	for _, ch := range n.children {
		var err error
		if line, dup := seen[ch.name]; dup {
			return ch.errorf("a second <%s> in <configuration> (the first is on line %d): merge them into one", ch.name, line)
		}
		seen[ch.name] = ch.line
		switch ch.name {
		case elCRMConfig:
			err = d.sets(ch, cfg, &cfg.CRMConfig, elClusterPropertySet)
		case elNodes:
			err = d.nodes(ch, cfg)
		case elResources:
			err = container(ch, cfg)
			for _, r := range ch.children {
				if err != nil {
					break
				}
				var res *Resource
				res, err = d.resource(r)
				cfg.Resources = append(cfg.Resources, res)
			}
		case elConstraints:
			err = d.constraints(ch, cfg)
		case elRscDefaults:
			err = d.sets(ch, cfg, &cfg.RscDefaults, elMetaAttributes)
		case elOpDefaults:
			err = d.sets(ch, cfg, &cfg.OpDefaults, elMetaAttributes)
		case elFencingTopology:
			err = d.fencingTopology(ch, cfg)
		case "alerts":
			cfg.Alerts = ch.element()
		case "acls":
			cfg.ACLs = ch.element()
		case "tags":
			cfg.Tags = ch.element()
		default:
			cfg.Unknown = append(cfg.Unknown, ch.element())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sets decodes a section whose children are all NVSets named want.
func (d *decoder) sets(n *xnode, cfg *Configuration, into *[]*NVSet, want string) error {
	if err := container(n, cfg); err != nil {
		return err
	}
	for _, ch := range n.children {
		if ch.name != want {
			return ch.errorf("unexpected element in <%s>: want <%s>", n.name, want)
		}
		s, err := d.nvset(ch)
		if err != nil {
			return err
		}
		*into = append(*into, s)
	}
	return nil
}

func isNVSetName(name string) bool {
	switch name {
	case elClusterPropertySet, elInstanceAttributes, elMetaAttributes, elUtilization:
		return true
	}
	return false
}

// follow returns the element an id-ref names, refusing unknown ids, loops
// and elements of another kind; done must be called when finished with it.
func (d *decoder) follow(n *xnode, ref string, kinds func(string) bool) (*xnode, func(), error) {
	t, ok := d.ids[ref]
	if !ok {
		return nil, nil, n.errorf("id-ref %q: no element has this id", ref)
	}
	if !kinds(t.name) {
		return nil, nil, n.errorf("id-ref %q names a <%s> (line %d), not a <%s>", ref, t.name, t.line, n.name)
	}
	if d.resolving[ref] {
		return nil, nil, n.errorf("id-ref %q refers back to itself", ref)
	}
	d.resolving[ref] = true
	return t, func() { delete(d.resolving, ref) }, nil
}

// splitRefAttrs splits the attributes of an element that refers to another by
// id-ref: its own id, the reference, and any other attribute as written.
func splitRefAttrs(n *xnode) (id, ref string, extra []Attr) {
	for _, a := range n.attrs {
		switch a.Name {
		case "id":
			id = a.Value
		case "id-ref":
			ref = a.Value
		default:
			extra = append(extra, a)
		}
	}
	return id, ref, extra
}

func (d *decoder) nvset(n *xnode) (*NVSet, error) {
	s := &NVSet{}
	if ref := n.attr("id-ref"); ref != "" {
		// A reference keeps its own id and any other attribute as written;
		// the content comes from the referenced block.
		s.ID, s.IDRef, s.Extra = splitRefAttrs(n)
		if len(n.children) > 0 {
			return nil, n.errorf("a block with id-ref has no content of its own")
		}
		t, done, err := d.follow(n, ref, isNVSetName)
		if err != nil {
			return nil, err
		}
		defer done()
		target, err := d.nvset(t)
		if err != nil {
			return nil, err
		}
		s.Score, s.Rules, s.Pairs = target.Score, target.Rules, target.Pairs
		return s, nil
	}
	attrs(n, &s.Extra, s.fields())
	if err := noText(n); err != nil {
		return nil, err
	}
	for _, ch := range n.children {
		switch ch.name {
		case elNVPair:
			p, err := d.nvpair(ch)
			if err != nil {
				return nil, err
			}
			s.Pairs = append(s.Pairs, p)
		case elRule:
			r, err := d.rule(ch)
			if err != nil {
				return nil, err
			}
			s.Rules = append(s.Rules, r)
		default:
			s.Unknown = append(s.Unknown, ch.element())
		}
	}
	return s, nil
}

func (d *decoder) nvpair(n *xnode) (*NVPair, error) {
	p := &NVPair{}
	if err := noText(n); err != nil {
		return nil, err
	}
	if len(n.children) > 0 {
		return nil, n.children[0].errorf("unexpected element in <nvpair>: an nvpair has no children")
	}
	if ref := n.attr("id-ref"); ref != "" {
		p.ID, p.IDRef, p.Extra = splitRefAttrs(n)
		t, done, err := d.follow(n, ref, func(s string) bool { return s == elNVPair })
		if err != nil {
			return nil, err
		}
		defer done()
		p.Name, p.Value = t.attr("name"), t.attr("value")
		return p, nil
	}
	// value="" is meaningful for an nvpair (the attribute is set, empty), so
	// it is taken even when empty; encoding always writes it.
	for _, a := range n.attrs {
		switch a.Name {
		case "id":
			p.ID = a.Value
		case "name":
			p.Name = a.Value
		case "value":
			p.Value = a.Value
		default:
			p.Extra = append(p.Extra, a)
		}
	}
	return p, nil
}

func isRuleName(s string) bool { return s == elRule }

func (d *decoder) rule(n *xnode) (*Rule, error) {
	r := &Rule{}
	if err := noText(n); err != nil {
		return nil, err
	}
	if ref := n.attr("id-ref"); ref != "" {
		r.ID, r.IDRef, r.Extra = splitRefAttrs(n)
		if len(n.children) > 0 {
			return nil, n.errorf("a rule with id-ref has no content of its own")
		}
		t, done, err := d.follow(n, ref, isRuleName)
		if err != nil {
			return nil, err
		}
		defer done()
		target, err := d.rule(t)
		if err != nil {
			return nil, err
		}
		r.Score, r.ScoreAttribute, r.BooleanOp, r.Role, r.Conditions = target.Score, target.ScoreAttribute, target.BooleanOp, target.Role, target.Conditions
		return r, nil
	}
	attrs(n, &r.Extra, r.fields())
	for _, ch := range n.children {
		c := &Condition{}
		switch ch.name {
		case elExpression:
			e := &Expression{}
			attrs(ch, &e.Extra, e.fields())
			c.Expression = e
		case elDateExpression:
			e, err := d.dateExpression(ch)
			if err != nil {
				return nil, err
			}
			c.Date = e
		case elRule:
			sub, err := d.rule(ch)
			if err != nil {
				return nil, err
			}
			c.Rule = sub
		case elRscExpression:
			e := &RscExpression{}
			attrs(ch, &e.Extra, e.fields())
			c.Resource = e
		case elOpExpression:
			e := &OpExpression{}
			attrs(ch, &e.Extra, e.fields())
			c.Op = e
		default:
			r.Unknown = append(r.Unknown, ch.element())
			continue
		}
		if ch.name != elRule && ch.name != elDateExpression {
			if err := leaf(ch); err != nil {
				return nil, err
			}
		}
		r.Conditions = append(r.Conditions, c)
	}
	return r, nil
}

// leaf checks an element the model holds no children or text for.
func leaf(n *xnode) error {
	if err := noText(n); err != nil {
		return err
	}
	if len(n.children) > 0 {
		return n.children[0].errorf("unexpected element in <%s>, which has no children", n.name)
	}
	return nil
}

func (d *decoder) dateExpression(n *xnode) (*DateExpression, error) {
	e := &DateExpression{}
	attrs(n, &e.Extra, e.fields())
	if err := noText(n); err != nil {
		return nil, err
	}
	for _, ch := range n.children {
		if err := leaf(ch); err != nil {
			return nil, err
		}
		spec := &DateSpec{}
		for _, a := range ch.attrs {
			if a.Name == "id" {
				spec.ID = a.Value
			} else {
				spec.Fields = append(spec.Fields, a)
			}
		}
		switch {
		case ch.name == elDateSpec && e.DateSpec == nil:
			e.DateSpec = spec
		case ch.name == elDuration && e.Duration == nil:
			e.Duration = spec
		default:
			return nil, ch.errorf("unexpected element in <date_expression>: want one <date_spec> or one <duration>")
		}
	}
	return e, nil
}

func (d *decoder) nodes(n *xnode, cfg *Configuration) error {
	if err := container(n, cfg); err != nil {
		return err
	}
	for _, ch := range n.children {
		if ch.name != elNode {
			return ch.errorf("unexpected element in <nodes>: want <node>")
		}
		if err := noText(ch); err != nil {
			return err
		}
		nd := &Node{}
		attrs(ch, &nd.Extra, nd.fields())
		for _, c := range ch.children {
			switch c.name {
			case elInstanceAttributes, elUtilization:
				s, err := d.nvset(c)
				if err != nil {
					return err
				}
				if c.name == elUtilization {
					nd.Utilization = append(nd.Utilization, s)
				} else {
					nd.InstanceAttributes = append(nd.InstanceAttributes, s)
				}
			default:
				nd.Unknown = append(nd.Unknown, c.element())
			}
		}
		cfg.Nodes = append(cfg.Nodes, nd)
	}
	return nil
}

func isResourceName(s string) bool {
	switch ResourceKind(s) {
	case KindPrimitive, KindGroup, KindClone, KindMaster, KindTemplate, KindBundle:
		return true
	}
	return false
}

func (d *decoder) resource(n *xnode) (*Resource, error) {
	if !isResourceName(n.name) {
		return nil, n.errorf("unexpected element in <resources>: want primitive, group, clone, master, bundle or template")
	}
	r := &Resource{Kind: ResourceKind(n.name)}
	if r.Kind == KindBundle {
		r.ID = n.attr("id")
		r.Raw = n.element()
		return r, nil
	}
	attrs(n, &r.Extra, r.fields())
	if err := noText(n); err != nil {
		return nil, err
	}
	for _, ch := range n.children {
		switch {
		case isNVSetName(ch.name) && ch.name != elClusterPropertySet:
			s, err := d.nvset(ch)
			if err != nil {
				return nil, err
			}
			switch ch.name {
			case elInstanceAttributes:
				r.InstanceAttributes = append(r.InstanceAttributes, s)
			case elMetaAttributes:
				r.MetaAttributes = append(r.MetaAttributes, s)
			default:
				r.Utilization = append(r.Utilization, s)
			}
		case ch.name == elOperations:
			if err := noText(ch); err != nil {
				return nil, err
			}
			r.OpsAttrs = append(r.OpsAttrs, ch.attrs...)
			for _, o := range ch.children {
				if o.name != elOp {
					return nil, o.errorf("unexpected element in <operations>: want <op>")
				}
				op, err := d.op(o)
				if err != nil {
					return nil, err
				}
				r.Ops = append(r.Ops, op)
			}
		case isResourceName(ch.name) && ch.name != string(KindTemplate):
			c, err := d.resource(ch)
			if err != nil {
				return nil, err
			}
			r.Children = append(r.Children, c)
		default:
			r.Unknown = append(r.Unknown, ch.element())
		}
	}
	return r, nil
}

func (d *decoder) op(n *xnode) (*Op, error) {
	o := &Op{}
	attrs(n, &o.Extra, o.fields())
	if err := noText(n); err != nil {
		return nil, err
	}
	for _, ch := range n.children {
		switch ch.name {
		case elInstanceAttributes, elMetaAttributes:
			s, err := d.nvset(ch)
			if err != nil {
				return nil, err
			}
			if ch.name == elMetaAttributes {
				o.MetaAttributes = append(o.MetaAttributes, s)
			} else {
				o.InstanceAttributes = append(o.InstanceAttributes, s)
			}
		default:
			o.Unknown = append(o.Unknown, ch.element())
		}
	}
	return o, nil
}

func (d *decoder) constraints(n *xnode, cfg *Configuration) error {
	if err := container(n, cfg); err != nil {
		return err
	}
	for _, ch := range n.children {
		c := &Constraint{}
		var err error
		switch ch.name {
		case elRscLocation:
			l := &Location{}
			attrs(ch, &l.Extra, l.fields())
			l.Rules, l.Sets, l.Unknown, err = d.constraintChildren(ch, true)
			c.Location = l
		case elRscColocation:
			co := &Colocation{}
			attrs(ch, &co.Extra, co.fields())
			_, co.Sets, co.Unknown, err = d.constraintChildren(ch, false)
			c.Colocation = co
		case elRscOrder:
			o := &Order{}
			attrs(ch, &o.Extra, o.fields())
			_, o.Sets, o.Unknown, err = d.constraintChildren(ch, false)
			c.Order = o
		default:
			c.Raw = ch.element()
		}
		if err != nil {
			return err
		}
		cfg.Constraints = append(cfg.Constraints, c)
	}
	return nil
}

func (d *decoder) constraintChildren(n *xnode, rules bool) ([]*Rule, []*ResourceSet, []*Element, error) {
	if err := noText(n); err != nil {
		return nil, nil, nil, err
	}
	var rs []*Rule
	var sets []*ResourceSet
	var unknown []*Element
	for _, ch := range n.children {
		switch {
		case ch.name == elRule && rules:
			r, err := d.rule(ch)
			if err != nil {
				return nil, nil, nil, err
			}
			rs = append(rs, r)
		case ch.name == elResourceSet:
			s, err := d.resourceSet(ch)
			if err != nil {
				return nil, nil, nil, err
			}
			sets = append(sets, s)
		default:
			unknown = append(unknown, ch.element())
		}
	}
	return rs, sets, unknown, nil
}

func (d *decoder) resourceSet(n *xnode) (*ResourceSet, error) {
	s := &ResourceSet{}
	if err := noText(n); err != nil {
		return nil, err
	}
	if ref := n.attr("id-ref"); ref != "" {
		s.ID, s.IDRef, s.Extra = splitRefAttrs(n)
		if len(n.children) > 0 {
			return nil, n.errorf("a resource_set with id-ref has no content of its own")
		}
		t, done, err := d.follow(n, ref, func(s string) bool { return s == elResourceSet })
		if err != nil {
			return nil, err
		}
		defer done()
		target, err := d.resourceSet(t)
		if err != nil {
			return nil, err
		}
		id, ref, extra := s.ID, s.IDRef, s.Extra
		*s = *target
		s.ID, s.IDRef, s.Extra = id, ref, extra
		return s, nil
	}
	attrs(n, &s.Extra, s.fields())
	for _, ch := range n.children {
		if ch.name != elResourceRef {
			s.Unknown = append(s.Unknown, ch.element())
			continue
		}
		if err := leaf(ch); err != nil {
			return nil, err
		}
		if len(ch.attrs) != 1 || ch.attrs[0].Name != "id" {
			return nil, ch.errorf("a resource_ref has exactly one attribute, id")
		}
		s.Refs = append(s.Refs, ch.attrs[0].Value)
	}
	return s, nil
}

func (d *decoder) fencingTopology(n *xnode, cfg *Configuration) error {
	if err := container(n, cfg); err != nil {
		return err
	}
	for _, ch := range n.children {
		if ch.name != elFencingLevel {
			return ch.errorf("unexpected element in <fencing-topology>: want <fencing-level>")
		}
		if err := leaf(ch); err != nil {
			return err
		}
		l := &FencingLevel{}
		attrs(ch, &l.Extra, l.fields())
		cfg.FencingTopology = append(cfg.FencingTopology, l)
	}
	return nil
}

func (d *decoder) status(n *xnode, st *Status) error {
	st.Extra = append(st.Extra, n.attrs...)
	if err := noText(n); err != nil {
		return err
	}
	for _, ch := range n.children {
		if ch.name != elNodeState {
			st.Unknown = append(st.Unknown, ch.element())
			continue
		}
		if err := noText(ch); err != nil {
			return err
		}
		ns := &NodeState{}
		attrs(ch, &ns.Extra, ns.fields())
		for _, c := range ch.children {
			var err error
			switch {
			case c.name == elTransientAttrs && ns.TransientAttributes == nil:
				ta := &TransientAttributes{}
				attrs(c, &ta.Extra, ta.fields())
				if err = noText(c); err != nil {
					return err
				}
				for _, s := range c.children {
					if s.name != elInstanceAttributes {
						ta.Unknown = append(ta.Unknown, s.element())
						continue
					}
					var set *NVSet
					if set, err = d.nvset(s); err != nil {
						return err
					}
					ta.Sets = append(ta.Sets, set)
				}
				ns.TransientAttributes = ta
			case c.name == elLRM && ns.LRM == nil:
				ns.LRM, err = d.lrm(c)
			default:
				ns.Unknown = append(ns.Unknown, c.element())
			}
			if err != nil {
				return err
			}
		}
		st.NodeStates = append(st.NodeStates, ns)
	}
	return nil
}

func (d *decoder) lrm(n *xnode) (*LRM, error) {
	l := &LRM{}
	attrs(n, &l.Extra, l.fields())
	if err := noText(n); err != nil {
		return nil, err
	}
	for _, ch := range n.children {
		if ch.name != elLRMResources {
			l.Unknown = append(l.Unknown, ch.element())
			continue
		}
		l.ResourcesAttrs = append(l.ResourcesAttrs, ch.attrs...)
		if err := noText(ch); err != nil {
			return nil, err
		}
		for _, rn := range ch.children {
			if rn.name != elLRMResource {
				return nil, rn.errorf("unexpected element in <lrm_resources>: want <lrm_resource>")
			}
			if err := noText(rn); err != nil {
				return nil, err
			}
			r := &LRMResource{}
			attrs(rn, &r.Extra, r.fields())
			for _, on := range rn.children {
				if on.name != elLRMRscOp {
					r.Unknown = append(r.Unknown, on.element())
					continue
				}
				if err := leaf(on); err != nil {
					return nil, err
				}
				o := &LRMRscOp{}
				attrs(on, &o.Extra, o.fields())
				r.Ops = append(r.Ops, o)
			}
			l.Resources = append(l.Resources, r)
		}
	}
	return l, nil
}
