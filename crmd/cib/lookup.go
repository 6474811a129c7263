package cib

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// IsTrue reports whether s is true as Pacemaker reads booleans (crm_is_true):
// "true", "on", "yes", "y" or "1", in any case.
func IsTrue(s string) bool {
	switch strings.ToLower(s) {
	case "true", "on", "yes", "y", "1":
		return true
	}
	return false
}

// IsBool reports whether s is a boolean Pacemaker understands, true or false
// ("false", "off", "no", "n", "0").
func IsBool(s string) bool {
	switch strings.ToLower(s) {
	case "true", "on", "yes", "y", "1", "false", "off", "no", "n", "0":
		return true
	}
	return false
}

// NormalizeRole maps the old role names to the new ones (Master to
// Promoted, Slave to Unpromoted) and leaves the others as they are.
func NormalizeRole(role string) string {
	switch role {
	case "Master":
		return "Promoted"
	case "Slave":
		return "Unpromoted"
	}
	return role
}

// HasQuorum reports whether the root's have-quorum attribute is true.
func (c *CIB) HasQuorum() bool { return IsTrue(c.HaveQuorum) }

// AllResources returns every resource of the configuration, a parent before
// its children, in document order.
func (cfg *Configuration) AllResources() []*Resource {
	var out []*Resource
	var walk func([]*Resource)
	walk = func(rs []*Resource) {
		for _, r := range rs {
			out = append(out, r)
			walk(r.Children)
		}
	}
	walk(cfg.Resources)
	return out
}

// Resource returns the resource (at any depth) with id, or nil.
func (cfg *Configuration) Resource(id string) *Resource {
	r, _ := cfg.resourceAndParent(id)
	return r
}

// Parent returns the group or clone that holds the resource id, or nil when
// it is at the top level or unknown.
func (cfg *Configuration) Parent(id string) *Resource {
	_, p := cfg.resourceAndParent(id)
	return p
}

func (cfg *Configuration) resourceAndParent(id string) (*Resource, *Resource) {
	var find func(parent *Resource, rs []*Resource) (*Resource, *Resource)
	find = func(parent *Resource, rs []*Resource) (*Resource, *Resource) {
		for _, r := range rs {
			if r.ID == id {
				return r, parent
			}
			if f, p := find(r, r.Children); f != nil {
				return f, p
			}
		}
		return nil, nil
	}
	return find(nil, cfg.Resources)
}

// Node returns the node whose uname is uname, or nil.
func (cfg *Configuration) Node(uname string) *Node {
	for _, n := range cfg.Nodes {
		if n.Uname == uname {
			return n
		}
	}
	return nil
}

