package scheduler

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Notification is what a clone's notify operation tells the agent
// (OCF_RESKEY_CRM_meta_notify_*), as Pacemaker's scheduler puts it in the
// transition graph: the kind and operation of the notification and, for
// the whole clone, which instances start, stop, promote and demote in this
// transition and which are active, inactive, promoted and unpromoted now.
type Notification struct {
	// Type is "pre" or "post"; Operation is start, stop, promote or
	// demote.
	Type, Operation string
	// KeyType and KeyOperation name the milestone notified: pre and
	// start, post and running, ...
	KeyType, KeyOperation string
	// Lists are notify_start_resource, notify_start_uname, ...: instance
	// ids and their nodes, space separated, " " when empty (as Pacemaker
	// writes them).
	Lists map[string]string
}

// notifyOperation is the operation a milestone pair notifies about.
var notifyOperation = map[string]string{"start": "start", "stop": "stop", "promote": "promote", "demote": "demote"}

// notifyLists computes the lists every notification of the clone r in
// this transition carries.
func (b *builder) notifyLists(changes map[*Resource]*change, r *Resource) map[string]string {
	type pair struct{ rsc, node string }
	lists := map[string][]pair{}
	add := func(kind string, q *Resource, n *Node) {
		name := ""
		if n != nil {
			name = n.Name
		}
		lists[kind] = append(lists[kind], pair{q.ID, name})
	}
	for _, inst := range r.Children {
		for _, q := range inst.primitives() {
			active := len(q.Running) > 0
			if active {
				add("active", q, q.Running[0])
				switch q.Role {
				case RolePromoted:
					add("promoted", q, q.Running[0])
				default:
					add("unpromoted", q, q.Running[0])
				}
			} else {
				add("inactive", q, nil)
			}
			c := changes[q]
			if c == nil {
				continue
			}
			if c.start != nil && c.start.Runnable && !c.start.Optional && q.Assigned != nil {
				add("start", q, q.Assigned)
			}
			for _, a := range c.stop {
				if a.Runnable && !a.Optional {
					add("stop", q, a.Node)
				}
			}
			if c.promote != nil && c.promote.Runnable && !c.promote.Optional {
				add("promote", q, c.promote.Node)
			}
			if c.demote != nil && c.demote.Runnable && !c.demote.Optional {
				add("demote", q, c.demote.Node)
			}
		}
	}
	out := map[string]string{}
	join := func(ps []pair, node bool) string {
		var s []string
		for _, p := range ps {
			if node {
				if p.node != "" {
					s = append(s, p.node)
				}
			} else {
				s = append(s, p.rsc)
			}
		}
		if len(s) == 0 {
			return " "
		}
		return strings.Join(s, " ")
	}
	for _, kind := range []string{"active", "inactive", "start", "stop", "promote", "demote", "promoted", "unpromoted"} {
		ps := lists[kind]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].rsc < ps[j].rsc })
		out["notify_"+kind+"_resource"] = join(ps, false)
		if kind != "inactive" {
			out["notify_"+kind+"_uname"] = join(ps, true)
		}
	}
	// The names agents written for Pacemaker 1.x read.
	out["notify_master_resource"], out["notify_master_uname"] = out["notify_promoted_resource"], out["notify_promoted_uname"]
	out["notify_slave_resource"], out["notify_slave_uname"] = out["notify_unpromoted_resource"], out["notify_unpromoted_uname"]
	var all, available []string
	for _, n := range b.p.cl.Nodes {
		all = append(all, n.Name)
		if n.Online && !n.Unclean && !n.Standby {
			if s, ok := r.Allowed[n.Name]; !ok || s >= 0 {
				available = append(available, n.Name)
			}
		}
	}
	slices.Sort(all)
	slices.Sort(available)
	out["notify_all_uname"] = strings.Join(all, " ")
	out["notify_available_uname"] = strings.Join(available, " ")
	return out
}

// ExecMeta is what Pacemaker adds to an operation's meta attributes
// beyond the resource's own (OCF_RESKEY_CRM_meta_<name>): for an instance
// of a clone its number and the clone's settings (clone, clone_max,
// clone_node_max, globally_unique, notify, and promoted_max with its old
// name master_max for a promotable clone), and for a notify operation the
// notification (notify_type, notify_operation, the lists).
func (a *Action) ExecMeta() map[string]string {
	m := map[string]string{}
	if a.Rsc != nil {
		if cp := a.Rsc.cloneParent(); cp != nil {
			if _, n, ok := strings.Cut(a.Rsc.ID, ":"); ok {
				m["clone"] = n
			}
			m["clone_max"] = strconv.Itoa(cp.CloneMax)
			m["clone_node_max"] = strconv.Itoa(cp.CloneNodeMax)
			m["globally_unique"] = strconv.FormatBool(cp.Unique)
			m["notify"] = strconv.FormatBool(cp.Notify)
			if cp.Promotable {
				for _, k := range []string{"promoted_max", "master_max"} {
					m[k] = strconv.Itoa(cp.PromotedMax)
				}
				for _, k := range []string{"promoted_node_max", "master_node_max"} {
					m[k] = strconv.Itoa(cp.PromotedNodeMax)
				}
			}
		}
	}
	if nt := a.Notify; nt != nil {
		m["notify_type"], m["notify_operation"] = nt.Type, nt.Operation
		m["notify_key_type"], m["notify_key_operation"] = nt.KeyType, nt.KeyOperation
		for k, v := range nt.Lists {
			m[k] = v
		}
	}
	return m
}
