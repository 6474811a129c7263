package scheduler

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// Action is one node of the transition graph.
type Action struct {
	ID int
	// Rsc is the resource acted on; nil for fencing and cluster actions.
	Rsc *Resource
	// Task is start, stop, monitor, promote, demote, notify, cancel, the
	// pseudo tasks running, stopped, promoted, demoted, stonith or
	// do_shutdown.
	Task     string
	Interval int
	Node     *Node
	// Pseudo actions are not executed anywhere (group and clone
	// milestones, stops implied by fencing).
	Pseudo   bool
	Optional bool
	Runnable bool
	// Always puts an optional action in the transition all the same
	// (Pacemaker's print_always): the start of a resource whose start is
	// still pending is issued again, without a summary line.
	Always bool
	// Name is the resource name the action acts on (the history name of a
	// clone instance) or the pseudo action's key.
	Name   string
	Reason string
	// Notify is set on a clone's notify operation: what it tells the
	// agent (see ExecMeta).
	Notify *Notification
}

// Key is the operation key: rsc_task_interval.
func (a *Action) Key() string {
	return a.Name + "_" + a.Task + "_" + strconv.Itoa(a.Interval)
}

// Edge orders two actions: Then runs after First completes.
type Edge struct {
	First, Then *Action
}

// Graph is a transition: its actions and the orderings between them.
type Graph struct {
	Actions []*Action
	Edges   []Edge
	// executed caches Executed: the graph is not changed once Schedule
	// returns it.
	executed []*Action
	// synapses is the order Pacemaker would number the graph's actions
	// in (see synapseOrder); Executed emits ready actions in it.
	synapses []*Action
}

// Executed returns the actions the transition executes: runnable and not
// optional (or Always), in a topological order of the graph.
func (g *Graph) Executed() []*Action {
	if g.executed == nil {
		g.executed = g.executedOrder()
	}
	return g.executed
}

func (g *Graph) executedOrder() []*Action {
	// Actions are numbered by their index in g.Actions.
	n := len(g.Actions)
	isLive := make([]bool, n)
	live := []*Action{}
	for i, a := range g.Actions {
		if a.ID != i {
			a.ID = i
		}
		if a.Runnable && (!a.Optional || a.Always) {
			isLive[i] = true
		}
	}
	order := g.Actions
	if len(g.synapses) == n {
		order = g.synapses
	}
	for _, a := range order {
		if isLive[a.ID] {
			live = append(live, a)
		}
	}
	in := make([]int, n)
	succ := make([][]*Action, n)
	for _, e := range g.Edges {
		if e.First == e.Then || e.First.ID >= n || e.Then.ID >= n || g.Actions[e.First.ID] != e.First || g.Actions[e.Then.ID] != e.Then {
			continue
		}
		if isLive[e.First.ID] && isLive[e.Then.ID] {
			succ[e.First.ID] = append(succ[e.First.ID], e.Then)
			in[e.Then.ID]++
		}
	}
	// Passes in creation order, each emitting every action whose
	// predecessors are all emitted.
	out := make([]*Action, 0, len(live))
	rest := live
	for len(rest) > 0 {
		var next []*Action
		for _, a := range rest {
			if in[a.ID] > 0 {
				next = append(next, a)
				continue
			}
			out = append(out, a)
			for _, s := range succ[a.ID] {
				in[s.ID]--
			}
		}
		if len(next) == len(rest) {
			// A cycle: emit the rest in creation order.
			out = append(out, next...)
			break
		}
		rest = next
	}
	return out
}

// synapseOrder is the order crm_simulate fires ready actions in: the
// graph's synapses, which Pacemaker adds resource by resource in the
// order it keeps them (a group's own actions before its members', a
// clone's after its instances'), each resource's actions newest first (its
// action list is built by prepending), then the actions of no resource
// (newest first too).
func (b *builder) synapseOrder() []*Action {
	out := make([]*Action, 0, len(b.g.Actions))
	seen := make(map[*Action]bool, len(b.g.Actions))
	own := map[*Resource][]*Action{}
	for _, a := range b.g.Actions {
		r := a.Rsc
		if r == nil && a.Pseudo {
			r = b.p.cl.byID[a.Name]
		}
		if r != nil {
			own[r] = append(own[r], a)
		}
	}
	addOwn := func(r *Resource) {
		acts := own[r]
		for i := len(acts) - 1; i >= 0; i-- {
			if !seen[acts[i]] {
				seen[acts[i]] = true
				out = append(out, acts[i])
			}
		}
	}
	var walk func(r *Resource)
	walk = func(r *Resource) {
		if r.IsClone() {
			for _, c := range r.Children {
				walk(c)
			}
			addOwn(r)
			return
		}
		addOwn(r)
		for _, c := range r.Children {
			walk(c)
		}
	}
	for _, r := range b.p.cl.Resources {
		walk(r)
	}
	for i := len(b.g.Actions) - 1; i >= 0; i-- {
		if a := b.g.Actions[i]; !seen[a] {
			out = append(out, a)
		}
	}
	return out
}

// Input is what Schedule works on.
type Input struct {
	CIB *cib.CIB
	// Now is the time rules, failure timeouts and date expressions are
	// evaluated at.
	Now time.Time
	// FromExecutionDate says Now came from the CIB's execution-date, which
	// the summary then mentions as crm_simulate does.
	FromExecutionDate bool
}

// Result is a scheduled transition.
type Result struct {
	Cluster *Cluster
	Graph   *Graph
	// Summary holds the Transition Summary lines (without the leading
	// "  * ").
	Summary []string
	// p is the placement, kept for ScoreLines.
	p *placement
	// Warnings name problems met (colocation loops and the like).
	Warnings []string
	// Notes are printed before the status and after the actions.
	Notes []string
}

type builder struct {
	p       *placement
	g       *Graph
	byKey   map[actionKey]*Action
	summary []string
	// byRsc holds each resource's actions in creation order.
	byRsc map[*Resource][]*Action
	// edges makes order idempotent.
	edges map[Edge]bool
	// fencedStops are the stops of clone instances with notifications
	// that a node's fencing implies: each gets a notification of its own.
	fencedStops []fencedStop
}

// fencedStop is the stop of instance q on node n that fencing f implies.
type fencedStop struct {
	q *Resource
	n *Node
	f *Action
}

// actionKey identifies an action of the graph being built: a resource's
// by the resource (instances may share a history name), another by its
// name; then the task, interval and node. (A struct key: building string
// keys was a sixth of scheduling time on large clusters.)
type actionKey struct {
	rsc      *Resource
	name     string
	task     string
	interval int
	node     *Node
}

func (b *builder) action(rsc *Resource, name, task string, interval int, node *Node) *Action {
	key := actionKey{name: name, task: task, interval: interval, node: node}
	if rsc != nil {
		key = actionKey{rsc: rsc, task: task, interval: interval, node: node}
	}
	if a := b.byKey[key]; a != nil {
		return a
	}
	a := &Action{ID: len(b.g.Actions), Rsc: rsc, Name: name, Task: task, Interval: interval, Node: node, Optional: true, Runnable: true}
	b.g.Actions = append(b.g.Actions, a)
	b.byKey[key] = a
	if rsc != nil {
		b.byRsc[rsc] = append(b.byRsc[rsc], a)
	}
	return a
}

