package scheduler

import (
	"fmt"
	"sort"
	"strings"
)

func (b *builder) summarize(changes map[*Resource]*change, fences []*Action) {
	cl := b.p.cl
	for _, f := range fences {
		b.summary = append(b.summary, fmt.Sprintf("Fence (%s) %s '%s'", cl.Options.StonithAction, f.Node.Name, f.Reason))
	}
	for _, r := range cl.Primitives() {
		c := changes[r]
		if c == nil || !r.Managed {
			continue
		}
		if line := b.summaryLine(c); line != "" {
			b.summary = append(b.summary, line)
		}
	}
}

func pad(verb string) string { return fmt.Sprintf("%-10s", verb) }

func (b *builder) summaryLine(c *change) string {
	r := c.r
	next := r.Assigned
	start := c.start
	blocked := func(line string) string {
		if c.blocked != "" {
			line += "  due to " + c.blocked
		}
		if start != nil && !start.Runnable {
			line += " (blocked)"
		}
		return line
	}
	if len(r.Running) == 0 {
		if next == nil || start == nil || start.Optional {
			return ""
		}
		if c.promote != nil {
			return blocked(fmt.Sprintf("%s %s ( Stopped -> Promoted %s )", pad("Promote"), r.ID, next.Name))
		}
		return blocked(fmt.Sprintf("%s %s ( %s )", pad("Start"), r.ID, next.Name))
	}
	cur := r.Running[0]
	if c.blockedStop {
		return fmt.Sprintf("%s %s ( %s )  due to %s", pad("Stop"), r.ID, cur.Name, c.blocked)
	}
	if next == nil {
		reason := "node availability"
		if !b.p.cl.Quorate && b.p.cl.Options.NoQuorumPolicy == "stop" {
			reason = "no quorum"
		}
		line := fmt.Sprintf("%s %s ( %s )  due to %s", pad("Stop"), r.ID, cur.Name, reason)
		for _, s := range c.stop {
			if !s.Runnable {
				line += " (blocked)"
				break
			}
		}
		return line
	}
	if cur != next || len(r.Running) > 1 {
		verb := "Move"
		if r.Failed {
			verb = "Recover"
		}
		if !start.Runnable {
			return blocked(fmt.Sprintf("%s %s ( %s )", pad("Stop"), r.ID, cur.Name))
		}
		return fmt.Sprintf("%s %s ( %s -> %s )", pad(verb), r.ID, cur.Name, next.Name)
	}
	if r.Failed {
		return fmt.Sprintf("%s %s ( %s )", pad("Recover"), r.ID, cur.Name)
	}
	if c.restart != "" {
		return fmt.Sprintf("%s %s ( %s )  due to %s", pad("Restart"), r.ID, cur.Name, c.restart)
	}
	if c.promote != nil {
		return fmt.Sprintf("%s %s ( %s -> Promoted %s )", pad("Promote"), r.ID, displayRole(r, r.Role), cur.Name)
	}
	if c.demote != nil {
		return fmt.Sprintf("%s %s ( Promoted -> %s %s )", pad("Demote"), r.ID, displayRole(r, r.NextRole), cur.Name)
	}
	return ""
}

func displayRole(r *Resource, role string) string {
	if role == RoleStarted {
		if cp := r.cloneParent(); cp != nil && cp.Promotable {
			return RoleUnpromoted
		}
	}
	return role
}

// ActionLine formats an executed action as crm_simulate prints it.
func ActionLine(a *Action) string {
	switch {
	case a.Task == "stonith":
		return fmt.Sprintf("Fencing %s (reboot)", a.Node.Name)
	case a.Task == "clear_failcount":
		return fmt.Sprintf("Cluster action:  clear_failcount for %s on %s", a.Name, a.Node.Name)
	case a.Task == "do_shutdown":
		return fmt.Sprintf("Cluster action:  do_shutdown on %s", a.Node.Name)
	case a.Pseudo && a.Task == "":
		return "Pseudo action:   " + a.Name
	case a.Pseudo:
		return fmt.Sprintf("Pseudo action:   %s", a.Key())
	}
	task := a.Task
	if a.Interval > 0 {
		task = fmt.Sprintf("%s=%d", a.Task, a.Interval)
	}
	return fmt.Sprintf("Resource action: %-15s %s on %s", a.Name, task, a.Node.Name)
}

