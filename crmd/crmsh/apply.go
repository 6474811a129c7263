package crmsh

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// Sentinel errors of Apply, wrapped with the statement's position and the
// object's id.
var (
	// ErrExists is a definition of an id that is already in use.
	ErrExists = errors.New("crmsh: id already in use")
	// ErrNotFound is a reference to an object that does not exist.
	ErrNotFound = errors.New("crmsh: no such object")
	// ErrReferenced is a delete of an object that others still refer to.
	ErrReferenced = errors.New("crmsh: object still referenced")
	// ErrInvalid is a statement that cannot be applied as written (a group
	// of a clone, a resource in two groups ...).
	ErrInvalid = errors.New("crmsh: invalid")
)

// The ids crmsh gives the default attribute sets.
const (
	propertySetID    = "cib-bootstrap-options"
	rscDefaultsSetID = "rsc-options"
	opDefaultsSetID  = "op-options"
)

// NewCIB returns an empty CIB for the pacemaker-3.x schema, as a new cluster
// starts with.
func NewCIB() *cib.CIB {
	return &cib.CIB{ValidateWith: "pacemaker-3.7"}
}

// Apply applies definition statements (primitive, group, clone, ms,
// location, colocation, order, property, rsc_defaults, op_defaults, node,
// delete) to the configuration of model, in order, giving new elements the
// ids crmsh gives them (ClusterIP-instance_attributes,
// ClusterIP-monitor-30s, cib-bootstrap-options ...). show, verify, commit
// and comments change nothing and are skipped. Apply stops at the first
// statement it cannot apply and returns an error naming the statement's
// position; the statements before it stay applied, so a caller that wants
// all or nothing applies to a copy (see CopyCIB).
func Apply(model *cib.CIB, stmts []Statement) error {
	a := &applier{cfg: &model.Configuration}
	for _, s := range stmts {
		a.ids = allIDs(a.cfg)
		if err := a.apply(s); err != nil {
			return fmt.Errorf("%v: %w", s.Pos(), err)
		}
	}
	return nil
}

// CopyCIB returns a deep copy of c (through its XML form).
func CopyCIB(c *cib.CIB) (*cib.CIB, error) {
	return cib.Unmarshal(cib.Marshal(c))
}

type applier struct {
	cfg *cib.Configuration
	ids map[string]bool
}

// newID returns base, or base-1, base-2 ... the first not in use, and
// claims it.
func (a *applier) newID(base string) string {
	id := base
	for i := 1; a.ids[id]; i++ {
		id = base + "-" + strconv.Itoa(i)
	}
	a.ids[id] = true
	return id
}

func (a *applier) claim(id, what string) error {
	if a.ids[id] {
		return fmt.Errorf("%w: %s %s: the id %q is already used in the configuration (delete it first, or choose another id)", ErrExists, what, id, id)
	}
	a.ids[id] = true
	return nil
}

func allIDs(cfg *cib.Configuration) map[string]bool {
	ids := map[string]bool{}
	add := func(id string) {
		if id != "" {
			ids[id] = true
		}
	}
	var rule func(r *cib.Rule)
	sets := func(ss []*cib.NVSet) {
		for _, s := range ss {
			add(s.ID)
			for _, p := range s.Pairs {
				add(p.ID)
			}
			for _, r := range s.Rules {
				rule(r)
			}
		}
	}
	rule = func(r *cib.Rule) {
		add(r.ID)
		for _, c := range r.Conditions {
			switch {
			case c.Expression != nil:
				add(c.Expression.ID)
			case c.Date != nil:
				add(c.Date.ID)
				if c.Date.DateSpec != nil {
					add(c.Date.DateSpec.ID)
				}
				if c.Date.Duration != nil {
					add(c.Date.Duration.ID)
				}
			case c.Rule != nil:
				rule(c.Rule)
			case c.Resource != nil:
				add(c.Resource.ID)
			case c.Op != nil:
				add(c.Op.ID)
			}
		}
	}
	sets(cfg.CRMConfig)
	sets(cfg.RscDefaults)
	sets(cfg.OpDefaults)
	for _, n := range cfg.Nodes {
		add(n.ID)
		sets(n.InstanceAttributes)
		sets(n.Utilization)
	}
	for _, r := range cfg.AllResources() {
		add(r.ID)
		sets(r.InstanceAttributes)
		sets(r.MetaAttributes)
		sets(r.Utilization)
		for _, o := range r.Ops {
			add(o.ID)
			sets(o.InstanceAttributes)
			sets(o.MetaAttributes)
		}
	}
	for _, c := range cfg.Constraints {
		add(c.ID())
		var rs []*cib.ResourceSet
		switch {
		case c.Location != nil:
			for _, r := range c.Location.Rules {
				rule(r)
			}
			rs = c.Location.Sets
		case c.Colocation != nil:
			rs = c.Colocation.Sets
		case c.Order != nil:
			rs = c.Order.Sets
		}
		for _, s := range rs {
			add(s.ID)
		}
	}
	for _, l := range cfg.FencingTopology {
		add(l.ID)
	}
	return ids
}