// find returns the action of resource r for task on node n, or nil.
func (b *builder) find(r *Resource, task string, interval int, n *Node) *Action {
	if r == nil || n == nil {
		return nil
	}
	return b.byKey[actionKey{rsc: r, task: task, interval: interval, node: n}]
}

func (b *builder) pseudo(name, task string) *Action {
	a := b.action(nil, name, task, 0, nil)
	a.Pseudo = true
	return a
}

func (b *builder) order(first, then *Action) {
	if first == nil || then == nil || first == then {
		return
	}
	e := Edge{first, then}
	if b.edges[e] {
		return
	}
	b.edges[e] = true
	b.g.Edges = append(b.g.Edges, e)
}

// Schedule computes the transition for a CIB.
func Schedule(in Input) *Result {
	cl := Unpack(in.CIB, in.Now)
	p := &placement{cl: cl, ev: &ruleEnv{now: in.Now}}
	restore := cl.unmanageWithoutFencingDevice()
	p.constraints()
	p.baseWeights()
	p.allocate()
	b := &builder{p: p, g: &Graph{}, byKey: map[actionKey]*Action{}, byRsc: map[*Resource][]*Action{}, edges: map[Edge]bool{}}
	b.build()
	b.g.synapses = b.synapseOrder()
	restore()
	res := &Result{Cluster: cl, Graph: b.g, Summary: b.summary}
	if in.FromExecutionDate {
		res.Notes = append(res.Notes, "Using the original execution date of: "+in.Now.UTC().Format("2006-01-02 15:04:05Z"))
	}
	res.Warnings = append(res.Warnings, cl.warnings...)
	if cl.noFencingDevice {
		res.Warnings = append(res.Warnings, "resource start-up disabled since no STONITH resources have been defined: configure a stonith resource, or set stonith-enabled=false (shared data needs fencing to stay safe)")
	}
	for _, l := range p.loops {
		res.Warnings = append(res.Warnings, "colocation loop through "+l)
	}
	res.p = p
	return res
}

// ScoreLines returns the allocation score lines (crm_simulate -s).
func (res *Result) ScoreLines() []string { return res.p.scoreLines() }

func (p *placement) scoreLines() []string {
	var out []string
	for _, r := range p.cl.Primitives() {
		for _, n := range p.cl.Nodes {
			s, ok := r.Allowed[n.Name]
			if !ok {
				continue
			}
			if !n.canRun() {
				s = -cib.Infinity
			}
			out = append(out, fmt.Sprintf("pcmk__primitive_assign: %s allocation score on %s: %s", r.ID, n.Name, s))
		}
	}
	sort.Strings(out)
	return out
}

// constraints resolves colocations and orderings to resources.
func (p *placement) constraints() {
	cl := p.cl
	res := func(id string) *Resource { return cl.byID[id] }
	for _, c := range cl.CIB.Configuration.Colocations() {
		score := cib.ScoreOf(c.Score, nil)
		inf := true
		if c.Influence != "" {
			inf = cib.IsTrue(c.Influence)
		}
		if len(c.Sets) == 0 {
			d, pr := res(c.Rsc), res(c.WithRsc)
			if d == nil || pr == nil || d == pr {
				continue
			}
			p.colocs = append(p.colocs, &colocation{ID: c.ID, Dep: d, Prim: pr, Score: score,
				DepRole: cib.NormalizeRole(c.RscRole), PrimRole: cib.NormalizeRole(c.WithRscRole), Attr: c.NodeAttribute, Influence: inf})
			continue
		}
		// Sets: within a sequential set each member is colocated with
		// the previous; a later set's members with the earlier set's.
		var prevSet []*Resource
		for _, s := range c.Sets {
			sc := score
			if s.Score != "" {
				sc = cib.ScoreOf(s.Score, nil)
			}
			var members []*Resource
			for _, id := range s.Refs {
				if r := res(id); r != nil {
					members = append(members, r)
				}
			}
			role := cib.NormalizeRole(s.Role)
			if sc < 0 {
				// Members of a set with a negative score avoid each
				// other pairwise.
				for i := 1; i < len(members); i++ {
					for j := 0; j < i; j++ {
						p.colocs = append(p.colocs, &colocation{ID: c.ID, Dep: members[i], Prim: members[j], Score: sc, DepRole: role, PrimRole: role, Influence: inf})
					}
				}
			} else if s.Sequential == "" || cib.IsTrue(s.Sequential) {
				for i := 1; i < len(members); i++ {
					p.colocs = append(p.colocs, &colocation{ID: c.ID, Dep: members[i], Prim: members[i-1], Score: sc, DepRole: role, PrimRole: role, Influence: inf})
				}
			}
			if prevSet != nil {
				for _, d := range members {
					for _, pr := range prevSet {
						p.colocs = append(p.colocs, &colocation{ID: c.ID, Dep: pr, Prim: d, Score: score, Influence: inf})
					}
				}
			}
			prevSet = members
		}
	}
	for _, o := range cl.CIB.Configuration.Orders() {
		kind := o.Kind
		if kind == "" {
			kind = "Mandatory"
			if o.Score != "" && cib.ScoreOf(o.Score, nil) == 0 {
				kind = "Optional"
			}
		}
		sym := kind != "Serialize"
		if o.Symmetrical != "" {
			sym = cib.IsTrue(o.Symmetrical)
		}
		if len(o.Sets) == 0 {
			f, t := res(o.First), res(o.Then)
			if f == nil || t == nil {
				continue
			}
			fa, ta := o.FirstAction, o.ThenAction
			if fa == "" {
				fa = "start"
			}
			if ta == "" {
				ta = fa
			}
			p.orders = append(p.orders, &ordering{ID: o.ID, First: f, Then: t, FirstAction: fa, ThenAction: ta, Kind: kind, Symmetrical: sym})
			continue
		}
		var prev []*Resource
		prevAction := ""
		for _, s := range o.Sets {
			var members []*Resource
			for _, id := range s.Refs {
				if r := res(id); r != nil {
					members = append(members, r)
				}
			}
			act := s.Action
			if act == "" {
				act = "start"
			}
			if s.Sequential == "" || cib.IsTrue(s.Sequential) {
				for i := 1; i < len(members); i++ {
					p.orders = append(p.orders, &ordering{ID: o.ID, First: members[i-1], Then: members[i], FirstAction: act, ThenAction: act, Kind: kind, Symmetrical: sym})
				}
			}
			if prev != nil {
				for _, f := range prev {
					for _, t := range members {
						p.orders = append(p.orders, &ordering{ID: o.ID, First: f, Then: t, FirstAction: prevAction, ThenAction: act, Kind: kind, Symmetrical: sym})
					}
				}
			}
			if len(members) > 0 {
				if s.Sequential == "" || cib.IsTrue(s.Sequential) {
					prev = members[len(members)-1:]
				} else {
					prev = members
				}
				prevAction = act
			}
		}
	}
}

