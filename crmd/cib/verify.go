package cib

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Severity says whether a Problem stops a configuration from being used.
type Severity int

// The severities of a Problem.
const (
	// SeverityError is a configuration Pacemaker rejects or ignores part
	// of; `vigil verify` exits non-zero and `vigil cib import` refuses it.
	SeverityError Severity = iota
	// SeverityWarning is legal but probably not what was meant.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// MarshalText writes the severity as "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Problem is one finding of Verify: its severity, the id of the element it is
// about (empty for the whole CIB) and a message that says what is wrong and
// how to fix it.
type Problem struct {
	Severity Severity
	ID       string
	Message  string
}

func (p Problem) String() string {
	if p.ID == "" {
		return p.Severity.String() + ": " + p.Message
	}
	return fmt.Sprintf("%s: %s: %s", p.Severity, p.ID, p.Message)
}

// HasErrors reports whether any problem is an error.
func HasErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity == SeverityError })
}

// OpNames are the operations Pacemaker and the resource agents know.
var OpNames = []string{"start", "stop", "monitor", "promote", "demote", "notify", "reload", "reload-agent", "migrate_to", "migrate_from", "meta-data", "validate-all"}

// Roles are the role names Pacemaker accepts (Master and Slave are the old
// names of Promoted and Unpromoted).
var Roles = []string{"Stopped", "Started", "Promoted", "Unpromoted", "Master", "Slave"}

// orderActions are the actions a constraint may order or colocate by.
var orderActions = []string{"start", "stop", "promote", "demote"}

// durationMeta are meta attributes and op_defaults whose values are
// durations.
var durationMeta = []string{"timeout", "interval", "failure-timeout", "start-delay"}

// durationProperties are cluster properties whose values are durations.
var durationProperties = []string{"cluster-delay", "dc-deadtime", "cluster-recheck-interval", "stonith-timeout", "shutdown-escalation", "election-timeout", "shutdown-lock-limit", "priority-fencing-delay", "stonith-watchdog-timeout", "join-integration-timeout", "join-finalization-timeout", "transition-delay"}

// Verify checks a CIB the way crm_verify does and more: missing and
// duplicate ids, references to resources, nodes and templates that do not
// exist, invalid scores, durations, roles, actions and operation names,
// resources nested the way Pacemaker does not allow, fencing levels naming
// devices that are not stonith resources, and stonith-enabled without any
// stonith resource. The problems come in a stable order: errors first, then
// by id and message.
func Verify(c *CIB) []Problem {
	v := &verifier{cfg: &c.Configuration}
	v.run()
	sort.SliceStable(v.out, func(i, j int) bool {
		a, b := v.out[i], v.out[j]
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Message < b.Message
	})
	return v.out
}

type verifier struct {
	cfg *Configuration
	out []Problem
	// ids maps each id of the configuration to what carries it.
	ids map[string]string
}