func (a *applier) apply(s Statement) error {
	switch s := s.(type) {
	case *Primitive:
		return a.primitive(s)
	case *Group:
		return a.group(s)
	case *Clone:
		return a.clone(s)
	case *Location:
		return a.location(s)
	case *Colocation:
		return a.colocation(s)
	case *Order:
		return a.order(s)
	case *Property:
		return a.property(s)
	case *Node:
		return a.node(s)
	case *Delete:
		return a.delete(s)
	}
	return nil
}

// nvset makes the attribute set owner-suffix with its pairs, or nil
// without pairs.
func (a *applier) nvset(owner, suffix string, pairs []NVPair) []*cib.NVSet {
	if len(pairs) == 0 {
		return nil
	}
	s := &cib.NVSet{ID: a.newID(owner + "-" + suffix)}
	for _, p := range pairs {
		s.Pairs = append(s.Pairs, &cib.NVPair{ID: a.newID(s.ID + "-" + p.Name), Name: p.Name, Value: p.Value})
	}
	return []*cib.NVSet{s}
}

// opFields are the op attributes that are attributes of the op element;
// any other (depth, OCF_CHECK_LEVEL ...) goes to the op's
// instance_attributes.
func opField(o *cib.Op, name string) *string {
	switch name {
	case "interval":
		return &o.Interval
	case "timeout":
		return &o.Timeout
	case "role":
		return &o.Role
	case "on-fail":
		return &o.OnFail
	case "enabled":
		return &o.Enabled
	case "record-pending":
		return &o.RecordPending
	case "start-delay":
		return &o.StartDelay
	case "interval-origin":
		return &o.IntervalOrigin
	case "requires":
		return &o.Requires
	case "description":
		return &o.Description
	}
	return nil
}

func (a *applier) primitive(s *Primitive) error {
	if err := a.claim(s.ID, "primitive"); err != nil {
		return err
	}
	r := &cib.Resource{Kind: cib.KindPrimitive, ID: s.ID, Description: s.Description,
		Class: s.Agent.Class, Provider: s.Agent.Provider, Type: s.Agent.Type}
	r.InstanceAttributes = a.nvset(s.ID, "instance_attributes", s.Params)
	r.MetaAttributes = a.nvset(s.ID, "meta_attributes", s.Meta)
	r.Utilization = a.nvset(s.ID, "utilization", s.Utilization)
	for _, so := range s.Ops {
		o := &cib.Op{Name: so.Name, Interval: "0"}
		var extra []NVPair
		for _, p := range so.Attrs {
			if f := opField(o, p.Name); f != nil {
				*f = p.Value
			} else {
				extra = append(extra, p)
			}
		}
		if o.Interval == "" {
			// Pacemaker requires an interval; none means 0, as crmsh writes.
			o.Interval = "0"
		}
		o.ID = a.newID(s.ID + "-" + o.Name + "-" + o.Interval)
		o.InstanceAttributes = a.nvset(o.ID, "instance_attributes", extra)
		r.Ops = append(r.Ops, o)
	}
	a.cfg.Resources = append(a.cfg.Resources, r)
	return nil
}

// adopt takes the top-level resource id out of the resource list for a
// new container, returning it and its index.
func (a *applier) adopt(id, container, what string, kinds ...cib.ResourceKind) (*cib.Resource, int, error) {
	r := a.cfg.Resource(id)
	if r == nil {
		return nil, 0, fmt.Errorf("%w: %s %s: resource %q does not exist (define it first)", ErrNotFound, what, container, id)
	}
	if p := a.cfg.Parent(id); p != nil {
		return nil, 0, fmt.Errorf("%w: %s %s: resource %s is already in %s %s", ErrInvalid, what, container, id, p.Kind, p.ID)
	}
	if !slices.Contains(kinds, r.Kind) {
		return nil, 0, fmt.Errorf("%w: %s %s: %s is a %s, and a %s holds only %v", ErrInvalid, what, container, id, r.Kind, what, kinds)
	}
	i := slices.Index(a.cfg.Resources, r)
	a.cfg.Resources = slices.Delete(a.cfg.Resources, i, i+1)
	return r, i, nil
}