// primitive state changes.
type change struct {
	r        *Resource
	start    *Action
	stop     map[string]*Action
	promote  *Action
	demote   *Action
	restart  string
	blocked  string
	moving   bool
	stopping bool
	// blockedStop is set when a running resource stops because its start
	// cannot run.
	blockedStop bool
}

func (b *builder) build() {
	cl := b.p.cl
	changes := map[*Resource]*change{}
	// Fencing.
	var fenceActs []*Action
	// Pacemaker's schedule_fencing_and_shutdowns delays all fencing while no
	// top-level resource is managed (maintenance-mode, say): a fence then
	// would only disrupt what the administrator asked to leave alone.
	manage := cl.anyManaged()
	for _, n := range cl.Nodes {
		if n.Fence && manage && cl.canFence(n) {
			a := b.action(nil, n.Name, "stonith", 0, n)
			a.Optional = false
			a.Reason = n.FenceReason
			fenceActs = append(fenceActs, a)
		}
	}
	// Without concurrent fencing the nodes are fenced one after the
	// other; the DC is fenced last either way (fewer elections), as
	// Pacemaker orders it.
	var dcFence *Action
	var others []*Action
	for _, a := range fenceActs {
		if cl.CIB.DCUUID != "" && a.Node.ID == cl.CIB.DCUUID {
			dcFence = a
		} else {
			others = append(others, a)
		}
	}
	for i := 1; i < len(others) && !cl.Options.ConcurrentFencing; i++ {
		b.order(others[i-1], others[i])
	}
	if dcFence != nil && len(others) > 0 {
		if cl.Options.ConcurrentFencing {
			for _, a := range others {
				b.order(a, dcFence)
			}
		} else {
			b.order(others[len(others)-1], dcFence)
		}
	}
	fenced := func(n *Node) *Action {
		if n == nil || !n.Fence {
			return nil
		}
		return b.byKey[actionKey{name: n.Name, task: "stonith", node: n}]
	}
	if cl.Options.PlacementStrategy != "default" {
		for _, n := range cl.Nodes {
			if n.Online {
				a := b.pseudo("load_stopped_"+n.Name, "")
				a.Optional = false
			}
		}
	}
	// The stop of a failed resource exists before anything else of it:
	// Pacemaker creates it as it reads the failure, which puts it after
	// the resource's probes in the order actions fire (see
	// synapseOrder). What it does is decided with the other actions.
	for _, r := range cl.Primitives() {
		if r.Failed && r.Managed && !r.Blocked && !r.FailureIgnored {
			for _, n := range r.Running {
				b.action(r, r.nameOn(n), "stop", 0, n)
			}
		}
	}
	// Probes.
	probes := map[*Resource][]*Action{}
	for _, r := range cl.Primitives() {
		if r.Orphan {
			continue
		}
		for _, n := range cl.Nodes {
			if h := r.history[n.Name]; !n.Online || n.Unclean || n.Pending || (h != nil && h.known) {
				continue
			}
			if cp := r.cloneParent(); cp != nil && !cp.Unique {
				if b.anonymousProbed(cp, r, n) {
					continue
				}
			}
			if !r.Managed && false {
				continue
			}
			a := b.action(r, r.nameOn(n), "monitor", 0, n)
			a.Optional = false
			probes[r] = append(probes[r], a)
		}
	}
	// Expired failures are cleared, except those that blocked the
	// resource.
	for _, r := range cl.Primitives() {
		for _, n := range cl.Nodes {
			if h := r.history[n.Name]; h != nil && h.clearFailcount {
				a := b.action(r, r.nameOn(n), "clear_failcount", 0, n)
				// Actions of unmanaged resources stay optional.
				a.Optional = !r.Managed
				a.Runnable = n.Online && !n.Unclean
			}
		}
	}
	// A recurring monitor that is no longer configured is a changed
	// definition: the fail count it left is cleared (Pacemaker's
	// pcmk__check_action_config finds the orphan, and process_rsc_history
	// clears the fail count of an operation whose definition changed).
	for _, r := range cl.Primitives() {
		if !r.Managed || r.Maintenance || r.Orphan {
			// (An orphan has no configuration to compare with.)
			continue
		}
		for _, n := range r.Running {
			h := r.history[n.Name]
			// (Only on nodes that can run resources, as
			// pcmk__handle_rsc_config_changes checks.)
			if h == nil || !n.canRun() || h.clearFailcount {
				continue
			}
			orphan := false
			for iv, on := range h.recurring {
				if on && !b.monitorConfigured(r, iv) {
					orphan = true
				}
			}
			if fc, exp := cl.failCount(r, n); orphan && fc > 0 && !exp {
				a := b.action(r, r.nameOn(n), "clear_failcount", 0, n)
				a.Optional = false
				a.Reason = "action definition changed"
			}
		}
	}
	// Recurring monitors to cancel: all of a resource in maintenance, and
	// those no longer configured.
	// Pacemaker checks the histories of nodes that can run resources or
	// are in maintenance only (pcmk__handle_rsc_config_changes).
	var orphanCancels []*Action
	for _, r := range cl.Primitives() {
		// Monitors are cancelled for a resource in maintenance, in a
		// cluster in maintenance-mode, and on a node in maintenance.
		maint := r.maintenanceMeta || cl.Options.MaintenanceMode
		for _, n := range r.Running {
			h := r.history[n.Name]
			if h == nil || r.Orphan || !n.Maintenance && !n.canRun() {
				// (Nor an orphan's: process_rsc_history skips them.)
				continue
			}
			var ivs []int
			for iv, on := range h.recurring {
				// A monitor no longer configured is cancelled where the
				// resource stays; where it stops, the stop ends it.
				if on && (maint || n.Maintenance || (!b.monitorConfigured(r, iv) && r.Assigned == n)) {
					ivs = append(ivs, iv)
				}
			}
			sort.Ints(ivs)
			for _, iv := range ivs {
				a := b.action(r, r.nameOn(n), "cancel", iv, n)
				a.Optional = false
				orphanCancels = append(orphanCancels, a)
			}
		}
	}
	// Primitive actions.
	for _, r := range cl.Primitives() {
		c := &change{r: r, stop: map[string]*Action{}}
		changes[r] = c
		b.primitiveActions(c, fenced)
		for _, pa := range probes[r] {
			if c.start != nil {
				b.order(pa, c.start)
			}
		}
	}
	b.secondaryNotifications(changes)
	// A monitor cancelled because it is no longer configured or its
	// resource is in maintenance goes after the resource's stops, as
	// pcmk__schedule_cancel orders it (the stop ends it anyway).
	for _, a := range orphanCancels {
		for _, st := range sortedStops(changes[a.Rsc]) {
			b.order(st, a)
		}
	}
	b.propagate(changes)
	b.parentActions(changes)
	b.constraintOrders(changes)
	b.runnability(changes)
	// A group whose members can start only with quorum, which is lost,
	// does not start (Pacemaker leaves its start milestone optional).
	for _, r := range cl.AllResources() {
		if !r.IsGroup() || cl.Quorate {
			continue
		}
		quorumOnly := false
		for _, q := range r.primitives() {
			c := changes[q]
			if c == nil || c.start == nil || c.start.Optional {
				continue
			}
			if c.blocked != "no quorum" && c.blocked != "quorum freeze" {
				quorumOnly = false
				break
			}
			quorumOnly = true
		}
		if quorumOnly && !requiredStopIn(changes, r) {
			b.pseudo(r.ID, "start").Optional = true
			b.pseudo(r.ID, "running").Optional = true
		}
	}
	// Notifications are decided once what runs is known (a stop forced
	// by lost quorum, say, is notified; a start that cannot run is not).
	for _, r := range cl.AllResources() {
		if r.IsClone() && r.Notify {
			pairs := [][2]string{{"start", "running"}, {"stop", "stopped"}}
			if r.Promotable {
				pairs = append(pairs, [2]string{"promote", "promoted"}, [2]string{"demote", "demoted"})
			}
			b.notifications(changes, r, pairs)
		}
	}
	for _, n := range cl.Nodes {
		if n.Shutdown && n.Online && !n.Unclean {
			a := b.action(nil, n.Name, "do_shutdown", 0, n)
			a.Optional = false
			for _, c := range changes {
				for name, s := range c.stop {
					if name == n.Name {
						b.order(s, a)
					}
				}
			}
		}
	}
	// Fencing actions before the pseudo stops they imply.
	b.summarize(changes, fenceActs)
}