func (v *verifier) errorf(id, format string, args ...any) {
	v.out = append(v.out, Problem{Severity: SeverityError, ID: id, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) warnf(id, format string, args ...any) {
	v.out = append(v.out, Problem{Severity: SeverityWarning, ID: id, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) run() {
	v.ids = map[string]string{}
	cfg := v.cfg
	for _, s := range cfg.CRMConfig {
		v.nvset(s, "cluster_property_set", "")
	}
	v.properties()
	unames := map[string]string{}
	for _, n := range cfg.Nodes {
		v.id(n.ID, "node "+n.Uname, "node")
		if n.Uname == "" {
			v.errorf(n.ID, "node has no uname: give it the node's name as the cluster knows it")
		} else if other, dup := unames[n.Uname]; dup {
			v.errorf(n.ID, "uname %q is also the uname of node %q: each node needs its own name", n.Uname, other)
		} else {
			unames[n.Uname] = n.ID
		}
		if n.Type != "" && !slices.Contains([]string{"member", "remote", "ping", "normal"}, n.Type) {
			v.errorf(n.ID, "node type %q: want member, remote or ping", n.Type)
		}
		for _, s := range n.InstanceAttributes {
			v.nvset(s, "instance_attributes", n.ID)
		}
		for _, s := range n.Utilization {
			v.nvset(s, "utilization", n.ID)
		}
	}
	for _, r := range cfg.Resources {
		v.resource(r, nil)
	}
	for _, c := range cfg.Constraints {
		v.constraint(c)
	}
	for _, s := range cfg.RscDefaults {
		v.nvset(s, "rsc_defaults meta_attributes", "")
		v.durations(s, "rsc_defaults", durationMeta)
	}
	for _, s := range cfg.OpDefaults {
		v.nvset(s, "op_defaults meta_attributes", "")
		v.durations(s, "op_defaults", durationMeta)
	}
	v.fencing()
	v.stonith()
}

// id records an id of the configuration and reports it when it is missing
// or already used.
func (v *verifier) id(id, what, element string) {
	if id == "" {
		v.errorf("", "a <%s> (%s) has no id: every element of the configuration needs a unique id", element, what)
		return
	}
	if prev, dup := v.ids[id]; dup {
		v.errorf(id, "id %q is used by %s and by %s: ids must be unique in the configuration; rename one", id, prev, what)
		return
	}
	v.ids[id] = what
}

func (v *verifier) nvset(s *NVSet, what, owner string) {
	if s.IDRef != "" {
		return
	}
	label := what
	if owner != "" {
		label = what + " of " + owner
	}
	v.id(s.ID, label, what)
	v.score(s.ID, "score", s.Score)
	for _, r := range s.Rules {
		v.rule(r, s.ID)
	}
	for _, p := range s.Pairs {
		if p.IDRef != "" {
			continue
		}
		v.id(p.ID, fmt.Sprintf("nvpair %s of %s", p.Name, label), "nvpair")
		if p.Name == "" {
			v.errorf(p.ID, "nvpair has no name")
		}
	}
}

// score reports an invalid score; empty means absent and is fine here.
func (v *verifier) score(id, attr, s string) {
	if s == "" {
		return
	}
	if _, err := ParseScore(s, nil); err == nil {
		return
	}
	if n := ScoreOf(s, nil); n != 0 || strings.HasPrefix(strings.TrimSpace(s), "0") {
		// Pacemaker takes the leading integer and ignores the rest.
		v.warnf(id, "%s %q has characters after the number: Pacemaker reads it as %s; write %s", attr, s, n, n)
		return
	}
	v.errorf(id, "%s %q is not a score: use an integer, INFINITY or -INFINITY (Pacemaker would read it as 0)", attr, s)
}

func (v *verifier) duration(id, what, s string) {
	if s == "" {
		return
	}
	if _, err := ParseDuration(s); err != nil {
		v.errorf(id, "%s %q is not a duration: write a number of seconds (\"30\"), a number with a unit (\"500ms\", \"10s\", \"5m\", \"1h\") or ISO 8601 (\"PT10S\")", what, s)
	}
}

func (v *verifier) durations(s *NVSet, where string, names []string) {
	for _, p := range s.Pairs {
		if slices.Contains(names, p.Name) {
			v.duration(p.ID, where+" "+p.Name, p.Value)
		}
	}
}

func (v *verifier) properties() {
	for _, s := range v.cfg.CRMConfig {
		v.durations(s, "property", durationProperties)
		for _, p := range s.Pairs {
			switch p.Name {
			case "stonith-enabled", "symmetric-cluster", "maintenance-mode", "start-failure-is-fatal", "stop-orphan-resources", "stop-orphan-actions", "enable-startup-probes", "stop-all-resources", "concurrent-fencing":
				if !IsBool(p.Value) {
					v.errorf(p.ID, "property %s=%q is not a boolean: use true or false", p.Name, p.Value)
				}
			case "no-quorum-policy":
				if !slices.Contains([]string{"stop", "freeze", "ignore", "demote", "suicide", "fence"}, p.Value) {
					v.errorf(p.ID, "no-quorum-policy=%q: want stop, freeze, ignore, demote or suicide", p.Value)
				}
			}
		}
	}
}

func (v *verifier) resource(r *Resource, parent *Resource) {
	label := string(r.Kind) + " " + r.ID
	if prev, dup := v.ids[r.ID]; dup && r.ID != "" && strings.HasPrefix(prev, "resource ") && parent != nil {
		v.errorf(r.ID, "resource %s is in two places (%s and in %s %s): a resource belongs to at most one group or clone; remove one of them", r.ID, strings.TrimPrefix(prev, "resource "), parent.Kind, parent.ID)
	} else {
		where := "resource " + label
		if parent != nil {
			where += fmt.Sprintf(" (in %s %s)", parent.Kind, parent.ID)
		}
		v.id(r.ID, where, string(r.Kind))
	}
	switch r.Kind {
	case KindPrimitive, KindTemplate:
		if r.Template != "" {
			if t := v.cfg.Resource(r.Template); t == nil || t.Kind != KindTemplate {
				v.errorf(r.ID, "template %q does not exist: define the template or give the primitive a class and type", r.Template)
			}
		} else if r.Class == "" || r.Type == "" {
			v.errorf(r.ID, "%s has no agent: give it class and type (for example class=ocf provider=heartbeat type=IPaddr2)", r.Kind)
		}
		if r.Class == "ocf" && r.Provider == "" {
			v.errorf(r.ID, "ocf resource %s has no provider: write ocf:PROVIDER:%s (for example ocf:heartbeat:%s)", r.ID, r.Type, r.Type)
		}
		if r.Class == "stonith" && parent != nil {
			if parent.Kind == KindGroup {
				v.warnf(r.ID, "stonith resource in group %s: fencing devices are usually top-level primitives", parent.ID)
			}
		}
	case KindGroup:
		if len(r.Children) == 0 {
			v.warnf(r.ID, "group has no members: add primitives or delete it")
		}
		for _, c := range r.Children {
			if c.Kind != KindPrimitive {
				v.errorf(c.ID, "a group can hold only primitives, not a %s; put the group inside the clone instead", c.Kind)
			}
		}
		if parent != nil && parent.Kind == KindGroup {
			v.errorf(r.ID, "group inside group %s: groups do not nest", parent.ID)
		}
	case KindClone, KindMaster:
		switch {
		case len(r.Children) == 0:
			v.errorf(r.ID, "%s has no resource to clone: give it one primitive or group", r.Kind)
		case len(r.Children) > 1:
			v.errorf(r.ID, "%s holds %d resources: a clone holds exactly one primitive or group; put them in a group", r.Kind, len(r.Children))
		}
		for _, c := range r.Children {
			if c.Kind == KindClone || c.Kind == KindMaster || c.Kind == KindBundle {
				v.errorf(c.ID, "a %s cannot be cloned again (it is inside %s %s)", c.Kind, r.Kind, r.ID)
			}
		}
	}
	if parent != nil && parent.Kind == KindGroup && (r.Kind == KindClone || r.Kind == KindMaster) {
		v.errorf(r.ID, "a clone cannot be a member of group %s; clone the group instead", parent.ID)
	}
	for _, s := range r.InstanceAttributes {
		v.nvset(s, "instance_attributes", r.ID)
	}
	for _, s := range r.MetaAttributes {
		v.nvset(s, "meta_attributes", r.ID)
		v.durations(s, "meta attribute", []string{"failure-timeout"})
		for _, p := range s.Pairs {
			switch p.Name {
			case "target-role":
				if !validRole(p.Value) {
					v.errorf(p.ID, "target-role %q: want one of %s", p.Value, strings.Join(Roles, ", "))
				}
			case "resource-stickiness", "priority", "migration-threshold":
				v.score(p.ID, p.Name, p.Value)
			case "is-managed", "globally-unique", "promotable", "interleave", "notify", "ordered", "allow-migrate", "maintenance":
				if !IsBool(p.Value) {
					v.errorf(p.ID, "meta attribute %s=%q is not a boolean: use true or false", p.Name, p.Value)
				}
			}
		}
	}
	for _, s := range r.Utilization {
		v.nvset(s, "utilization", r.ID)
	}
	seen := map[string]string{}
	for _, o := range r.Ops {
		v.op(r, o, seen)
	}
	for _, c := range r.Children {
		v.resource(c, r)
	}
}

func (v *verifier) op(r *Resource, o *Op, seen map[string]string) {
	v.id(o.ID, fmt.Sprintf("op %s of %s", o.Name, r.ID), "op")
	id := o.ID
	if id == "" {
		id = r.ID
	}
	if !slices.Contains(OpNames, o.Name) {
		v.errorf(id, "unknown operation %q: want one of %s", o.Name, strings.Join(OpNames, " "))
	}
	v.duration(id, "interval", o.Interval)
	v.duration(id, "timeout", o.Timeout)
	v.duration(id, "start-delay", o.StartDelay)
	v.role(id, "role", o.Role)
	if o.OnFail != "" && !slices.Contains([]string{"ignore", "block", "stop", "restart", "standby", "fence", "restart-container", "demote"}, o.OnFail) {
		v.errorf(id, "on-fail %q: want ignore, block, stop, restart, standby, fence, demote or restart-container", o.OnFail)
	}
	if d, err := o.IntervalDuration(); err == nil {
		key := fmt.Sprintf("%s/%d/%s", o.Name, d.Milliseconds(), NormalizeRole(o.Role))
		if prev, dup := seen[key]; dup {
			v.errorf(id, "operation %s with interval %s is defined twice (also %s): Pacemaker identifies an operation by name and interval; give one a different interval", o.Name, d, prev)
		}
		seen[key] = id
	}
	for _, s := range o.InstanceAttributes {
		v.nvset(s, "instance_attributes", id)
	}
	for _, s := range o.MetaAttributes {
		v.nvset(s, "meta_attributes", id)
	}
}

// rsc reports a reference to a resource that does not exist.
func (v *verifier) rsc(id, attr, ref string) {
	if ref == "" {
		return
	}
	if r := v.cfg.Resource(ref); r == nil || r.Kind == KindTemplate {
		v.errorf(id, "%s %q is not a resource: define it or fix the constraint (Pacemaker ignores this constraint)", attr, ref)
	}
}

// validRole reports whether role is a role name; Pacemaker reads them in any
// case.
func validRole(role string) bool {
	return slices.ContainsFunc(Roles, func(r string) bool { return strings.EqualFold(r, role) })
}

func (v *verifier) role(id, attr, role string) {
	if role != "" && !validRole(role) {
		v.errorf(id, "%s %q: want one of %s", attr, role, strings.Join(Roles, ", "))
	}
}

func (v *verifier) action(id, attr, a string) {
	if a != "" && !slices.Contains(orderActions, a) {
		v.errorf(id, "%s %q: want start, stop, promote or demote", attr, a)
	}
}

func (v *verifier) constraint(c *Constraint) {
	switch {
	case c.Location != nil:
		l := c.Location
		v.id(l.ID, "rsc_location "+l.ID, "rsc_location")
		switch {
		case l.Rsc == "" && l.RscPattern == "" && len(l.Sets) == 0:
			v.errorf(l.ID, "location constraint names no resource: set rsc (or rsc-pattern, or a resource set)")
		case l.RscPattern != "":
			if _, err := regexp.Compile(l.RscPattern); err != nil {
				v.errorf(l.ID, "rsc-pattern %q is not a regular expression: %v", l.RscPattern, err)
			}
		}
		v.rsc(l.ID, "rsc", l.Rsc)
		v.role(l.ID, "role", l.Role)
		v.score(l.ID, "score", l.Score)
		if len(l.Rules) == 0 {
			if l.Node == "" {
				v.errorf(l.ID, "location constraint has neither node nor rule: give it node and score, or a rule")
			} else if l.Score == "" {
				v.errorf(l.ID, "location constraint for node %s has no score: give it one (INFINITY to require the node, -INFINITY to forbid it)", l.Node)
			}
		}
		if l.Node != "" && v.cfg.Node(l.Node) == nil {
			v.warnf(l.ID, "node %q is not in the nodes section: the constraint does nothing until a node of that name joins", l.Node)
		}
		if l.ResourceDiscovery != "" && !slices.Contains([]string{"always", "never", "exclusive"}, l.ResourceDiscovery) {
			v.errorf(l.ID, "resource-discovery %q: want always, never or exclusive", l.ResourceDiscovery)
		}
		for _, r := range l.Rules {
			v.rule(r, l.ID)
			if r.Score == "" && r.ScoreAttribute == "" && r.IDRef == "" {
				v.errorf(r.ID, "a location rule needs a score or score-attribute")
			}
		}
		v.sets(l.ID, l.Sets)
	case c.Colocation != nil:
		co := c.Colocation
		v.id(co.ID, "rsc_colocation "+co.ID, "rsc_colocation")
		v.score(co.ID, "score", co.Score)
		if len(co.Sets) == 0 {
			if co.Rsc == "" || co.WithRsc == "" {
				v.errorf(co.ID, "colocation needs rsc and with-rsc (or resource sets)")
			}
			v.rsc(co.ID, "rsc", co.Rsc)
			v.rsc(co.ID, "with-rsc", co.WithRsc)
			if co.Rsc != "" && co.Rsc == co.WithRsc {
				v.warnf(co.ID, "colocation of %s with itself: Pacemaker ignores it", co.Rsc)
			}
		}
		v.role(co.ID, "rsc-role", co.RscRole)
		v.role(co.ID, "with-rsc-role", co.WithRscRole)
		v.sets(co.ID, co.Sets)
	case c.Order != nil:
		o := c.Order
		v.id(o.ID, "rsc_order "+o.ID, "rsc_order")
		v.score(o.ID, "score", o.Score)
		if o.Kind != "" && !slices.Contains([]string{"Mandatory", "Optional", "Serialize"}, o.Kind) {
			v.errorf(o.ID, "kind %q: want Mandatory, Optional or Serialize", o.Kind)
		}
		if len(o.Sets) == 0 {
			if o.First == "" || o.Then == "" {
				v.errorf(o.ID, "order needs first and then (or resource sets)")
			}
			v.rsc(o.ID, "first", o.First)
			v.rsc(o.ID, "then", o.Then)
			if o.First != "" && o.First == o.Then {
				v.warnf(o.ID, "order of %s after itself: Pacemaker ignores it", o.First)
			}
		}
		v.action(o.ID, "first-action", o.FirstAction)
		v.action(o.ID, "then-action", o.ThenAction)
		if o.Symmetrical != "" && !IsBool(o.Symmetrical) {
			v.errorf(o.ID, "symmetrical %q is not a boolean: use true or false", o.Symmetrical)
		}
		v.sets(o.ID, o.Sets)
	case c.Raw != nil:
		id, _ := c.Raw.Attr("id")
		v.id(id, c.Raw.Name+" "+id, c.Raw.Name)
	}
}

func (v *verifier) sets(owner string, sets []*ResourceSet) {
	for _, s := range sets {
		if s.IDRef != "" {
			continue
		}
		v.id(s.ID, "resource_set of "+owner, "resource_set")
		id := s.ID
		if id == "" {
			id = owner
		}
		if len(s.Refs) == 0 {
			v.errorf(id, "resource set has no resource_ref: list at least one resource")
		}
		for _, ref := range s.Refs {
			v.rsc(id, "resource_ref", ref)
		}
		for _, b := range []struct{ name, val string }{{"sequential", s.Sequential}, {"require-all", s.RequireAll}} {
			if b.val != "" && !IsBool(b.val) {
				v.errorf(id, "%s %q is not a boolean: use true or false", b.name, b.val)
			}
		}
		v.role(id, "role", s.Role)
		v.action(id, "action", s.Action)
		v.score(id, "score", s.Score)
	}
}

var expressionOps = []string{"lt", "gt", "lte", "gte", "eq", "ne", "defined", "not_defined"}

func (v *verifier) rule(r *Rule, owner string) {
	if r.IDRef != "" {
		return
	}
	v.id(r.ID, "rule of "+owner, "rule")
	id := r.ID
	if id == "" {
		id = owner
	}
	v.score(id, "score", r.Score)
	if r.BooleanOp != "" && r.BooleanOp != "and" && r.BooleanOp != "or" {
		v.errorf(id, "boolean-op %q: want and or or", r.BooleanOp)
	}
	v.role(id, "role", r.Role)
	for _, c := range r.Conditions {
		switch {
		case c.Expression != nil:
			e := c.Expression
			v.id(e.ID, "expression of rule "+id, "expression")
			if e.Attribute == "" {
				v.errorf(e.ID, "expression has no attribute: name the node attribute to test (or #uname)")
			}
			switch {
			case !slices.Contains(expressionOps, e.Operation):
				v.errorf(e.ID, "operation %q: want one of %s", e.Operation, strings.Join(expressionOps, " "))
			case e.Operation != "defined" && e.Operation != "not_defined" && e.Value == "":
				v.errorf(e.ID, "operation %s needs a value", e.Operation)
			}
			if e.Type != "" && !slices.Contains([]string{"string", "integer", "number", "version"}, e.Type) {
				v.errorf(e.ID, "type %q: want string, integer, number or version", e.Type)
			}
		case c.Date != nil:
			d := c.Date
			v.id(d.ID, "date_expression of rule "+id, "date_expression")
			switch d.Operation {
			case "date_spec":
				if d.DateSpec == nil {
					v.errorf(d.ID, "operation date_spec needs a <date_spec>")
				}
			case "in_range":
				if d.Start == "" && d.End == "" {
					v.errorf(d.ID, "in_range needs start and/or end")
				}
			case "gt":
				if d.Start == "" {
					v.errorf(d.ID, "gt needs start")
				}
			case "lt":
				if d.End == "" {
					v.errorf(d.ID, "lt needs end")
				}
			default:
				v.errorf(d.ID, "date_expression operation %q: want in_range, date_spec, gt or lt", d.Operation)
			}
			for _, s := range []*DateSpec{d.DateSpec, d.Duration} {
				if s != nil {
					v.id(s.ID, "date_spec of "+d.ID, "date_spec")
				}
			}
		case c.Rule != nil:
			v.rule(c.Rule, id)
		case c.Resource != nil:
			v.id(c.Resource.ID, "rsc_expression of rule "+id, "rsc_expression")
		case c.Op != nil:
			v.id(c.Op.ID, "op_expression of rule "+id, "op_expression")
			v.duration(c.Op.ID, "interval", c.Op.Interval)
		}
	}
}

func (v *verifier) fencing() {
	for _, l := range v.cfg.FencingTopology {
		v.id(l.ID, "fencing-level "+l.ID, "fencing-level")
		if n, ok := atoi(l.Index); !ok || n < 1 || n > 9 {
			v.errorf(l.ID, "fencing-level index %q: want 1 to 9", l.Index)
		}
		targets := 0
		for _, t := range []string{l.Target, l.TargetPattern, l.TargetAttribute} {
			if t != "" {
				targets++
			}
		}
		if targets != 1 {
			v.errorf(l.ID, "fencing-level needs exactly one of target, target-pattern or target-attribute (with target-value)")
		}
		if l.TargetAttribute != "" && l.TargetValue == "" {
			v.errorf(l.ID, "target-attribute %s needs a target-value", l.TargetAttribute)
		}
		if l.Target != "" && v.cfg.Node(l.Target) == nil {
			v.warnf(l.ID, "target %q is not in the nodes section", l.Target)
		}
		if l.Devices == "" {
			v.errorf(l.ID, "fencing-level has no devices: list stonith resources, separated by commas")
		}
		for _, dev := range strings.Split(l.Devices, ",") {
			dev = strings.TrimSpace(dev)
			if dev == "" {
				continue
			}
			switch r := v.cfg.Resource(dev); {
			case r == nil:
				v.errorf(l.ID, "device %q is not a resource: define a stonith primitive %s or fix the level", dev, dev)
			case !r.IsStonith():
				v.errorf(l.ID, "device %q is a %s %s, not a stonith resource: a fencing level lists only stonith-class primitives", dev, r.Kind, r.Agent())
			}
		}
	}
}

func (v *verifier) stonith() {
	if !v.cfg.StonithEnabled() {
		return
	}
	if slices.ContainsFunc(v.cfg.AllResources(), (*Resource).IsStonith) {
		return
	}
	v.errorf("", "resource start-up disabled since no STONITH resources have been defined: stonith-enabled is true (the default), and Pacemaker starts no resource without a fencing device. Either configure one (a stonith-class primitive, e.g. `primitive fence-n1 stonith:fence_ipmilan ...`) or disable STONITH with `property stonith-enabled=false`. NOTE: clusters with shared data need STONITH to ensure data integrity")
}