func (a *applier) group(s *Group) error {
	if err := a.claim(s.ID, "group"); err != nil {
		return err
	}
	g := &cib.Resource{Kind: cib.KindGroup, ID: s.ID, Description: s.Description}
	saved := slices.Clone(a.cfg.Resources)
	at := -1
	for _, id := range s.Resources {
		r, i, err := a.adopt(id, s.ID, "group", cib.KindPrimitive)
		if err != nil {
			a.cfg.Resources = saved
			return err
		}
		if at < 0 || i < at {
			at = i
		}
		g.Children = append(g.Children, r)
	}
	g.InstanceAttributes = a.nvset(s.ID, "instance_attributes", s.Params)
	g.MetaAttributes = a.nvset(s.ID, "meta_attributes", s.Meta)
	// The group takes the place of its first member, so that the order of
	// resources (which breaks placement ties) stays as it was.
	a.cfg.Resources = slices.Insert(a.cfg.Resources, at, g)
	return nil
}

func (a *applier) clone(s *Clone) error {
	what := "clone"
	if s.Promotable {
		what = "ms"
	}
	if err := a.claim(s.ID, what); err != nil {
		return err
	}
	r, at, err := a.adopt(s.Resource, s.ID, what, cib.KindPrimitive, cib.KindGroup)
	if err != nil {
		return err
	}
	c := &cib.Resource{Kind: cib.KindClone, ID: s.ID, Description: s.Description, Children: []*cib.Resource{r}}
	meta := s.Meta
	if s.Promotable && !slices.ContainsFunc(meta, func(p NVPair) bool { return p.Name == "promotable" }) {
		// ms is a promotable clone: Pacemaker 2's <clone promotable=true>
		// rather than the deprecated <master>.
		meta = append([]NVPair{{Name: "promotable", Value: "true"}}, meta...)
	}
	c.InstanceAttributes = a.nvset(s.ID, "instance_attributes", s.Params)
	c.MetaAttributes = a.nvset(s.ID, "meta_attributes", meta)
	a.cfg.Resources = slices.Insert(a.cfg.Resources, at, c)
	return nil
}

// resource checks that a constraint's resource exists.
func (a *applier) resource(constraint, id string) error {
	if a.cfg.Resource(id) == nil {
		return fmt.Errorf("%w: constraint %s: resource %q does not exist (define it first)", ErrNotFound, constraint, id)
	}
	return nil
}

func scoreString(s Score) string {
	if s.Value == "" {
		return "INFINITY"
	}
	return s.Value
}

func (a *applier) location(s *Location) error {
	if err := a.claim(s.ID, "location"); err != nil {
		return err
	}
	if err := a.resource(s.ID, s.Resource); err != nil {
		return err
	}
	l := &cib.Location{ID: s.ID, Rsc: s.Resource, Role: s.Role, ResourceDiscovery: s.ResourceDiscovery}
	if len(s.Rules) == 0 {
		l.Score, l.Node = scoreString(s.Score), s.Node
	}
	for _, sr := range s.Rules {
		r := &cib.Rule{Role: sr.Role}
		if sr.ID != "" {
			if err := a.claim(sr.ID, "rule"); err != nil {
				return err
			}
			r.ID = sr.ID
		} else {
			r.ID = a.newID(s.ID + "-rule")
		}
		if sr.Score.Attribute != "" {
			r.ScoreAttribute = sr.Score.Attribute
		} else {
			r.Score = scoreString(sr.Score)
		}
		if sr.BoolOp == "or" {
			r.BooleanOp = "or"
		}
		for _, e := range sr.Exprs {
			r.Conditions = append(r.Conditions, a.condition(r.ID, e))
		}
		l.Rules = append(l.Rules, r)
	}
	a.cfg.Constraints = append(a.cfg.Constraints, &cib.Constraint{Location: l})
	return nil
}