// unmanageWithoutFencingDevice leaves every resource alone for this
// transition when fencing is enabled but no fencing device is configured,
// as Pacemaker does: nothing may start or stop while a failed node could
// not be fenced (probes still run). The returned function restores the
// resources' own setting, which the status display shows.
func (cl *Cluster) unmanageWithoutFencingDevice() func() {
	if !cl.Options.StonithEnabled {
		return func() {}
	}
	all := cl.AllResources()
	for _, r := range all {
		if r.IsStonith() {
			return func() {}
		}
	}
	cl.noFencingDevice = true
	saved := make([]bool, len(all))
	for i, r := range all {
		saved[i], r.Managed = r.Managed, false
	}
	return func() {
		for i, r := range all {
			r.Managed = saved[i]
		}
	}
}

// anyManaged reports whether some top-level resource is managed, as
// Pacemaker's any_managed_resources.
func (cl *Cluster) anyManaged() bool {
	for _, r := range cl.Resources {
		if r.Managed {
			return true
		}
	}
	return false
}

// canFence reports whether node n can be fenced, as Pacemaker's
// pe_can_fence: fencing is enabled and a fencing device configured, and
// the cluster has quorum, or ignores its loss, or n is still in the
// membership (online).
func (cl *Cluster) canFence(n *Node) bool {
	if !cl.Options.StonithEnabled {
		return false
	}
	device := false
	for _, r := range cl.Primitives() {
		if r.IsStonith() && !r.Orphan {
			device = true
			break
		}
	}
	switch {
	case !device:
		return false
	case cl.Quorate, cl.Options.NoQuorumPolicy == "ignore", cl.Options.NoQuorumPolicy == "suicide":
		return true
	}
	return n.Online
}

// sortedStops returns the stop actions of a change in node order.
func sortedStops(c *change) []*Action {
	if c == nil {
		return nil
	}
	names := make([]string, 0, len(c.stop))
	for name := range c.stop {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]*Action, 0, len(names))
	for _, name := range names {
		out = append(out, c.stop[name])
	}
	return out
}

func (b *builder) anonymousProbed(cp, r *Resource, n *Node) bool {
	// One instance of an anonymous clone is probed per node: the one with
	// history there, else the first.
	for _, inst := range cp.Children {
		for _, q := range inst.primitives() {
			if h := q.history[n.Name]; q.Base == r.Base && h != nil && h.known {
				return true
			}
		}
	}
	for _, inst := range cp.Children {
		for _, q := range inst.primitives() {
			if q.Base != r.Base || q.Orphan {
				continue
			}
			return q != r
		}
	}
	return false
}

func (b *builder) monitorConfigured(r *Resource, ms int) bool {
	if r.Cfg == nil {
		return false
	}
	for _, o := range r.Cfg.Ops {
		if o.Name != "monitor" || (o.Enabled != "" && !cib.IsTrue(o.Enabled)) {
			continue
		}
		if d, err := o.IntervalDuration(); err == nil && int(d/time.Millisecond) == ms {
			return true
		}
	}
	return false
}

func (b *builder) recurring(r *Resource, n *Node, role string, required bool) {
	if r.Cfg == nil {
		return
	}
	for _, o := range r.Cfg.Ops {
		if o.Name != "monitor" {
			continue
		}
		if o.Enabled != "" && !cib.IsTrue(o.Enabled) {
			continue
		}
		d, err := o.IntervalDuration()
		if err != nil || d <= 0 {
			continue
		}
		orole := cib.NormalizeRole(o.Role)
		want := role
		if want == RoleStarted && r.cloneParent() != nil && r.cloneParent().Promotable {
			want = RoleUnpromoted
		}
		// A monitor without a role is for every role but Promoted.
		if orole == "" && want == RolePromoted || orole != "" && orole != want && !(orole == RoleStarted && want == RoleUnpromoted) {
			// A monitor of the role the resource leaves on this node is
			// cancelled.
			if ms := int(d / time.Millisecond); len(r.Running) == 1 && r.Running[0] == n {
				if h := r.history[n.Name]; h != nil && h.recurring[ms] {
					a := b.action(r, r.nameOn(n), "cancel", ms, n)
					a.Optional = false
					// The cancel precedes the role change that makes the
					// monitor wrong, as recurring_op_for_active orders it.
					switch {
					case r.Role == RolePromoted:
						b.order(a, b.find(r, "demote", 0, n))
					case want == RolePromoted:
						b.order(a, b.find(r, "promote", 0, n))
					}
				}
			}
			continue
		}
		ms := int(d / time.Millisecond)
		h := r.history[n.Name]
		have := h != nil && h.recurring[ms]
		a := b.action(r, r.nameOn(n), "monitor", ms, n)
		if required || !have || b.p.cl.monitorChanged(r, n, ms) {
			a.Optional = false
		}
		if cl := b.p.cl; !cl.Quorate && r.Meta["requires"] != "nothing" &&
			(cl.Options.NoQuorumPolicy == "stop" || cl.Options.NoQuorumPolicy == "demote") {
			// A recurring monitor requires quorum like a start does.
			a.Runnable = false
		}
		// A recurring monitor runs once its resource reached the role it
		// checks: after the start, the promote to Promoted or the demote
		// from it.
		b.order(b.find(r, "start", 0, n), a)
		if want == RolePromoted {
			b.order(b.find(r, "promote", 0, n), a)
		} else if r.Role == RolePromoted {
			b.order(b.find(r, "demote", 0, n), a)
		}
	}
}