// NodeByID returns the node whose id is id, or nil.
func (cfg *Configuration) NodeByID(id string) *Node {
	for _, n := range cfg.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// NodeState returns the status of the node with uname, or nil.
func (st *Status) NodeState(uname string) *NodeState {
	for _, n := range st.NodeStates {
		if n.Uname == uname {
			return n
		}
	}
	return nil
}

// RulesHold decides whether a block with rules applies; the scheduler
// passes its rule evaluator. A nil RulesHold treats every block that has
// rules as not applying.
type RulesHold func(set *NVSet) bool

// Effective merges blocks of name/value pairs the way Pacemaker unpacks
// them: the block whose id is first (if any) comes first, then the others
// by descending score (ties in document order); a block with rules counts
// only when holds says it applies; the first value found for a name wins.
// Values already in into are kept.
func Effective(into map[string]string, sets []*NVSet, first string, holds RulesHold) map[string]string {
	if into == nil {
		into = map[string]string{}
	}
	ordered := append([]*NVSet(nil), sets...)
	sort.SliceStable(ordered, func(i, j int) bool {
		fi, fj := first != "" && ordered[i].ID == first, first != "" && ordered[j].ID == first
		if fi != fj {
			return fi
		}
		return ScoreOf(ordered[i].Score, nil) > ScoreOf(ordered[j].Score, nil)
	})
	for _, s := range ordered {
		if len(s.Rules) > 0 && (holds == nil || !holds(s)) {
			continue
		}
		for _, p := range s.Pairs {
			if _, ok := into[p.Name]; !ok {
				into[p.Name] = p.Value
			}
		}
	}
	return into
}

// Properties returns the cluster properties of crm_config as Pacemaker
// merges them (cib-bootstrap-options first).
func (cfg *Configuration) Properties(holds RulesHold) map[string]string {
	return Effective(nil, cfg.CRMConfig, "cib-bootstrap-options", holds)
}

// Property returns one cluster property and whether it is set; blocks with
// rules are skipped.
func (cfg *Configuration) Property(name string) (string, bool) {
	v, ok := cfg.Properties(nil)[name]
	return v, ok
}

// StonithEnabled reports the stonith-enabled property, which is true unless
// set to false (an invalid value counts as the default, as in Pacemaker).
func (cfg *Configuration) StonithEnabled() bool {
	v, ok := cfg.Property("stonith-enabled")
	return !ok || !IsBool(v) || IsTrue(v)
}

// EffectiveMeta returns the meta attributes that apply to the resource id:
// its own, then those of its parents (a clone's meta attributes apply to its
// children), then rsc_defaults. It returns nil for an unknown id.
func (cfg *Configuration) EffectiveMeta(id string, holds RulesHold) map[string]string {
	r := cfg.Resource(id)
	if r == nil {
		return nil
	}
	meta := Effective(nil, r.MetaAttributes, "", holds)
	for p := cfg.Parent(id); p != nil; p = cfg.Parent(p.ID) {
		Effective(meta, p.MetaAttributes, "", holds)
	}
	return Effective(meta, cfg.RscDefaults, "", holds)
}

// IsPromotable reports whether r is a promotable clone: a <master>, or a
// <clone> whose own meta attributes set promotable=true.
func (r *Resource) IsPromotable() bool {
	if r.Kind == KindMaster {
		return true
	}
	if r.Kind != KindClone {
		return false
	}
	v, ok := Effective(nil, r.MetaAttributes, "", nil)["promotable"]
	return ok && IsTrue(v)
}

// IsStonith reports whether r is a fencing device (class stonith).
func (r *Resource) IsStonith() bool { return r.Kind == KindPrimitive && r.Class == "stonith" }

// Agent returns the resource agent as crm_mon writes it:
// "class:provider:type" or "class:type".
func (r *Resource) Agent() string {
	if r.Provider == "" {
		return r.Class + ":" + r.Type
	}
	return r.Class + ":" + r.Provider + ":" + r.Type
}

// Locations, Colocations and Orders return the constraints of one kind in
// document order.
func (cfg *Configuration) Locations() []*Location {
	var out []*Location
	for _, c := range cfg.Constraints {
		if c.Location != nil {
			out = append(out, c.Location)
		}
	}
	return out
}

// Colocations returns the rsc_colocation constraints in document order.
func (cfg *Configuration) Colocations() []*Colocation {
	var out []*Colocation
	for _, c := range cfg.Constraints {
		if c.Colocation != nil {
			out = append(out, c.Colocation)
		}
	}
	return out
}

// Orders returns the rsc_order constraints in document order.
func (cfg *Configuration) Orders() []*Order {
	var out []*Order
	for _, c := range cfg.Constraints {
		if c.Order != nil {
			out = append(out, c.Order)
		}
	}
	return out
}

// IntervalDuration is the op's interval; absent means 0.
func (o *Op) IntervalDuration() (time.Duration, error) {
	if o.Interval == "" {
		return 0, nil
	}
	return ParseDuration(o.Interval)
}

// TimeoutDuration is the op's timeout and whether it is set.
func (o *Op) TimeoutDuration() (time.Duration, bool, error) {
	if o.Timeout == "" {
		return 0, false, nil
	}
	d, err := ParseDuration(o.Timeout)
	return d, err == nil, err
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}

// RC returns the operation's rc-code and whether it parses.
func (o *LRMRscOp) RC() (int, bool) { return atoi(o.RCCode) }

// Status returns the operation's op-status (0 done, 1 cancelled, 2 timed
// out, 3 not supported, 4 error ...) and whether it parses.
func (o *LRMRscOp) Status() (int, bool) { return atoi(o.OpStatus) }

// Call returns the operation's call-id and whether it parses.
func (o *LRMRscOp) Call() (int, bool) { return atoi(o.CallID) }

// IntervalMS returns the recorded interval in milliseconds (0 when
// absent) and whether it parses.
func (o *LRMRscOp) IntervalMS() (int, bool) {
	if o.Interval == "" {
		return 0, true
	}
	return atoi(o.Interval)
}

// LastRCChangeTime returns last-rc-change (seconds since the epoch) and
// whether it is set and parses.
func (o *LRMRscOp) LastRCChangeTime() (time.Time, bool) {
	n, ok := atoi(o.LastRCChange)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(n), 0), true
}

// Attributes returns the node's transient attributes (fail-count-*,
// last-failure-*, master-* ...) merged from its blocks; nil when it has none.
func (n *NodeState) Attributes() map[string]string {
	if n.TransientAttributes == nil {
		return nil
	}
	return Effective(nil, n.TransientAttributes.Sets, "", nil)
}

// Resource returns the history of resource id on this node, or nil.
func (n *NodeState) Resource(id string) *LRMResource {
	if n.LRM == nil {
		return nil
	}
	for _, r := range n.LRM.Resources {
		if r.ID == id {
			return r
		}
	}
	return nil
}
