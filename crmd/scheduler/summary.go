package scheduler

import (
	"fmt"
	"sort"
	"strings"
)

func (b *builder) summarize(changes map[*Resource]*change, fences []*Action) {
	cl := b.p.cl
	// Newest first, as Pacemaker lists its (prepended) node actions.
	for i := len(fences) - 1; i >= 0; i-- {
		f := fences[i]
		b.summary = append(b.summary, fmt.Sprintf("Fence (%s) %s '%s'", cl.Options.StonithAction, f.Node.Name, f.Reason))
	}
	for _, r := range cl.Primitives() {
		c := changes[r]
		if c == nil || !r.Managed {
			continue
		}
		b.summary = append(b.summary, b.summaryLines(c)...)
	}
}

// summaryNode is the node Pacemaker reports a resource's actions from:
// the first node it is active on, preferring a clean online one when the
// resource does not need fencing to recover.
func (b *builder) summaryNode(r *Resource) *Node {
	if len(r.Running) == 0 {
		return nil
	}
	if !b.p.cl.Options.StonithEnabled || r.IsStonith() {
		for _, n := range r.Running {
			if n.Online && !n.Unclean {
				return n
			}
		}
	}
	return r.Running[0]
}

// currentRole and nextRole are the roles Pacemaker compares in its summary:
// a running instance of a promotable clone is Unpromoted, not Started.
func currentRole(r *Resource) string {
	if len(r.Running) == 0 {
		return RoleStopped
	}
	return displayRole(r, r.Role)
}

func nextRole(r *Resource) string {
	if r.Assigned == nil {
		return RoleStopped
	}
	if r.NextRole == "" {
		return displayRole(r, RoleStarted)
	}
	return displayRole(r, r.NextRole)
}