func (b *builder) primitiveActions(c *change, fenced func(*Node) *Action) {
	r := c.r
	cl := b.p.cl
	next := r.Assigned
	nextRole := r.NextRole
	if next != nil && nextRole == "" {
		nextRole = RoleStarted
	}
	if next == nil {
		nextRole = RoleStopped
	}
	startA := b.action(r, r.nameOn(next), "start", 0, next)
	c.start = startA
	if next == nil {
		startA.Runnable = false
	}
	if r.pendingTask == "start" && next != nil && r.Managed {
		// A start still in flight is issued again where the resource is
		// to run (and waits for whatever a start waits for).
		startA.Always = true
	}
	if !r.Managed {
		// Unmanaged: nothing is done, but a resource that stays active
		// (even failed) does not block what is ordered after its start;
		// a blocked one (a failure with on-fail=block) does.
		startA.Runnable = next != nil && len(r.Running) > 0 && r.Running[0] == next && !r.Blocked
		// Its monitors still run where it is active (on its current node,
		// the first it was found on), unless it is blocked or in
		// maintenance (its own, its node's or the cluster's): a monitor
		// the history lacks is started.
		if n := r.currentNode(); n != nil && !r.Blocked && !r.Maintenance && !cl.Options.MaintenanceMode && n.Online && !n.Unclean && !n.Maintenance {
			b.recurring(r, n, r.Role, false)
		}
		return
	}
	// Copies on unclean nodes go with their node's fencing: they make a
	// resource neither multiply active nor moved (pe__find_active_on
	// counts the clean ones).
	var clean []*Node
	for _, n := range r.Running {
		if !n.Unclean {
			clean = append(clean, n)
		}
	}
	multiple := len(clean) > 1
	stays := next != nil && len(clean) == 1 && clean[0] == next && !r.Failed
	for _, n := range r.Running {
		if stays && n.Unclean {
			// Nothing stops a resource that stays where it is: the copy
			// on the unclean node ends with its fencing.
			continue
		}
		needStop := multiple || next == nil || n != next || r.Failed
		stop := b.action(r, r.nameOn(n), "stop", 0, n)
		c.stop[n.Name] = stop
		if next == nil && stop.Reason == "" {
			stop.Reason = "node availability"
		}
		if needStop {
			stop.Optional = false
			if n.Unclean {
				if f := fenced(n); f != nil {
					stop.Pseudo = true
					b.order(f, stop)
					if cp := r.cloneParent(); cp != nil && cp.Notify {
						b.fencedStops = append(b.fencedStops, fencedStop{r, n, f})
					}
				} else {
					stop.Runnable = false
				}
			}
			if r.Role == RolePromoted {
				b.demoteBefore(c, n, stop)
			}
		}
		b.order(stop, startA)
	}
	if next == nil {
		c.stopping = len(r.Running) > 0
		return
	}
	cur := stays
	if !cur {
		startA.Optional = false
		c.moving = len(r.Running) > 0
	} else if cl.definitionChanged(r, next) {
		// Started with other parameters than it has now: restarted.
		startA.Optional = false
		if st := c.stop[next.Name]; st != nil {
			st.Optional = false
		}
		c.restart = "resource definition change"
		cur = false
	}
	if nextRole == RolePromoted && (!cur || r.Role != RolePromoted) {
		pr := b.action(r, r.nameOn(next), "promote", 0, next)
		pr.Optional = false
		c.promote = pr
		b.order(startA, pr)
	}
	if cur && r.Role == RolePromoted && nextRole != RolePromoted {
		d := b.action(r, r.nameOn(next), "demote", 0, next)
		d.Optional = false
		c.demote = d
	}
	if cl != nil {
		b.recurring(r, next, nextRole, !cur)
	}
}

// propagate makes restarts follow the orderings that imply them: a group
// member restarts when an earlier member starts, and a dependent of a
// mandatory order restarts when its first starts.
func (b *builder) propagate(changes map[*Resource]*change) {
	// why names the action that implies the restart: the first's start,
	// or a group first's running milestone.
	type rel struct {
		first, then *Resource
		why         string
	}
	var rels []rel
	for _, r := range b.p.cl.AllResources() {
		if r.IsGroup() {
			for i := 1; i < len(r.Children); i++ {
				for _, f := range r.Children[i-1].primitives() {
					for _, t := range r.Children[i].primitives() {
						rels = append(rels, rel{f, t, f.ID + " start"})
					}
				}
			}
		}
	}
	for _, o := range b.p.orders {
		if o.Kind != "Mandatory" || o.FirstAction != "start" || o.ThenAction != "start" {
			continue
		}
		if o.First.IsClone() || o.Then.IsClone() {
			continue
		}
		for _, f := range o.First.primitives() {
			for _, t := range o.Then.primitives() {
				rels = append(rels, rel{f, t, orderFirstName(o.First, f)})
			}
		}
	}
	for iter := 0; iter < 50; iter++ {
		changed := false
		for _, x := range rels {
			fc, tc := changes[x.first], changes[x.then]
			if fc == nil || tc == nil || fc.start == nil || tc.start == nil {
				continue
			}
			if !fc.start.Optional && fc.start.Runnable && tc.start.Optional && tc.start.Runnable && tc.r.Assigned != nil && len(tc.r.Running) == 1 && tc.r.Managed {
				if tc.r.pendingTask == "start" && tc.r.pendingNode == tc.r.Running[0] && !requiredStop(fc) {
					// A start still in flight is issued again anyway, not
					// restarted: there is nothing to stop yet (unless
					// the first stops too: the stop order then asks for
					// its stop).
					continue
				}
				tc.start.Optional = false
				if s := tc.stop[tc.r.Running[0].Name]; s != nil {
					s.Optional = false
				}
				tc.restart = "required " + x.why
				b.recurring(tc.r, tc.r.Assigned, tc.r.NextRole, true)
				changed = true
			}
		}
		if !changed {
			break
		}
	}
}

func (b *builder) childActs(changes map[*Resource]*change, r *Resource, task string) []*Action {
	var out []*Action
	for _, q := range r.primitives() {
		c := changes[q]
		if c == nil {
			continue
		}
		switch task {
		case "start":
			if c.start != nil {
				out = append(out, c.start)
			}
		case "stop":
			for _, n := range q.Running {
				if s := c.stop[n.Name]; s != nil {
					out = append(out, s)
				}
			}
		case "promote":
			if c.promote != nil {
				out = append(out, c.promote)
			}
		case "demote":
			if c.demote != nil {
				out = append(out, c.demote)
			}
		}
	}
	return out
}