func (a *applier) condition(rule string, e Expr) *cib.Condition {
	switch e.Kind {
	case ExprDefined, ExprNotDefined:
		op := "defined"
		if e.Kind == ExprNotDefined {
			op = "not_defined"
		}
		return &cib.Condition{Expression: &cib.Expression{ID: a.newID(rule + "-expression"), Attribute: e.Attr, Operation: op}}
	case ExprDate:
		d := &cib.DateExpression{ID: a.newID(rule + "-expression"), Operation: e.Date.Op, Start: e.Date.Start, End: e.Date.End}
		spec := func(suffix string, pairs []NVPair) *cib.DateSpec {
			if len(pairs) == 0 {
				return nil
			}
			ds := &cib.DateSpec{ID: a.newID(d.ID + "-" + suffix)}
			for _, p := range pairs {
				ds.Fields = append(ds.Fields, cib.Attr{Name: p.Name, Value: p.Value})
			}
			return ds
		}
		d.DateSpec = spec("date_spec", e.Date.Spec)
		d.Duration = spec("duration", e.Date.Duration)
		return &cib.Condition{Date: d}
	}
	return &cib.Condition{Expression: &cib.Expression{ID: a.newID(rule + "-expression"), Attribute: e.Attr, Operation: e.Op, Value: e.Value, Type: e.Type}}
}

func (a *applier) sets(constraint string, sets []ResourceSet, role bool) ([]*cib.ResourceSet, error) {
	var out []*cib.ResourceSet
	for i, s := range sets {
		rs := &cib.ResourceSet{ID: a.newID(constraint + "-" + strconv.Itoa(i))}
		if !s.Sequential {
			rs.Sequential = "false"
		}
		if !s.RequireAll {
			rs.RequireAll = "false"
		}
		if role {
			rs.Role = s.Qualifier
		} else {
			rs.Action = s.Qualifier
		}
		for _, r := range s.Resources {
			if err := a.resource(constraint, r); err != nil {
				return nil, err
			}
			rs.Refs = append(rs.Refs, r)
		}
		out = append(out, rs)
	}
	return out, nil
}

func (a *applier) colocation(s *Colocation) error {
	if err := a.claim(s.ID, "colocation"); err != nil {
		return err
	}
	c := &cib.Colocation{ID: s.ID, Score: scoreString(s.Score), NodeAttribute: s.NodeAttribute}
	if s.Sets == nil {
		for _, r := range []string{s.Rsc, s.WithRsc} {
			if err := a.resource(s.ID, r); err != nil {
				return err
			}
		}
		c.Rsc, c.RscRole, c.WithRsc, c.WithRscRole = s.Rsc, s.RscRole, s.WithRsc, s.WithRole
	} else {
		sets, err := a.sets(s.ID, s.Sets, true)
		if err != nil {
			return err
		}
		c.Sets = sets
	}
	a.cfg.Constraints = append(a.cfg.Constraints, &cib.Constraint{Colocation: c})
	return nil
}

func (a *applier) order(s *Order) error {
	if err := a.claim(s.ID, "order"); err != nil {
		return err
	}
	o := &cib.Order{ID: s.ID, Kind: s.Kind, Symmetrical: s.Symmetrical}
	if s.Sets == nil {
		for _, r := range []string{s.First, s.Then} {
			if err := a.resource(s.ID, r); err != nil {
				return err
			}
		}
		o.First, o.FirstAction, o.Then, o.ThenAction = s.First, s.FirstAction, s.Then, s.ThenAction
	} else {
		sets, err := a.sets(s.ID, s.Sets, false)
		if err != nil {
			return err
		}
		o.Sets = sets
	}
	a.cfg.Constraints = append(a.cfg.Constraints, &cib.Constraint{Order: o})
	return nil
}

// setPairs sets pairs in the set, replacing the values of names it has.
func (a *applier) setPairs(set *cib.NVSet, pairs []NVPair) {
	for _, p := range pairs {
		if i := slices.IndexFunc(set.Pairs, func(q *cib.NVPair) bool { return q.Name == p.Name }); i >= 0 {
			set.Pairs[i].Value = p.Value
			continue
		}
		set.Pairs = append(set.Pairs, &cib.NVPair{ID: a.newID(set.ID + "-" + p.Name), Name: p.Name, Value: p.Value})
	}
}

func (a *applier) property(s *Property) error {
	list, def := &a.cfg.CRMConfig, propertySetID
	switch s.Section {
	case SectionRscDefaults:
		list, def = &a.cfg.RscDefaults, rscDefaultsSetID
	case SectionOpDefaults:
		list, def = &a.cfg.OpDefaults, opDefaultsSetID
	}
	id := s.SetID
	if id == "" {
		id = def
		// Without an id crmsh writes to the first set there is.
		if len(*list) > 0 {
			id = (*list)[0].ID
		}
	}
	i := slices.IndexFunc(*list, func(set *cib.NVSet) bool { return set.ID == id })
	if i < 0 {
		if err := a.claim(id, string(s.Section)); err != nil {
			return err
		}
		*list = append(*list, &cib.NVSet{ID: id})
		i = len(*list) - 1
	}
	a.setPairs((*list)[i], s.Attrs)
	return nil
}