// Text renders a crm_simulate -S summary: the cluster status, the
// transition summary, the executed actions and the status after them.
func (res *Result) Text() string {
	var b strings.Builder
	for _, n := range res.Notes {
		b.WriteString(n + "\n")
	}
	total, disabled, blocked := 0, 0, 0
	for _, r := range res.Cluster.Primitives() {
		if r.Orphan && len(r.Running) == 0 {
			continue
		}
		total++
		if r.TargetRole == RoleStopped || inheritedStopped(r) {
			disabled++
		}
		if r.Blocked {
			blocked++
		}
	}
	if res.Cluster.Options.MaintenanceMode {
		b.WriteString("\n              *** Resource management is DISABLED ***\n  The cluster will not attempt to start, stop or recover services\n\n")
	}
	if disabled > 0 || blocked > 0 {
		fmt.Fprintf(&b, "%d of %d resource instances DISABLED and %d BLOCKED from further action due to failure\n\n", disabled, total, blocked)
	}
	b.WriteString("Current cluster status:\n")
	b.WriteString(StatusText(res.Cluster, nil))
	b.WriteString("\nTransition Summary:\n")
	for _, l := range res.Summary {
		b.WriteString("  * " + l + "\n")
	}
	b.WriteString("\nExecuting Cluster Transition:\n")
	for _, a := range res.Graph.Executed() {
		b.WriteString("  * " + ActionLine(a) + "\n")
	}
	for _, n := range res.Notes {
		b.WriteString(n + "\n")
	}
	b.WriteString("\nRevised Cluster Status:\n")
	b.WriteString(StatusText(res.Cluster, res.Graph))
	return b.String()
}

// state of a primitive for display, before or after the transition.
type shown struct {
	nodes  []*Node
	role   string
	failed bool
}

type view struct {
	cl    *Cluster
	after bool
	st    map[*Resource]shown
	nodes map[*Node]nodeView
}

type nodeView struct {
	online, unclean bool
}

func newView(cl *Cluster, g *Graph) *view {
	v := &view{cl: cl, after: g != nil, st: map[*Resource]shown{}, nodes: map[*Node]nodeView{}}
	for _, n := range cl.Nodes {
		v.nodes[n] = nodeView{online: n.Online, unclean: n.Unclean}
	}
	for _, r := range cl.Primitives() {
		v.st[r] = shown{nodes: append([]*Node(nil), r.Running...), role: r.Role, failed: r.Failed}
	}
	if g == nil {
		return v
	}
	exec := map[*Action]bool{}
	for _, a := range g.Executed() {
		exec[a] = true
		if a.Task == "stonith" {
			v.nodes[a.Node] = nodeView{online: false, unclean: false}
		}
	}
	for _, a := range g.Executed() {
		r := a.Rsc
		if r == nil {
			continue
		}
		s := v.st[r]
		switch a.Task {
		case "stop":
			s.nodes = removeNode(s.nodes, a.Node)
			if len(s.nodes) == 0 {
				s.role = RoleStopped
			}
			s.failed = false
		case "start":
			s.nodes = append(removeNode(s.nodes, a.Node), a.Node)
			s.role = RoleStarted
			s.failed = false
		case "promote":
			s.role = RolePromoted
		case "demote":
			s.role = RoleUnpromoted
		}
		v.st[r] = s
	}
	// Resources on fenced nodes are gone.
	for r, s := range v.st {
		var keep []*Node
		for _, n := range s.nodes {
			if nv := v.nodes[n]; nv.online || nv.unclean {
				keep = append(keep, n)
			}
		}
		s.nodes = keep
		if len(keep) == 0 {
			s.role = RoleStopped
		}
		v.st[r] = s
	}
	return v
}

func removeNode(ns []*Node, n *Node) []*Node {
	var out []*Node
	for _, m := range ns {
		if m != n {
			out = append(out, m)
		}
	}
	return out
}