// parentActions creates the pseudo actions of groups and clones.
func (b *builder) parentActions(changes map[*Resource]*change) {
	var walk func(r *Resource)
	walk = func(r *Resource) {
		for _, c := range r.Children {
			walk(c)
		}
		if r.IsPrimitive() {
			return
		}
		if r.Parent != nil && r.Parent.IsClone() && r.IsGroup() {
			// Groups inside clones get their milestones too.
		}
		pairs := [][2]string{{"start", "running"}, {"stop", "stopped"}}
		if r.IsClone() && r.Promotable {
			pairs = append(pairs, [2]string{"promote", "promoted"}, [2]string{"demote", "demoted"})
		}
		for _, pr := range pairs {
			acts := b.childActs(changes, r, pr[0])
			begin := b.pseudo(r.ID, pr[0])
			end := b.pseudo(r.ID, pr[1])
			b.order(begin, end)
			required := false
			for _, a := range acts {
				if !a.Optional {
					required = true
				}
				b.order(begin, a)
				b.order(a, end)
			}
			if required {
				begin.Optional, end.Optional = false, false
			}
		}
		if r.IsGroup() {
			// Members start in order and stop in reverse.
			for i := 1; i < len(r.Children); i++ {
				for _, f := range b.childActs(changes, r.Children[i-1], "start") {
					for _, t := range b.childActs(changes, r.Children[i], "start") {
						b.order(f, t)
					}
				}
				for _, f := range b.childActs(changes, r.Children[i], "stop") {
					for _, t := range b.childActs(changes, r.Children[i-1], "stop") {
						b.order(f, t)
					}
				}
			}
		}
		b.order(b.pseudo(r.ID, "stopped"), b.pseudo(r.ID, "start"))
		if r.IsGroup() && !b.pseudo(r.ID, "stop").Optional && (managedAssigned(r) || recoveringMember(changes, r)) {
			// A group that stops members restarts as a whole (when a
			// member the cluster manages is to run, or a member whose
			// start is still in flight stops: its start stays required).
			b.pseudo(r.ID, "start").Optional = false
		}
		if r.IsClone() && r.Promotable {
			b.order(b.pseudo(r.ID, "running"), b.pseudo(r.ID, "promote"))
			b.order(b.pseudo(r.ID, "demoted"), b.pseudo(r.ID, "stop"))
		}
	}
	for _, r := range b.p.cl.Resources {
		walk(r)
	}
}