func (a *applier) node(s *Node) error {
	n := a.cfg.Node(s.Name)
	if n == nil {
		id := s.ID
		if id == "" {
			id = s.Name
		}
		if err := a.claim(id, "node"); err != nil {
			return err
		}
		n = &cib.Node{ID: id, Uname: s.Name}
		a.cfg.Nodes = append(a.cfg.Nodes, n)
	} else if s.ID != "" && s.ID != n.ID {
		return fmt.Errorf("%w: node %s has id %s, not %s", ErrInvalid, s.Name, n.ID, s.ID)
	}
	if s.Type != "" {
		n.Type = s.Type
	}
	if s.Description != "" {
		n.Description = s.Description
	}
	for _, x := range []struct {
		sets   *[]*cib.NVSet
		suffix string
		pairs  []NVPair
	}{{&n.InstanceAttributes, "instance_attributes", s.Attributes}, {&n.Utilization, "utilization", s.Utilization}} {
		if len(x.pairs) == 0 {
			continue
		}
		if len(*x.sets) == 0 {
			*x.sets = []*cib.NVSet{{ID: a.newID(n.ID + "-" + x.suffix)}}
		}
		a.setPairs((*x.sets)[0], x.pairs)
	}
	return nil
}

// references lists the constraints that name resource id.
func references(cfg *cib.Configuration, id string) []string {
	var out []string
	inSets := func(sets []*cib.ResourceSet) bool {
		for _, s := range sets {
			if slices.Contains(s.Refs, id) {
				return true
			}
		}
		return false
	}
	for _, c := range cfg.Constraints {
		var hit bool
		switch {
		case c.Location != nil:
			hit = c.Location.Rsc == id || inSets(c.Location.Sets)
		case c.Colocation != nil:
			hit = c.Colocation.Rsc == id || c.Colocation.WithRsc == id || inSets(c.Colocation.Sets)
		case c.Order != nil:
			hit = c.Order.First == id || c.Order.Then == id || inSets(c.Order.Sets)
		}
		if hit {
			out = append(out, c.ID())
		}
	}
	return out
}

func (a *applier) delete(s *Delete) error {
	for _, id := range s.IDs {
		if err := a.deleteOne(id); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) deleteOne(id string) error {
	if r := a.cfg.Resource(id); r != nil {
		if rs := references(a.cfg, id); len(rs) > 0 {
			return fmt.Errorf("%w: delete %s: constraints %v refer to it (delete them first)", ErrReferenced, id, rs)
		}
		p := a.cfg.Parent(id)
		if p != nil {
			if len(p.Children) == 1 {
				return fmt.Errorf("%w: delete %s: it is the only member of %s %s (delete %s first; its members stay)", ErrReferenced, id, p.Kind, p.ID, p.ID)
			}
			p.Children = slices.DeleteFunc(p.Children, func(x *cib.Resource) bool { return x == r })
			return nil
		}
		// Deleting a group or clone keeps its members, at its place, as
		// crmsh does.
		i := slices.Index(a.cfg.Resources, r)
		a.cfg.Resources = slices.Replace(a.cfg.Resources, i, i+1, r.Children...)
		return nil
	}
	if i := slices.IndexFunc(a.cfg.Constraints, func(c *cib.Constraint) bool { return c.ID() == id }); i >= 0 {
		a.cfg.Constraints = slices.Delete(a.cfg.Constraints, i, i+1)
		return nil
	}
	if i := slices.IndexFunc(a.cfg.Nodes, func(n *cib.Node) bool { return n.Uname == id || n.ID == id }); i >= 0 {
		a.cfg.Nodes = slices.Delete(a.cfg.Nodes, i, i+1)
		return nil
	}
	for _, list := range []*[]*cib.NVSet{&a.cfg.CRMConfig, &a.cfg.RscDefaults, &a.cfg.OpDefaults} {
		if i := slices.IndexFunc(*list, func(s *cib.NVSet) bool { return s.ID == id }); i >= 0 {
			*list = slices.Delete(*list, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("%w: delete %s: no resource, constraint, node or property set has this id", ErrNotFound, id)
}
