package crmsh

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// Show returns the statements that define the configuration of model, or
// with ids only the objects with those ids, in crmsh's order: nodes,
// primitives, groups, clones and ms, locations, colocations, orders,
// property, rsc_defaults, op_defaults. Loading them into an empty CIB with
// Apply gives the same configuration but for the ids of attribute sets,
// pairs, ops, rules and sets, which Apply generates again. What crmsh syntax
// cannot say (templates, bundles, tickets, attribute sets with rules, sets
// that are sequential but do not require all ...) is shown as a comment
// naming the object, so that nothing is silently left out.
func Show(model *cib.CIB, ids ...string) ([]Statement, error) {
	cfg := &model.Configuration
	var out []Statement
	want := func(id string) bool { return len(ids) == 0 || slices.Contains(ids, id) }
	found := map[string]bool{}
	emit := func(id string, s Statement, err error, aliases ...string) {
		hit := want(id)
		for _, a := range aliases {
			if want(a) {
				hit, found[a] = true, true
			}
		}
		if !hit {
			return
		}
		found[id] = true
		if err != nil {
			out = append(out, &Comment{Text: fmt.Sprintf(" vigil: %s cannot be shown in crmsh syntax: %v", id, err)})
			return
		}
		out = append(out, s)
	}
	for _, n := range cfg.Nodes {
		s, err := showNode(n)
		emit(n.Uname, s, err, n.ID)
	}
	all := cfg.AllResources()
	for _, r := range all {
		if r.Kind == cib.KindPrimitive {
			s, err := showPrimitive(r)
			emit(r.ID, s, err)
		}
	}
	for _, kind := range [][]cib.ResourceKind{{cib.KindGroup}, {cib.KindClone, cib.KindMaster}, {cib.KindTemplate, cib.KindBundle}} {
		for _, r := range all {
			if !slices.Contains(kind, r.Kind) {
				continue
			}
			var s Statement
			var err error
			switch r.Kind {
			case cib.KindGroup:
				s, err = showGroup(r)
			case cib.KindClone, cib.KindMaster:
				s, err = showClone(r)
			default:
				err = fmt.Errorf("%s resources are not in Vigil's crmsh yet", r.Kind)
			}
			emit(r.ID, s, err)
		}
	}
	for _, kind := range []string{"location", "colocation", "order", "other"} {
		for _, c := range cfg.Constraints {
			var s Statement
			var err error
			switch {
			case c.Location != nil && kind == "location":
				s, err = showLocation(c.Location)
			case c.Colocation != nil && kind == "colocation":
				s, err = showColocation(c.Colocation)
			case c.Order != nil && kind == "order":
				s, err = showOrder(c.Order)
			case c.Raw != nil && kind == "other":
				err = fmt.Errorf("%s constraints are not in Vigil's crmsh yet", c.Raw.Name)
			default:
				continue
			}
			emit(c.ID(), s, err)
		}
	}
	for _, sec := range []struct {
		section Section
		sets    []*cib.NVSet
		def     string
	}{{SectionProperty, cfg.CRMConfig, propertySetID}, {SectionRscDefaults, cfg.RscDefaults, rscDefaultsSetID}, {SectionOpDefaults, cfg.OpDefaults, opDefaultsSetID}} {
		for i, set := range sec.sets {
			p := &Property{Section: sec.section, SetID: set.ID}
			if i == 0 && set.ID == sec.def {
				p.SetID = ""
			}
			var err error
			p.Attrs, err = pairsOf([]*cib.NVSet{set})
			if err == nil && len(p.Attrs) == 0 {
				continue
			}
			emit(set.ID, p, err)
		}
	}
	for _, id := range ids {
		if !found[id] {
			return nil, fmt.Errorf("%w: show %s: no object has this id", ErrNotFound, id)
		}
	}
	return out, nil
}

// pairsOf flattens attribute sets that crmsh syntax can say: no rules,
// score or references, names not given twice.
func pairsOf(sets []*cib.NVSet) ([]NVPair, error) {
	var out []NVPair
	for _, s := range sets {
		if len(s.Rules) > 0 || s.Score != "" {
			return nil, fmt.Errorf("attribute set %s has rules or a score", s.ID)
		}
		for _, p := range s.Pairs {
			if slices.ContainsFunc(out, func(q NVPair) bool { return q.Name == p.Name }) {
				return nil, fmt.Errorf("%q is set in more than one attribute set", p.Name)
			}
			out = append(out, NVPair{Name: p.Name, Value: p.Value})
		}
	}
	return out, nil
}

func showNode(n *cib.Node) (Statement, error) {
	s := &Node{Name: n.Uname, Description: n.Description}
	if n.ID != n.Uname {
		s.ID = n.ID
	}
	if n.Type != "" && n.Type != "member" && n.Type != "normal" {
		s.Type = n.Type
	}
	var err error
	if s.Attributes, err = pairsOf(n.InstanceAttributes); err != nil {
		return nil, err
	}
	if s.Utilization, err = pairsOf(n.Utilization); err != nil {
		return nil, err
	}
	return s, nil
}