// endpoint returns the action standing for a resource's task in an
// ordering: a primitive's own action(s), or a parent's pseudo action.
func (b *builder) endpoints(changes map[*Resource]*change, r *Resource, task string, first bool) []*Action {
	if r.IsPrimitive() {
		c := changes[r]
		if c == nil {
			return nil
		}
		switch task {
		case "start":
			return []*Action{c.start}
		case "stop":
			var out []*Action
			for _, a := range c.stop {
				out = append(out, a)
			}
			return out
		case "promote":
			if c.promote != nil {
				return []*Action{c.promote}
			}
		case "demote":
			if c.demote != nil {
				return []*Action{c.demote}
			}
		}
		return nil
	}
	if first {
		done := map[string]string{"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}[task]
		if done == "" {
			return nil
		}
		return []*Action{b.pseudo(r.ID, done)}
	}
	return []*Action{b.pseudo(r.ID, task)}
}

// notifications adds the pre and post notifications of a clone with
// notify=true around each of its required milestones: pseudo actions
// pre_notify_T, confirmed-pre_notify_T, post_notify_DONE and
// confirmed-post_notify_DONE, and a notify operation on every instance
// active before (pre) or after (post) the transition.
func (b *builder) notifications(changes map[*Resource]*change, r *Resource, pairs [][2]string) {
	var lists map[string]string
	for _, pr := range pairs {
		begin, end := b.pseudo(r.ID, pr[0]), b.pseudo(r.ID, pr[1])
		if begin.Optional || !b.anyActing(changes, r, pr[0]) {
			// Nothing to tell: no instance does it (a start or promote
			// that cannot run does not count; a stop a fencing implies
			// does).
			continue
		}
		if lists == nil {
			lists = b.notifyLists(changes, r)
		}
		preInfo := &Notification{Type: "pre", Operation: notifyOperation[pr[0]], KeyType: "pre", KeyOperation: pr[0], Lists: lists}
		postInfo := &Notification{Type: "post", Operation: notifyOperation[pr[0]], KeyType: "post", KeyOperation: pr[1], Lists: lists}
		pre := b.pseudo(r.ID, "pre_notify_"+pr[0])
		preDone := b.pseudo(r.ID, "confirmed-pre_notify_"+pr[0])
		post := b.pseudo(r.ID, "post_notify_"+pr[1])
		postDone := b.pseudo(r.ID, "confirmed-post_notify_"+pr[1])
		for _, a := range []*Action{pre, preDone, post, postDone} {
			a.Optional = false
		}
		b.order(pre, preDone)
		b.order(preDone, begin)
		b.order(end, post)
		b.order(post, postDone)
		// tell adds instance q's notify operation on n between the
		// milestones from and to.
		tell := func(q *Resource, n *Node, from, to *Action, tag string, info *Notification) *Action {
			if n == nil || !n.Online || !from.Runnable {
				return nil
			}
			a := b.notifyAction(q, n, tag)
			a.Notify = info
			b.order(from, a)
			b.order(a, to)
			return a
		}
		notifyPre := func(q *Resource, n *Node) { tell(q, n, pre, preDone, "pre_"+pr[0], preInfo) }
		notifyPost := func(q *Resource, n *Node) {
			if tell(q, n, post, postDone, "post_"+pr[1], postInfo) == nil {
				return
			}
			// An instance's recurring monitors wait for the post
			// notifications to complete.
			for _, m := range b.byRsc[q] {
				if m.Task == "monitor" && m.Interval > 0 {
					b.order(postDone, m)
				}
			}
		}
		// Who is told, as Pacemaker's create_notifications decides it
		// for each instance: of a stop or demote, the instances active
		// now, where they are (not on a node whose fencing stops them),
		// and afterwards those that stay; of a start or promote, the
		// instances that will be active, where they will be, before it
		// unless they are the ones starting.
		for _, inst := range r.Children {
			for _, q := range inst.primitives() {
				if !q.Managed {
					// An unmanaged instance is told nothing: its notify
					// operations stay optional, as all its actions do.
					continue
				}
				c := changes[q]
				if c == nil {
					continue
				}
				stop := c.firstStop()
				switch pr[0] {
				case "stop", "demote":
					for _, n := range q.Running {
						if stop != nil && stop.Pseudo && n.Unclean {
							continue
						}
						notifyPre(q, n)
						if pr[0] == "demote" || stop == nil || stop.Optional {
							notifyPost(q, n)
						}
					}
				case "start", "promote":
					if q.Assigned == nil || q.NextRole == RoleStopped {
						continue
					}
					if pr[0] != "start" || c.start == nil || c.start.Optional {
						notifyPre(q, q.Assigned)
					}
					notifyPost(q, q.Assigned)
				}
			}
		}
	}
}

// anyActing reports whether an instance of clone r has a required task
// action that can run, or a stop a node's fencing implies.
func (b *builder) anyActing(changes map[*Resource]*change, r *Resource, task string) bool {
	for _, q := range r.primitives() {
		c := changes[q]
		if c == nil {
			continue
		}
		var acts []*Action
		switch task {
		case "start":
			acts = []*Action{c.start}
		case "promote":
			acts = []*Action{c.promote}
		case "demote":
			acts = []*Action{c.demote}
		case "stop":
			for _, st := range c.stop {
				acts = append(acts, st)
			}
		}
		for _, a := range acts {
			if a != nil && !a.Optional && (a.Runnable || a.Pseudo) {
				return true
			}
		}
	}
	return false
}

// secondaryNotifications tells a clone with notifications that fencing
// stopped one of its instances, right after the fencing, as Pacemaker's
// create_secondary_notification: the pseudo actions
// INSTANCE_post_notify_stop and INSTANCE_notified around a post
// notification of every instance active elsewhere that stays.
func (b *builder) secondaryNotifications(changes map[*Resource]*change) {
	for _, fs := range b.fencedStops {
		q := fs.q
		// The graph names them by the instance's history name and the
		// notified operation when it has one (an anonymous instance
		// known by its bare id), else by the instance id and the fencing.
		name, postTask, doneTask := q.ID, "post_notify_stonith", "confirmed-post_notify_stonith"
		if cp := q.cloneParent(); !cp.Unique && q.cloneName != "" {
			name, postTask, doneTask = q.cloneName, "post_notify_stop", "notified"
		}
		post := b.action(q, name, postTask, 0, nil)
		done := b.action(q, name, doneTask, 0, nil)
		for _, a := range []*Action{post, done} {
			a.Pseudo, a.Optional = true, false
		}
		b.order(fs.f, post)
		b.order(post, done)
		info := &Notification{Type: "post", Operation: "stop", KeyType: "post", KeyOperation: "stop",
			Lists: map[string]string{"notify_stop_resource": q.ID, "notify_stop_uname": fs.n.Name}}
		for _, inst := range q.cloneParent().Children {
			for _, o := range inst.primitives() {
				c := changes[o]
				if c == nil || !o.Managed {
					continue
				}
				stop := c.firstStop()
				for _, m := range o.Running {
					if stop != nil && (!stop.Optional || stop.Pseudo && m.Unclean) || !m.Online {
						continue
					}
					a := b.notifyAction(o, m, "post_stop_fenced_"+q.ID)
					a.Notify = info
					b.order(post, a)
					b.order(a, done)
				}
			}
		}
	}
}

func (b *builder) notifyAction(q *Resource, n *Node, tag string) *Action {
	key := actionKey{rsc: q, name: tag, task: "notify", node: n}
	if a := b.byKey[key]; a != nil {
		return a
	}
	a := &Action{ID: len(b.g.Actions), Rsc: q, Name: q.nameOn(n), Task: "notify", Node: n, Runnable: true}
	b.g.Actions = append(b.g.Actions, a)
	b.byKey[key] = a
	return a
}

var inverseTask = map[string]string{"start": "stop", "stop": "start", "promote": "demote", "demote": "promote"}

func (b *builder) constraintOrders(changes map[*Resource]*change) {
	for _, o := range b.p.orders {
		for _, f := range b.endpoints(changes, o.First, o.FirstAction, true) {
			for _, t := range b.endpoints(changes, o.Then, o.ThenAction, false) {
				b.order(f, t)
			}
		}
		if o.Symmetrical {
			fa, ta := inverseTask[o.FirstAction], inverseTask[o.ThenAction]
			if fa != "" && ta != "" {
				for _, f := range b.endpoints(changes, o.Then, ta, true) {
					for _, t := range b.endpoints(changes, o.First, fa, false) {
						b.order(f, t)
					}
				}
			}
		}
	}
}

// stuckStops makes the stops that must wait for a stop that cannot happen
// unrunnable, with the reason "unrunnable X stop" unless they have one:
// a group member stops after the members that follow it, the first of a
// symmetrical mandatory order after its then when the then is a primitive
// (a group or clone then is represented by its stopped milestone, which a
// stuck member stop does not make unrunnable). A stop cannot happen when it
// is required but unrunnable, or when an unmanaged resource would have to
// stop. A resource whose stop is stuck cannot start elsewhere either.
func (b *builder) stuckStops(changes map[*Resource]*change) {
	stuck := func(q *Resource) bool {
		if len(q.Running) == 0 {
			return false
		}
		if !q.Managed {
			return q.Assigned == nil || q.Failed || len(q.Running) > 1 || q.Assigned != q.Running[0] ||
				q.TargetRole == RoleStopped || inheritedStopped(q)
		}
		for _, st := range changes[q].stop {
			if !st.Optional && !st.Runnable {
				return true
			}
		}
		return false
	}
	block := func(q *Resource, reason string) bool {
		changed := false
		c := changes[q]
		if c == nil || !q.Managed {
			return false
		}
		for _, st := range c.stop {
			if st.Runnable && !st.Optional {
				st.Runnable = false
				if st.Reason == "" {
					st.Reason = reason
				}
				changed = true
			}
		}
		return changed
	}
	firstStuck := func(r *Resource) *Resource {
		for _, q := range r.primitives() {
			if stuck(q) {
				return q
			}
		}
		return nil
	}
	for iter := 0; iter < 50; iter++ {
		changed := false
		for _, r := range b.p.cl.AllResources() {
			if !r.IsGroup() {
				continue
			}
			for i := len(r.Children) - 1; i > 0; i-- {
				if q := firstStuck(r.Children[i]); q != nil {
					for _, f := range r.Children[i-1].primitives() {
						changed = block(f, "unrunnable "+q.ID+" stop") || changed
					}
				}
			}
		}
		for _, o := range b.p.orders {
			if o.Kind != "Mandatory" || !o.Symmetrical || o.FirstAction != "start" || o.ThenAction != "start" || !o.Then.IsPrimitive() {
				continue
			}
			if q := firstStuck(o.Then); q != nil {
				for _, f := range o.First.primitives() {
					changed = block(f, "unrunnable "+q.ID+" stop") || changed
				}
			}
		}
		if !changed {
			break
		}
	}
	for q, c := range changes {
		if q.Managed && stuck(q) && c.start != nil && !c.start.Optional && c.start.Runnable {
			c.start.Runnable = false
		}
	}
}

// runnability marks starts that cannot happen because a mandatory first
// cannot start, and records why.
func (b *builder) runnability(changes map[*Resource]*change) {
	cl := b.p.cl
	for _, c := range changes {
		// Starts need quorum unless the resource requires nothing
		// (fencing devices included: they require quorum by default).
		if c.start == nil || !c.start.Runnable || cl.Quorate || c.r.Meta["requires"] == "nothing" {
			continue
		}
		switch cl.Options.NoQuorumPolicy {
		case "freeze":
			if len(c.r.Running) == 0 {
				c.start.Runnable = false
				c.blocked = "quorum freeze"
			}
		case "stop", "suicide", "demote":
			// demote demotes promotable clones (no promotion: see
			// promote) and stops everything else.
			if cp := c.r.cloneParent(); cl.Options.NoQuorumPolicy != "demote" || cp == nil || !cp.Promotable {
				c.start.Runnable = false
				c.blocked = "no quorum"
			}
		}
	}
	b.stuckStops(changes)
	startable := func(r *Resource) (bool, string) {
		for _, q := range r.primitives() {
			c := changes[q]
			if c != nil && c.start != nil && c.start.Runnable {
				return true, ""
			}
		}
		return false, r.ID
	}
	for iter := 0; iter < 50; iter++ {
		changed := false
		for _, o := range b.p.orders {
			if o.Kind != "Mandatory" || o.FirstAction != "start" || o.ThenAction != "start" {
				continue
			}
			ok, who := startable(o.First)
			if ok {
				continue
			}
			if !o.Then.IsPrimitive() {
				// The then's own start milestone waits for the first too.
				b.pseudo(o.Then.ID, "start").Runnable = false
			}
			for _, q := range o.Then.primitives() {
				c := changes[q]
				if c == nil || c.start == nil || !c.start.Runnable {
					continue
				}
				if len(q.Running) > 0 && c.start.Optional {
					continue
				}
				c.start.Runnable = false
				if c.blocked == "" {
					c.blocked = "unrunnable " + orderFirstName(o.First, nil)
					if o.First.IsPrimitive() {
						c.blocked = "unrunnable " + firstPrimitiveID(who, o.First) + " start"
					}
				}
				changed = true
			}
		}
		// Group members cannot start before earlier members.
		for _, r := range cl.AllResources() {
			if !r.IsGroup() {
				continue
			}
			for i := 1; i < len(r.Children); i++ {
				ok, _ := startable(r.Children[i-1])
				if ok {
					continue
				}
				for _, q := range r.Children[i].primitives() {
					c := changes[q]
					if c != nil && c.start != nil && c.start.Runnable && q.Assigned != nil {
						c.start.Runnable = false
						if c.blocked == "" {
							c.blocked = "unrunnable " + r.Children[i-1].ID + " start"
						}
						changed = true
					}
				}
			}
		}
		if !changed {
			break
		}
	}
	// A running resource whose start cannot run must stop.
	for _, c := range changes {
		r := c.r
		if c.start == nil || c.start.Runnable || c.blocked == "" || len(r.Running) == 0 || !r.Managed || r.Assigned == nil {
			continue
		}
		for _, n := range r.Running {
			st := c.stop[n.Name]
			if st == nil {
				continue
			}
			st.Optional = false
			if r.Role == RolePromoted {
				d := b.demoteBefore(c, n, st)
				if p := r.Parent; p != nil && p.IsClone() {
					begin, end := b.pseudo(p.ID, "demote"), b.pseudo(p.ID, "demoted")
					begin.Optional, end.Optional = false, false
					b.order(begin, d)
					b.order(d, end)
				}
			}
		}
		c.stopping = true
		c.blockedStop = true
		// Its clone or group now stops too: their stop milestones are
		// required as a child's stop makes them (group_action_flags).
		for p := r.Parent; p != nil; p = p.Parent {
			b.pseudo(p.ID, "stop").Optional = false
			b.pseudo(p.ID, "stopped").Optional = false
		}
	}
	// Actions ordered after unrunnable starts cannot run either.
	for _, c := range changes {
		if c.start != nil && !c.start.Runnable && c.r.Managed {
			if c.promote != nil {
				c.promote.Runnable = false
			}
			for _, a := range b.byRsc[c.r] {
				if a.Task == "monitor" && a.Interval > 0 && a.Node == c.start.Node {
					a.Runnable = false
				}
			}
		}
	}
	// A clone's start (promote) milestone can happen only if some
	// instance's start (promote) can (Pacemaker's summary_action_flags),
	// and its running (promoted) milestone follows it.
	for _, r := range cl.AllResources() {
		if !r.IsClone() {
			continue
		}
		any := false
		for _, q := range r.primitives() {
			if c := changes[q]; c != nil && c.start != nil && c.start.Runnable {
				any = true
				break
			}
		}
		if !any {
			b.pseudo(r.ID, "start").Runnable = false
			b.pseudo(r.ID, "running").Runnable = false
		}
		if !r.Promotable {
			continue
		}
		any = false
		for _, q := range r.primitives() {
			if c := changes[q]; c != nil && c.promote != nil && c.promote.Runnable {
				any = true
				break
			}
		}
		if !any {
			b.pseudo(r.ID, "promote").Runnable = false
			b.pseudo(r.ID, "promoted").Runnable = false
		}
	}
	// A group is running only once every member started: its running
	// milestone cannot happen while a member's start cannot.
	for _, r := range cl.AllResources() {
		if !r.IsGroup() {
			continue
		}
		end := b.pseudo(r.ID, "running")
		for _, q := range r.primitives() {
			if c := changes[q]; c != nil && c.start != nil && !c.start.Runnable {
				end.Runnable = false
			}
		}
	}
	// A group that stops requires every active member to stop; the stop
	// of an unmanaged (or blocked) member cannot happen, so the group
	// never reaches its stopped milestone.
	for _, r := range cl.AllResources() {
		if !r.IsGroup() || b.pseudo(r.ID, "stop").Optional {
			continue
		}
		for _, q := range r.primitives() {
			if !q.Managed && len(q.Running) > 0 {
				b.pseudo(r.ID, "stopped").Runnable = false
			}
		}
	}
}

// demoteBefore makes a promoted resource's demote on n required before
// its stop there; the demote can run (or is implied by fencing) as the
// stop can.
func (b *builder) demoteBefore(c *change, n *Node, stop *Action) *Action {
	d := b.action(c.r, c.r.nameOn(n), "demote", 0, n)
	d.Optional = false
	d.Pseudo = stop.Pseudo
	d.Runnable = stop.Runnable
	c.demote = d
	b.order(d, stop)
	return d
}

// firstStop is the change's stop on the first node its resource is
// active on that has one (Pacemaker's find_first_action for a stop).
func (c *change) firstStop() *Action {
	for _, n := range c.r.Running {
		if st := c.stop[n.Name]; st != nil {
			return st
		}
	}
	return nil
}

// requiredStop reports whether a change stops its resource somewhere.
func requiredStop(c *change) bool {
	for _, st := range c.stop {
		if !st.Optional {
			return true
		}
	}
	return false
}

// requiredStopIn reports whether a primitive of r stops somewhere.
func requiredStopIn(changes map[*Resource]*change, r *Resource) bool {
	for _, q := range r.primitives() {
		if c := changes[q]; c != nil && requiredStop(c) {
			return true
		}
	}
	return false
}

// recoveringMember reports whether a member of group g whose start is in
// flight stops (the pending start stays a required action), with no
// member blocked or unmanaged (whose missing start leaves the group's
// start unrunnable).
func recoveringMember(changes map[*Resource]*change, g *Resource) bool {
	found := false
	for _, q := range g.primitives() {
		if !q.Managed || q.Blocked {
			return false
		}
		c := changes[q]
		if c == nil || !requiredStop(c) {
			continue
		}
		if q.pendingTask == "start" {
			found = true
		}
	}
	return found
}

// managedAssigned reports whether a managed primitive of r is placed.
func managedAssigned(r *Resource) bool {
	for _, q := range r.primitives() {
		if q.Managed && q.Assigned != nil {
			return true
		}
	}
	return false
}

// orderFirstName names the action standing for the start of an order's
// first in Pacemaker's reasons: a primitive's start (member m of the
// first), a group's running milestone, a clone's running milestone or,
// with notifications, its notified one.
func orderFirstName(first, m *Resource) string {
	switch {
	case first.IsPrimitive() && m != nil:
		return m.ID + " start"
	case first.IsPrimitive():
		return first.ID + " start"
	case first.IsClone() && first.Notify:
		return first.ID + " notified"
	}
	return first.ID + " running"
}

func firstPrimitiveID(who string, r *Resource) string {
	ps := r.primitives()
	if len(ps) > 0 && r.IsPrimitive() {
		return ps[0].ID
	}
	return who
}