// summaryLines are the Transition Summary lines of one primitive, decided
// the way Pacemaker's rsc-action message does: from its current and next
// role and node and the start, stop, promote and demote actions scheduled.
func (b *builder) summaryLines(c *change) []string {
	r := c.r
	cur, next := b.summaryNode(r), r.Assigned
	if cur == nil && next == nil {
		return nil
	}
	role, nrole := currentRole(r), nextRole(r)
	start := c.start
	if start != nil && next == nil {
		start = nil
	}
	startReason := c.blocked
	if startReason == "" {
		startReason = c.restart
	}
	var stop *Action
	if start != nil && start.Runnable && cur != nil {
		stop = c.stop[cur.Name]
	} else {
		for _, n := range r.Running {
			if s := c.stop[n.Name]; s != nil {
				stop = s
				break
			}
		}
	}
	stopReason := func(s *Action) string {
		if s == nil {
			return ""
		}
		if s.Reason != "" {
			return s.Reason
		}
		if r.Assigned == nil {
			return "node availability"
		}
		return ""
	}
	required := func(a *Action) bool { return a != nil && !a.Optional }
	needRole := roleRank(role) > roleRank(RoleStarted) || nrole == RolePromoted
	item := func(verb string, origin, dest *Node, act *Action, reason string, fromRole, toRole string) string {
		var details string
		sameHost := origin != nil && dest != nil && origin == dest
		sameRole := fromRole == toRole
		switch {
		case needRole && origin == nil:
			details = fmt.Sprintf("%s -> %s %s", fromRole, toRole, dest.Name)
		case origin == nil:
			details = dest.Name
		case needRole && dest == nil:
			details = fmt.Sprintf("%s %s", fromRole, origin.Name)
		case dest == nil:
			details = origin.Name
		case needRole && sameRole && sameHost:
			details = fmt.Sprintf("%s %s", fromRole, origin.Name)
		case sameRole && sameHost:
			details = origin.Name
		case needRole && sameRole:
			details = fmt.Sprintf("%s -> %s %s", origin.Name, dest.Name, fromRole)
		case sameRole:
			details = fmt.Sprintf("%s -> %s", origin.Name, dest.Name)
		case sameHost:
			details = fmt.Sprintf("%s -> %s %s", fromRole, toRole, origin.Name)
		default:
			details = fmt.Sprintf("%s %s -> %s %s", fromRole, origin.Name, toRole, dest.Name)
		}
		line := fmt.Sprintf("%s %s ( %s )", pad(verb), r.ID, details)
		runnable := act == nil || act.Runnable
		switch {
		case reason != "" && !runnable:
			line += "  due to " + reason + " (blocked)"
		case reason != "":
			line += "  due to " + reason
		case !runnable:
			line += "  blocked"
		}
		return line
	}
	moving := cur != nil && next != nil && cur != next
	if role == nrole {
		switch {
		case start == nil || (start.Optional && !c.blockedStop):
			if required(c.demote) && required(c.promote) {
				return []string{item("Re-promote", cur, next, c.promote, "", role, nrole)}
			}
			return nil
		case !start.Runnable:
			reason := stopReason(stop)
			if reason == "" {
				reason = startReason
			}
			act := stop
			if act == nil {
				act = start
			}
			return []string{item("Stop", cur, nil, act, reason, role, nrole)}
		case moving:
			verb := "Move"
			if r.Failed {
				verb = "Recover"
			}
			return []string{item(verb, cur, next, stop, stopReason(stop), role, nrole)}
		case r.Failed:
			return []string{item("Recover", cur, nil, stop, stopReason(stop), role, nrole)}
		default:
			return []string{item("Restart", cur, next, start, startReason, role, nrole)}
		}
	}
	switch {
	case stop != nil && (nrole == RoleStopped || (start != nil && !start.Runnable)):
		var out []string
		for _, n := range r.Running {
			s := c.stop[n.Name]
			reason := stopReason(s)
			if reason == "" {
				reason = startReason
			}
			out = append(out, item("Stop", n, nil, s, reason, role, nrole))
		}
		return out
	case stop != nil && r.Failed && required(stop):
		return []string{item("Recover", cur, next, stop, startReason, role, nrole)}
	case moving:
		return []string{item("Move", cur, next, stop, stopReason(stop), role, nrole)}
	case required(stop):
		return []string{item("Restart", cur, next, start, startReason, role, nrole)}
	case role == RolePromoted:
		return []string{item("Demote", cur, next, c.demote, "", role, nrole)}
	case nrole == RolePromoted:
		return []string{item("Promote", cur, next, c.promote, "", role, nrole)}
	case role == RoleStopped && nrole != RoleStopped && start != nil:
		return []string{item("Start", cur, next, start, startReason, role, nrole)}
	}
	return nil
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
	name := a.Name
	if a.Rsc != nil && a.Rsc.IsPrimitive() {
		name = a.Rsc.shownName()
	}
	return fmt.Sprintf("Resource action: %-15s %s on %s", name, task, a.Node.Name)
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
	// pending is the operation in flight (shown as Starting, Stopping,
	// ...) until the transition acts on the resource.
	pending string
}

// pendingStates are the words crm_mon shows for an operation in flight.
var pendingStates = map[string]string{
	"start": "Starting", "stop": "Stopping", "promote": "Promoting",
	"demote": "Demoting", "migrate_from": "Migrating",
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
		v.st[r] = shown{nodes: append([]*Node(nil), r.Running...), role: r.Role, failed: r.Failed, pending: pendingStates[r.pendingTask]}
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
		s.pending = ""
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
	if s.pending != "" && len(s.nodes) > 0 && !s.failed {
		state = s.pending
	}
	if r.Orphan {
		state = "ORPHANED " + state
	}
	if len(s.nodes) == 1 {
		state += " " + s.nodes[0].Name
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
	if len(s.nodes) > 1 {
		// The nodes of a multiply active resource follow its flags.
		state += " [ " + names(s.nodes) + " ]"
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
			if (s.failed) || !q.Managed || len(s.nodes) != 1 || q.Orphan || q.FailureIgnored || s.pending != "" {
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

func pad(verb string) string { return fmt.Sprintf("%-10s", verb) }