func sortedNodes(ns []*Node) []*Node {
	out := append([]*Node(nil), ns...)
	sort.SliceStable(out, func(i, j int) bool { return naturalLess(out[i].Name, out[j].Name) })
	return out
}

func names(ns []*Node) string {
	var s []string
	for _, n := range sortedNodes(ns) {
		s = append(s, n.Name)
	}
	return strings.Join(s, " ")
}

// StatusText renders the Node List and Full List of Resources of the
// cluster, after the executed actions of g when g is not nil.
func StatusText(cl *Cluster, g *Graph) string {
	v := newView(cl, g)
	var b strings.Builder
	b.WriteString("  * Node List:\n")
	var online, offline []*Node
	for _, n := range sortedNodes(cl.Nodes) {
		nv := v.nodes[n]
		active := false
		for _, s := range v.st {
			for _, m := range s.nodes {
				if m == n {
					active = true
				}
			}
		}
		switch {
		case nv.unclean && nv.online:
			fmt.Fprintf(&b, "    * Node %s: UNCLEAN (online)\n", n.Name)
		case nv.unclean:
			fmt.Fprintf(&b, "    * Node %s: UNCLEAN (offline)\n", n.Name)
		case !nv.online && n.Standby:
			fmt.Fprintf(&b, "    * Node %s: OFFLINE (standby)\n", n.Name)
		case !nv.online:
			offline = append(offline, n)
		case n.Pending:
			fmt.Fprintf(&b, "    * Node %s: pending\n", n.Name)
		case n.Standby && active:
			fmt.Fprintf(&b, "    * Node %s: standby (with active resources)\n", n.Name)
		case n.Standby:
			fmt.Fprintf(&b, "    * Node %s: standby\n", n.Name)
		case n.Maintenance:
			fmt.Fprintf(&b, "    * Node %s: maintenance\n", n.Name)
		default:
			online = append(online, n)
		}
	}
	if len(online) > 0 {
		fmt.Fprintf(&b, "    * Online: [ %s ]\n", names(online))
	}
	if len(offline) > 0 {
		fmt.Fprintf(&b, "    * OFFLINE: [ %s ]\n", names(offline))
	}
	b.WriteString("\n  * Full List of Resources:\n")
	for _, r := range cl.Resources {
		v.resource(&b, r, "    ")
	}
	return b.String()
}

func agent(r *Resource) string {
	c := r.Cfg
	if c == nil {
		return ""
	}
	if c.Provider == "" {
		return c.Class + ":" + c.Type
	}
	return c.Class + ":" + c.Provider + ":" + c.Type
}

func (v *view) primitiveLine(r *Resource, name string) string {
	s := v.st[r]
	state := displayRole(r, s.role)
	if len(s.nodes) == 0 {
		state = RoleStopped
	}
	if s.failed && len(s.nodes) > 0 {
		if s.role == RolePromoted {
			state = "FAILED " + RolePromoted
		} else {
			state = "FAILED"
		}
	}
	if r.Orphan {
		state = "ORPHANED " + state
	}
	switch len(s.nodes) {
	case 0:
	case 1:
		state += " " + s.nodes[0].Name
	default:
		state += " [ " + names(s.nodes) + " ]"
	}
	var flags []string
	if len(s.nodes) == 1 && v.nodes[s.nodes[0]].unclean {
		flags = append(flags, "UNCLEAN")
	}
	if r.FailureIgnored {
		flags = append(flags, "failure ignored")
	}
	if r.TargetRole == RoleStopped || (r.Parent != nil && inheritedStopped(r)) {
		flags = append(flags, "disabled")
	}
	if r.Blocked {
		flags = append(flags, "blocked")
	} else if !r.Managed {
		flags = append(flags, "unmanaged")
	}
	if len(flags) > 0 {
		state += " (" + strings.Join(flags, ", ") + ")"
	}
	return fmt.Sprintf("%s\t(%s):\t %s", name, agent(r), state)
}