func showPrimitive(r *cib.Resource) (Statement, error) {
	if r.Template != "" {
		return nil, fmt.Errorf("it uses template %s", r.Template)
	}
	s := &Primitive{ID: r.ID, Agent: Agent{Class: r.Class, Provider: r.Provider, Type: r.Type}, Description: r.Description}
	var err error
	if s.Params, err = pairsOf(r.InstanceAttributes); err != nil {
		return nil, err
	}
	if s.Meta, err = pairsOf(r.MetaAttributes); err != nil {
		return nil, err
	}
	if s.Utilization, err = pairsOf(r.Utilization); err != nil {
		return nil, err
	}
	for _, o := range r.Ops {
		so := Op{Name: o.Name}
		for _, f := range []struct{ name, v string }{
			{"interval", o.Interval}, {"timeout", o.Timeout}, {"role", o.Role}, {"on-fail", o.OnFail},
			{"enabled", o.Enabled}, {"record-pending", o.RecordPending}, {"start-delay", o.StartDelay},
			{"interval-origin", o.IntervalOrigin}, {"requires", o.Requires}, {"description", o.Description},
		} {
			// interval=0 is what Apply writes when there is none.
			if f.v != "" && (f.name != "interval" || f.v != "0") {
				so.Attrs = append(so.Attrs, NVPair{Name: f.name, Value: f.v})
			}
		}
		if len(o.MetaAttributes) > 0 {
			return nil, fmt.Errorf("op %s has meta attributes (op_meta is not in Vigil's crmsh yet)", o.ID)
		}
		extra, err := pairsOf(o.InstanceAttributes)
		if err != nil {
			return nil, err
		}
		so.Attrs = append(so.Attrs, extra...)
		s.Ops = append(s.Ops, so)
	}
	return s, nil
}

func showGroup(r *cib.Resource) (Statement, error) {
	s := &Group{ID: r.ID, Description: r.Description}
	for _, c := range r.Children {
		s.Resources = append(s.Resources, c.ID)
	}
	var err error
	if s.Params, err = pairsOf(r.InstanceAttributes); err != nil {
		return nil, err
	}
	if s.Meta, err = pairsOf(r.MetaAttributes); err != nil {
		return nil, err
	}
	return s, nil
}

func showClone(r *cib.Resource) (Statement, error) {
	if len(r.Children) != 1 {
		return nil, fmt.Errorf("it has %d children", len(r.Children))
	}
	s := &Clone{ID: r.ID, Resource: r.Children[0].ID, Description: r.Description, Promotable: r.Kind == cib.KindMaster}
	var err error
	if s.Params, err = pairsOf(r.InstanceAttributes); err != nil {
		return nil, err
	}
	if s.Meta, err = pairsOf(r.MetaAttributes); err != nil {
		return nil, err
	}
	// A clone with promotable=true is shown as ms, which Apply makes back
	// into that clone.
	if i := slices.IndexFunc(s.Meta, func(p NVPair) bool { return p.Name == "promotable" }); i >= 0 && cib.IsTrue(s.Meta[i].Value) {
		s.Promotable = true
		s.Meta = slices.Delete(s.Meta, i, i+1)
		if len(s.Meta) == 0 {
			s.Meta = nil
		}
	}
	return s, nil
}

// scoreOfModel reads a score of the CIB as a Score.
func scoreOfModel(v string) (Score, error) {
	if v == "" {
		return Score{Value: "0"}, nil
	}
	s, ok := scoreValue(v)
	if !ok {
		return Score{}, fmt.Errorf("score %q is not a number or INFINITY", v)
	}
	return Score{Value: s}, nil
}

func showLocation(l *cib.Location) (Statement, error) {
	if l.Rsc == "" {
		return nil, fmt.Errorf("it names resources by pattern or set")
	}
	s := &Location{ID: l.ID, Resource: l.Rsc, Role: l.Role, ResourceDiscovery: l.ResourceDiscovery}
	if len(l.Rules) == 0 {
		sc, err := scoreOfModel(l.Score)
		if err != nil {
			return nil, err
		}
		s.Score, s.Node = sc, l.Node
		return s, nil
	}
	for i, r := range l.Rules {
		sr := Rule{Role: r.Role}
		if gen := l.ID + "-rule" + suffix(i); r.ID != gen {
			sr.ID = r.ID
		}
		if r.ScoreAttribute != "" {
			sr.Score = Score{Attribute: r.ScoreAttribute}
		} else {
			sc, err := scoreOfModel(r.Score)
			if err != nil {
				return nil, err
			}
			sr.Score = sc
		}
		for _, c := range r.Conditions {
			e, err := showCondition(c)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %v", r.ID, err)
			}
			sr.Exprs = append(sr.Exprs, e)
		}
		if len(sr.Exprs) == 0 {
			return nil, fmt.Errorf("rule %s has no expression", r.ID)
		}
		if len(sr.Exprs) > 1 {
			sr.BoolOp = "and"
			if r.BooleanOp == "or" {
				sr.BoolOp = "or"
			}
		}
		s.Rules = append(s.Rules, sr)
	}
	return s, nil
}

func suffix(i int) string {
	if i == 0 {
		return ""
	}
	return "-" + strconv.Itoa(i)
}

func showCondition(c *cib.Condition) (Expr, error) {
	switch {
	case c.Expression != nil:
		e := c.Expression
		if e.ValueSource != "" && e.ValueSource != "literal" {
			return Expr{}, fmt.Errorf("value-source=%s is not in Vigil's crmsh yet", e.ValueSource)
		}
		switch e.Operation {
		case "defined":
			return Expr{Kind: ExprDefined, Attr: e.Attribute}, nil
		case "not_defined":
			return Expr{Kind: ExprNotDefined, Attr: e.Attribute}, nil
		}
		op, ok := canonical(e.Operation, compareOps)
		typ, tok := canonical(e.Type, exprTypes)
		if !ok || (e.Type != "" && !tok) {
			return Expr{}, fmt.Errorf("expression %s: operation %q type %q", e.ID, e.Operation, e.Type)
		}
		return Expr{Kind: ExprCompare, Attr: e.Attribute, Op: op, Type: typ, Value: e.Value}, nil
	case c.Date != nil:
		d := &DateExpr{Op: c.Date.Operation, Start: c.Date.Start, End: c.Date.End}
		fields := func(ds *cib.DateSpec) []NVPair {
			if ds == nil {
				return nil
			}
			var out []NVPair
			for _, f := range ds.Fields {
				out = append(out, NVPair{Name: f.Name, Value: f.Value})
			}
			return out
		}
		d.Spec, d.Duration = fields(c.Date.DateSpec), fields(c.Date.Duration)
		return Expr{Kind: ExprDate, Date: d}, nil
	}
	return Expr{}, fmt.Errorf("nested rules and resource or op expressions are not in Vigil's crmsh yet")
}

func showSets(sets []*cib.ResourceSet, role bool) ([]ResourceSet, error) {
	var out []ResourceSet
	for _, s := range sets {
		rs := ResourceSet{Resources: slices.Clone(s.Refs), Sequential: s.Sequential == "" || cib.IsTrue(s.Sequential), RequireAll: s.RequireAll == "" || cib.IsTrue(s.RequireAll)}
		if rs.Sequential && !rs.RequireAll {
			return nil, fmt.Errorf("set %s is sequential but does not require all", s.ID)
		}
		if s.Kind != "" || s.Score != "" || s.Ordering != "" || len(s.Refs) == 0 {
			return nil, fmt.Errorf("set %s has kind, score or ordering, or is empty", s.ID)
		}
		if role {
			if s.Action != "" {
				return nil, fmt.Errorf("set %s has an action", s.ID)
			}
			rs.Qualifier = s.Role
		} else {
			if s.Role != "" {
				return nil, fmt.Errorf("set %s has a role", s.ID)
			}
			rs.Qualifier = s.Action
		}
		out = append(out, rs)
	}
	return out, nil
}

func showColocation(c *cib.Colocation) (Statement, error) {
	sc, err := scoreOfModel(c.Score)
	if err != nil {
		return nil, err
	}
	if c.Influence != "" {
		return nil, fmt.Errorf("influence= is not in Vigil's crmsh yet")
	}
	s := &Colocation{ID: c.ID, Score: sc, NodeAttribute: c.NodeAttribute}
	if len(c.Sets) == 0 {
		s.Rsc, s.RscRole, s.WithRsc, s.WithRole = c.Rsc, c.RscRole, c.WithRsc, c.WithRscRole
		return s, nil
	}
	if s.Sets, err = showSets(c.Sets, true); err != nil {
		return nil, err
	}
	return s, nil
}

func showOrder(o *cib.Order) (Statement, error) {
	s := &Order{ID: o.ID, Kind: o.Kind, Symmetrical: o.Symmetrical}
	if o.RequireAll != "" {
		return nil, fmt.Errorf("require-all= is not in Vigil's crmsh yet")
	}
	if s.Kind == "" && o.Score != "" {
		sc, err := scoreOfModel(o.Score)
		if err != nil {
			return nil, err
		}
		s.Kind = "Mandatory"
		if sc.Value == "0" {
			s.Kind = "Optional"
		}
	}
	if s.Symmetrical != "" {
		s.Symmetrical = strconv.FormatBool(cib.IsTrue(s.Symmetrical))
	}
	if len(o.Sets) == 0 {
		s.First, s.FirstAction, s.Then, s.ThenAction = o.First, o.FirstAction, o.Then, o.ThenAction
		return s, nil
	}
	var err error
	if s.Sets, err = showSets(o.Sets, false); err != nil {
		return nil, err
	}
	return s, nil
}