func (v *view) resource(b *strings.Builder, r *Resource, indent string) {
	switch {
	case r.IsPrimitive():
		s := v.st[r]
		if r.Orphan && len(s.nodes) == 0 {
			return
		}
		fmt.Fprintf(b, "%s* %s\n", indent, v.primitiveLine(r, r.ID))
	case r.IsGroup():
		var opts []string
		if !r.Managed {
			opts = append(opts, "unmanaged")
		}
		if r.TargetRole == RoleStopped {
			opts = append(opts, "disabled")
		}
		head := r.ID
		if len(opts) > 0 {
			head += " (" + strings.Join(opts, ", ") + ")"
		}
		fmt.Fprintf(b, "%s* Resource Group: %s:\n", indent, head)
		for _, c := range r.Children {
			v.resource(b, c, indent+"  ")
		}
	case r.IsClone():
		var opts []string
		if r.Promotable {
			opts = append(opts, "promotable")
		}
		if r.Unique {
			opts = append(opts, "unique")
		}
		if !r.Managed {
			opts = append(opts, "unmanaged")
		}
		if r.TargetRole == RoleStopped {
			opts = append(opts, "disabled")
		}
		child := r.Base
		if len(r.Cfg.Children) > 0 {
			child = r.Cfg.Children[0].ID
		}
		head := fmt.Sprintf("%s* Clone Set: %s [%s]", indent, r.ID, child)
		if len(opts) > 0 {
			head += " (" + strings.Join(opts, ", ") + ")"
		}
		fmt.Fprintf(b, "%s:\n", head)
		v.clone(b, r, indent+"  ")
	}
}

func (v *view) clone(b *strings.Builder, r *Resource, indent string) {
	if r.Unique {
		for _, c := range r.Children {
			if c.Orphan && !v.active(c) {
				continue
			}
			v.resource(b, c, indent)
		}
		return
	}
	var promoted, unpromoted, started []*Node
	running := map[*Node]bool{}
	for _, inst := range r.Children {
		if !v.active(inst) {
			continue
		}
		prims := inst.primitives()
		full := inst.Orphan
		var node *Node
		role := ""
		for _, q := range prims {
			s := v.st[q]
			if (s.failed) || !q.Managed || len(s.nodes) != 1 || q.Orphan || q.FailureIgnored {
				full = true
			}
			if len(s.nodes) == 0 && inst.IsGroup() {
				full = true
			}
			if len(s.nodes) > 0 {
				if node == nil {
					node = s.nodes[0]
				}
				role = displayRole(q, s.role)
			}
		}
		for _, q := range prims {
			for _, n := range v.st[q].nodes {
				running[n] = true
			}
		}
		if full {
			if inst.IsGroup() {
				fmt.Fprintf(b, "%s* Resource Group: %s:\n", indent, inst.ID)
				for _, q := range inst.Children {
					fmt.Fprintf(b, "%s  * %s\n", indent, v.primitiveLine(q, q.ID))
				}
			} else {
				fmt.Fprintf(b, "%s* %s\n", indent, v.primitiveLine(inst, inst.Base))
			}
			continue
		}
		switch role {
		case RolePromoted:
			promoted = append(promoted, node)
		case RoleUnpromoted:
			unpromoted = append(unpromoted, node)
		default:
			started = append(started, node)
		}
	}
	if len(promoted) > 0 {
		fmt.Fprintf(b, "%s* Promoted: [ %s ]\n", indent, names(promoted))
	}
	if len(unpromoted) > 0 {
		fmt.Fprintf(b, "%s* Unpromoted: [ %s ]\n", indent, names(unpromoted))
	}
	if len(started) > 0 {
		fmt.Fprintf(b, "%s* Started: [ %s ]\n", indent, names(started))
	}
	var stopped []*Node
	if v.cl.Options.SymmetricCluster {
		for _, n := range v.cl.Nodes {
			if !running[n] {
				stopped = append(stopped, n)
			}
		}
	}
	if len(stopped) > 0 {
		label := "Stopped"
		if r.TargetRole == RoleStopped {
			label = "Stopped (disabled)"
		}
		fmt.Fprintf(b, "%s* %s: [ %s ]\n", indent, label, names(stopped))
	}
}

func (v *view) active(r *Resource) bool {
	for _, q := range r.primitives() {
		if len(v.st[q].nodes) > 0 {
			return true
		}
	}
	return false
}
