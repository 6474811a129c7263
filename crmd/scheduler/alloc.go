package scheduler

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// colocation is one rsc_colocation between two resources of the working
// state: Dep is placed relative to Prim.
type colocation struct {
	ID        string
	Dep, Prim *Resource
	Score     cib.Score
	DepRole   string
	PrimRole  string
	Attr      string
	Influence bool
}

// ordering is one rsc_order between two resources.
type ordering struct {
	ID                      string
	First, Then             *Resource
	FirstAction, ThenAction string
	Kind                    string
	Symmetrical             bool
	Score                   cib.Score
}

// placement holds the state of one scheduling run.
type placement struct {
	cl     *Cluster
	ev     *ruleEnv
	colocs []*colocation
	orders []*ordering
	// promoLoc holds role=Promoted location scores per resource and node.
	promoLoc map[*Resource]map[string]cib.Score
	scores   []string
	loops    []string
	// anonBanned records the anonymous clone bans applied (clone, base
	// resource and node).
	anonBanned map[string]bool
	// revokedTickets are the ticket dependencies whose ticket is not
	// granted or in standby (promote reads those on the Promoted role).
	revokedTickets []ticketDep
}

func (p *placement) nodeList() []*Node { return p.cl.Nodes }

// baseWeights computes the allowed nodes of every resource: the symmetric
// default, location constraints, stickiness and failures.
func (p *placement) baseWeights() {
	cl := p.cl
	p.promoLoc = map[*Resource]map[string]cib.Score{}
	for _, r := range cl.AllResources() {
		r.Allowed = map[string]cib.Score{}
		if cl.Options.SymmetricCluster && r.Parent == nil {
			for _, n := range cl.Nodes {
				r.Allowed[n.Name] = 0
			}
		}
	}
	for _, loc := range cl.CIB.Configuration.Locations() {
		var targets []*Resource
		var subs [][]string
		if loc.Rsc != "" {
			if r := cl.byID[loc.Rsc]; r != nil {
				targets = append(targets, r)
				subs = append(subs, nil)
			}
		} else if loc.RscPattern != "" {
			for _, r := range cl.AllResources() {
				if r.Parent != nil && r.Parent.IsClone() {
					continue
				}
				if m := matchPattern(loc.RscPattern, r.ID); m != nil {
					targets = append(targets, r)
					subs = append(subs, m)
				}
			}
		}
		for _, s := range loc.Sets {
			for _, id := range s.Refs {
				if r := cl.byID[id]; r != nil {
					targets = append(targets, r)
					subs = append(subs, nil)
				}
			}
		}
		for i, r := range targets {
			p.applyLocation(loc, r, subs[i])
		}
	}
	// Children of groups and clones start from their parent's nodes.
	var inherit func(r *Resource)
	inherit = func(r *Resource) {
		for _, c := range r.Children {
			for n, s := range r.Allowed {
				if old, ok := c.Allowed[n]; ok {
					c.Allowed[n] = old.Add(s)
				} else {
					c.Allowed[n] = s
				}
			}
			if pl := p.promoLoc[r]; pl != nil && r.IsClone() {
				p.promoLoc[c] = pl
			}
			inherit(c)
		}
	}
	for _, r := range cl.Resources {
		inherit(r)
	}
	p.applyTickets()
	// Stickiness and failures on primitives.
	for _, r := range cl.Primitives() {
		p.applyFailures(r)
		if len(r.Running) == 1 && r.Managed && r.Stickiness != 0 {
			n := r.Running[0]
			if s, ok := r.Allowed[n.Name]; ok || cl.Options.SymmetricCluster {
				r.Allowed[n.Name] = s.Add(r.Stickiness)
			}
		}
	}
}

func (p *placement) applyLocation(loc *cib.Location, r *Resource, sub []string) {
	role := cib.NormalizeRole(loc.Role)
	add := func(n *Node, s cib.Score) {
		if role == RolePromoted {
			m := p.promoLoc[r]
			if m == nil {
				m = map[string]cib.Score{}
				p.promoLoc[r] = m
			}
			m[n.Name] = m[n.Name].Add(s)
			return
		}
		if old, ok := r.Allowed[n.Name]; ok {
			r.Allowed[n.Name] = old.Add(s)
		} else {
			r.Allowed[n.Name] = s
		}
	}
	if loc.Node != "" {
		if n := p.cl.nodeMap[loc.Node]; n != nil {
			add(n, cib.ScoreOf(loc.Score, nil))
		}
		return
	}
	for _, rule := range loc.Rules {
		rrole := cib.NormalizeRole(rule.Role)
		if rrole != "" && role == "" {
			role = rrole
		}
		for _, n := range p.cl.Nodes {
			if !p.ev.ruleHolds(rule, n.Attrs, r.Cfg, sub) {
				continue
			}
			var s cib.Score
			if rule.ScoreAttribute != "" {
				v, ok := n.Attrs[rule.ScoreAttribute]
				if !ok {
					continue
				}
				s = cib.ScoreOf(v, nil)
			} else {
				s = cib.ScoreOf(rule.Score, nil)
			}
			add(n, s)
		}
	}
}

// failCount sums the fail counts of r on node n, leaving out failures of
// operations with on-fail=ignore, and reports whether they expired
// (failure-timeout).
func (p *placement) failCount(r *Resource, n *Node) (count int, expired bool) {
	return p.cl.failCount(r, n)
}

func (cl *Cluster) failCount(r *Resource, n *Node) (count int, expired bool) {
	name := r.Base
	if cp := r.cloneParent(); cp != nil && cp.Unique {
		name = r.ID
	} else if cp == nil {
		name = r.ID
	}
	total := 0
	last := 0
	h := r.history[n.Name]
	for k, v := range n.Attrs {
		rest, ok := strings.CutPrefix(k, "fail-count-")
		if !ok {
			continue
		}
		if rest != name && !strings.HasPrefix(rest, name+"#") {
			continue
		}
		if op, ok := strings.CutPrefix(rest, name+"#"); ok {
			task, iv, _ := strings.Cut(op, "_")
			if cl.onFail(r, task, atoiDef(iv, 0)) == "ignore" {
				continue
			}
		} else if h != nil && len(h.failedOps) > 0 {
			ignored := true
			for _, o := range h.failedOps {
				iv, _ := o.IntervalMS()
				if cl.onFail(r, o.Operation, iv) != "ignore" {
					ignored = false
				}
			}
			if ignored {
				continue
			}
		}
		total = int(cib.Score(total).Add(cib.Score(atoiDef(v, 0))))
	}
	for k, v := range n.Attrs {
		if rest, ok := strings.CutPrefix(k, "last-failure-"); ok && (rest == name || strings.HasPrefix(rest, name+"#")) {
			if t := atoiDef(v, 0); t > last {
				last = t
			}
		}
	}
	if total > 0 && r.FailureTimeout > 0 && last > 0 && !cl.Now.IsZero() {
		if int64(last)+int64(r.FailureTimeout.Seconds()) <= cl.Now.Unix() {
			return total, true
		}
	}
	return total, false
}

func (p *placement) applyFailures(r *Resource) {
	for _, n := range p.cl.Nodes {
		h := r.history[n.Name]
		ban := false
		if h != nil && (h.hardBan || (h.failedStart && p.cl.Options.StartFailureIsFatal)) {
			ban = true
		}
		if fc, exp := p.failCount(r, n); !exp && fc > 0 && r.MigrationThreshold > 0 && fc >= r.MigrationThreshold {
			ban = true
		}
		if !ban {
			continue
		}
		target := r
		if cp := r.cloneParent(); cp != nil && !cp.Unique {
			// An anonymous clone is banned as a whole, once per node
			// (every instance's failure bans the same instances: doing it
			// again would make the work quadratic in clone-max).
			key := cp.ID + "|" + r.Base + "|" + n.Name
			if p.anonBanned[key] {
				continue
			}
			if p.anonBanned == nil {
				p.anonBanned = map[string]bool{}
			}
			p.anonBanned[key] = true
			// Pacemaker bans the clone itself (its top resource), which
			// is what the resources colocated with it see.
			top := cp
			for top.Parent != nil {
				top = top.Parent
			}
			if top.Allowed != nil {
				top.Allowed[n.Name] = -cib.Infinity
			}
			for _, inst := range cp.Children {
				for _, q := range inst.primitives() {
					if q.Base == r.Base {
						q.Allowed[n.Name] = -cib.Infinity
					}
				}
			}
			continue
		}
		target.Allowed[n.Name] = -cib.Infinity
	}
}

// nodeScore is what a resource's table says of n, -INFINITY for a node
// that cannot run resources or is absent.
func (p *placement) nodeScore(w map[string]cib.Score, n *Node) cib.Score {
	s, ok := w[n.Name]
	if !ok || !n.canRun() {
		return -cib.Infinity
	}
	return s
}

func canRunAny(p *placement, w map[string]cib.Score) bool {
	for _, n := range p.cl.Nodes {
		if s, ok := w[n.Name]; ok && s >= 0 && n.canRun() {
			return true
		}
	}
	return false
}

func copyWeights(w map[string]cib.Score) map[string]cib.Score {
	out := make(map[string]cib.Score, len(w))
	for k, v := range w {
		out[k] = v
	}
	return out
}

// unitWeights are the node scores of a resource as a placement unit: a
// primitive's own, a group's members summed, a clone's own.
func (p *placement) unitWeights(r *Resource) map[string]cib.Score {
	if r.IsGroup() && len(r.Children) > 0 {
		w := copyWeights(r.Children[0].Allowed)
		for _, c := range r.Children[1:] {
			work := copyWeights(w)
			for n, s := range work {
				cs, ok := c.Allowed[n]
				if !ok {
					cs = -cib.Infinity
				}
				work[n] = s.Add(cs)
			}
			if !canRunAny(p, work) {
				continue
			}
			w = work
		}
		return w
	}
	return copyWeights(r.Allowed)
}

func scaleScore(s cib.Score, factor float64) cib.Score {
	if factor == 1 {
		return s
	}
	f := float64(s) * factor
	if f < 0 {
		f -= 0.5
	} else {
		f += 0.5
	}
	v := int64(math.Trunc(f))
	if v >= int64(cib.Infinity) {
		return cib.Infinity
	}
	if v <= -int64(cib.Infinity) {
		return -cib.Infinity
	}
	return cib.Score(v)
}

// mergeWeights adds the preferences of r (and, recursively, of the
// resources colocated with r) scaled by factor to w, the way Pacemaker
// merges the node scores of dependent resources into their primary's.
// With positive (Pacemaker's pe_weights_positive, used when merging into a
// clone), a dependent cannot make a node negative: a node with a positive
// score that would turn negative keeps the score 1, one with 0 keeps 0.
func (p *placement) mergeWeights(r *Resource, w map[string]cib.Score, factor float64, depth int, positive bool) map[string]cib.Score {
	if r.merging || depth > 20 {
		return w
	}
	r.merging = true
	defer func() { r.merging = false }()
	rw := p.unitWeights(r)
	work := copyWeights(w)
	for _, n := range p.cl.Nodes {
		cur, ok := work[n.Name]
		if !ok || cur == pinnedPositive {
			continue
		}
		s := p.nodeScore(rw, n)
		if factor < 0 && s < 0 {
			continue
		}
		next := cur.Add(scaleScore(s, factor))
		if positive && next < 0 && cur >= 0 {
			if cur > 0 {
				work[n.Name] = pinnedPositive
			}
			continue
		}
		work[n.Name] = next
	}
	if !canRunAny(p, work) {
		return w
	}
	mult := 1.0
	if factor < 0 {
		mult = -1
	}
	for _, c := range p.colocs {
		if c.Prim != r || !c.Influence || c.Dep.allocated {
			continue
		}
		work = p.mergeWeights(c.Dep, work, mult*float64(c.Score)/float64(cib.Infinity), depth+1, positive)
	}
	if positive {
		for k, v := range work {
			if v == pinnedPositive {
				work[k] = 1
			}
		}
	}
	return work
}

// pinnedPositive marks, during a positive-only merge, a node whose
// positive score a dependent tried to make negative: later dependents
// leave it alone and it ends up as 1. It counts as a node that cannot run
// the resource until then, as Pacemaker's INFINITY_HACK does.
const pinnedPositive = -100 * cib.Infinity

// topOf returns the placement unit of r: the resource itself unless it is
// a group member (the group) — clone instances are their own units.
func topOf(r *Resource) *Resource {
	for r.Parent != nil && r.Parent.IsGroup() {
		r = r.Parent
	}
	return r
}

// sortWeights are the node scores a resource is ordered by for placement:
// its own table (a group's first member's, which holds the group's), with
// no node availability applied. Pacemaker's cmp_resources also merges in
// the scores of the resources it is colocated with; that is not done here.
func (p *placement) sortWeights(r *Resource) map[string]cib.Score {
	u := r
	if r.IsGroup() && len(r.Children) > 0 {
		u = r.Children[0]
	}
	return copyWeights(u.Allowed)
}

// sortedTops orders the top-level resources for placement as Pacemaker
// does: by priority, in configuration order; with a placement strategy
// other than default, as its cmp_resources: higher priority first, then
// the higher score on the node a resource runs on (not running counts as
// -INFINITY), then the higher score on each node in turn (nodes that can
// run resources first; with the balanced strategy the ones with more
// capacity first; then by name); ties keep the configuration order.
func (p *placement) sortedTops() []*Resource {
	tops := append([]*Resource(nil), p.cl.Resources...)
	nodes := append([]*Node(nil), p.cl.Nodes...)
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if a.canRun() != b.canRun() {
			return a.canRun()
		}
		if p.cl.Options.PlacementStrategy == "balanced" {
			if c := compareCapacity(a, b); c != 0 {
				return c > 0
			}
		}
		return a.Name < b.Name
	})
	w := map[*Resource]map[string]cib.Score{}
	cur := map[*Resource]cib.Score{}
	for _, r := range tops {
		w[r] = p.sortWeights(r)
		cur[r] = -cib.Infinity
		if n := r.currentNode(); n != nil {
			if s, ok := w[r][n.Name]; ok {
				cur[r] = s
			}
		}
	}
	score := func(r *Resource, n *Node) cib.Score {
		if s, ok := w[r][n.Name]; ok {
			return s
		}
		return -cib.Infinity
	}
	sort.SliceStable(tops, func(i, j int) bool {
		a, b := tops[i], tops[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		if p.cl.Options.PlacementStrategy == "default" {
			return false
		}
		if cur[a] != cur[b] {
			return cur[a] > cur[b]
		}
		for _, n := range nodes {
			if sa, sb := score(a, n), score(b, n); sa != sb {
				return sa > sb
			}
		}
		return false
	})
	return tops
}

// allocate places every resource.
func (p *placement) allocate() {
	for _, r := range p.sortedTops() {
		p.allocateUnit(r)
	}
	p.interleave()
}

// interleave applies mandatory start orders between interleaved clones
// after placement: an instance of the then clone may only run on a node
// where an instance of the first clone is placed, since with interleave it
// waits for that one instance and no other. An instance without one is
// taken off its node (Pacemaker does this when it links the instances'
// actions). Taking one off can leave a later clone's instance without its
// partner, so this repeats until nothing changes.
func (p *placement) interleave() {
	for changed := true; changed; {
		changed = false
		for _, o := range p.orders {
			if o.Kind != "Mandatory" || o.FirstAction != "start" || o.ThenAction != "start" ||
				!o.First.IsClone() || !o.Then.IsClone() || o.First == o.Then || !o.Then.Interleave {
				continue
			}
			placed := map[*Node]bool{}
			for _, fi := range o.First.Children {
				if fi.Assigned != nil {
					placed[fi.Assigned] = true
				}
			}
			for _, ti := range o.Then.Children {
				if ti.Assigned != nil && !placed[ti.Assigned] {
					unassign(ti)
					changed = true
				}
			}
		}
	}
}

// unassign takes r (and its members) off the node placement chose.
func unassign(r *Resource) {
	if r.Assigned != nil {
		r.Assigned.numRsc--
		r.Assigned = nil
	}
	for _, c := range r.Children {
		unassign(c)
	}
}

func (p *placement) allocateUnit(r *Resource) {
	if r.allocated || r.allocating {
		if r.allocating && !r.allocated {
			p.loops = append(p.loops, r.ID)
		}
		return
	}
	r.allocating = true
	defer func() { r.allocating = false; r.allocated = true }()
	// Primaries first, then their influence on our scores.
	var w map[string]cib.Score
	if r.IsClone() {
		w = copyWeights(r.Allowed)
	} else {
		w = p.unitWeights(r)
	}
	for _, c := range p.colocs {
		if c.Dep != r {
			continue
		}
		p.allocateUnit(c.Prim)
		if !c.Prim.allocated {
			// A colocation loop: the primary is not placed yet, so the
			// constraint cannot say anything.
			continue
		}
		w = p.applyColocation(c, w)
	}
	for _, c := range p.colocs {
		if c.Prim != r || !c.Influence || c.Dep.allocated || c.Dep.allocating {
			continue
		}
		w = p.mergeWeights(c.Dep, w, float64(c.Score)/float64(cib.Infinity), 0, r.IsClone())
	}
	r.placedWith = w
	switch {
	case r.IsClone():
		p.allocateClone(r, w)
	case r.IsGroup():
		p.allocateGroup(r, w)
	default:
		r.Assigned = p.chooseNode(r, w)
		if r.Assigned != nil {
			r.Assigned.numRsc++
			p.consume(r, r.Assigned)
		}
	}
}

// primaryNodes returns the nodes where the primary of a colocation is (or
// will be) in the role the colocation names.
func (p *placement) primaryNodes(c *colocation) map[string]bool {
	out := map[string]bool{}
	prim := c.Prim
	if prim.IsClone() {
		for _, inst := range prim.Children {
			if inst.assignedNode() == nil {
				continue
			}
			if c.PrimRole == RolePromoted && inst.nextRole() != RolePromoted {
				continue
			}
			if c.PrimRole == RoleUnpromoted && inst.nextRole() == RolePromoted {
				continue
			}
			out[inst.assignedNode().Name] = true
		}
		return out
	}
	n := prim.assignedNode()
	if prim.IsGroup() && c.Score >= cib.Infinity && len(prim.Children) > 0 {
		n = prim.Children[len(prim.Children)-1].Assigned
	}
	if n != nil {
		if c.PrimRole == RolePromoted && prim.nextRole() != RolePromoted {
			return out
		}
		out[n.Name] = true
	}
	return out
}

func (r *Resource) assignedNode() *Node {
	if r.IsPrimitive() {
		return r.Assigned
	}
	if r.IsGroup() && len(r.Children) > 0 {
		return r.Children[0].assignedNode()
	}
	return r.Assigned
}

func (r *Resource) nextRole() string {
	if r.IsPrimitive() {
		return r.NextRole
	}
	if r.IsGroup() && len(r.Children) > 0 {
		return r.Children[0].nextRole()
	}
	return r.NextRole
}

func (p *placement) nodesMatching(c *colocation, names map[string]bool) map[string]bool {
	if c.Attr == "" || c.Attr == "#uname" {
		return names
	}
	vals := map[string]bool{}
	for name := range names {
		if n := p.cl.nodeMap[name]; n != nil {
			if v, ok := n.Attrs[c.Attr]; ok {
				vals[v] = true
			}
		}
	}
	out := map[string]bool{}
	for _, n := range p.cl.Nodes {
		if v, ok := n.Attrs[c.Attr]; ok && vals[v] {
			out[n.Name] = true
		}
	}
	return out
}

// applyColocation applies a colocation to the dependent's scores once the
// primary is placed.
func (p *placement) applyColocation(c *colocation, w map[string]cib.Score) map[string]cib.Score {
	if c.DepRole == RolePromoted || c.DepRole == RoleUnpromoted {
		// Role-specific dependents are handled at promotion.
		if c.Dep.IsClone() && c.Dep.Promotable {
			return w
		}
	}
	nodes := p.nodesMatching(c, p.primaryNodes(c))
	work := copyWeights(w)
	for name, s := range work {
		if nodes[name] {
			if c.Score <= -cib.Infinity {
				work[name] = -cib.Infinity
			} else if c.Score < cib.Infinity {
				work[name] = s.Add(c.Score)
			}
		} else if c.Score >= cib.Infinity {
			work[name] = -cib.Infinity
		}
	}
	if c.Score >= cib.Infinity || c.Score <= -cib.Infinity || canRunAny(p, work) {
		return work
	}
	return w
}

// chooseNode picks the best node of w for r: highest score, then fewest
// resources placed (except with placement-strategy minimal), then the node
// it runs on, then the name.
func (p *placement) chooseNode(r *Resource, w map[string]cib.Score) *Node {
	if r.TargetRole == RoleStopped || (r.Parent != nil && inheritedStopped(r)) {
		return nil
	}
	if !r.Managed {
		if len(r.Running) > 0 {
			return r.Running[0]
		}
		return nil
	}
	if r.StopOnly || r.Orphan {
		// Orphans (history of resources no longer configured) only stop.
		return nil
	}
	cur := r.currentNode()
	var best *Node
	var bestScore cib.Score
	for _, n := range p.cl.Nodes {
		s := p.nodeScore(w, n)
		if s < 0 || !p.fits(r, n) {
			continue
		}
		if best == nil || p.better(n, s, best, bestScore, cur) {
			best, bestScore = n, s
		}
	}
	return best
}

func inheritedStopped(r *Resource) bool {
	for q := r.Parent; q != nil; q = q.Parent {
		if q.TargetRole == RoleStopped {
			return true
		}
	}
	return false
}

func (p *placement) better(n *Node, s cib.Score, b *Node, bs cib.Score, cur *Node) bool {
	if s != bs {
		return s > bs
	}
	strategy := p.cl.Options.PlacementStrategy
	if strategy == "balanced" {
		if c := compareCapacity(n, b); c != 0 {
			return c > 0
		}
	}
	if strategy != "minimal" {
		if n.numRsc != b.numRsc {
			return n.numRsc < b.numRsc
		}
		if cur != nil {
			if n == cur {
				return true
			}
			if b == cur {
				return false
			}
		}
	}
	return naturalLess(n.Name, b.Name)
}

// utilization of a resource.
func (r *Resource) utilization() map[string]int {
	if r.Cfg == nil {
		return nil
	}
	out := map[string]int{}
	for k, v := range cib.Effective(nil, r.Cfg.Utilization, "", nil) {
		out[k], _ = strconv.Atoi(v)
	}
	return out
}

func (p *placement) fits(r *Resource, n *Node) bool {
	if p.cl.Options.PlacementStrategy == "default" {
		return true
	}
	left := n.capacityLeft()
	need := map[string]int{}
	for _, q := range topOf(r).primitives() {
		for k, v := range q.utilization() {
			need[k] += v
		}
	}
	if r.IsPrimitive() && r.Parent != nil && r.Parent.IsGroup() {
		need = r.utilization()
	}
	for k, v := range need {
		if left[k] < v {
			return false
		}
	}
	return true
}

func (p *placement) consume(r *Resource, n *Node) {
	if p.cl.Options.PlacementStrategy == "default" || n == nil {
		return
	}
	p.fits(r, n)
	for k, v := range r.utilization() {
		n.remaining[k] -= v
	}
}

// compareCapacity compares the capacity left on two nodes as Pacemaker's
// balanced strategy does: one point for each utilization attribute a has
// more of, minus one for each it has less of (an attribute a node does not
// list counts as 0). Positive means a has more room.
func compareCapacity(a, b *Node) int {
	ra, rb := a.capacityLeft(), b.capacityLeft()
	result := 0
	cmp := func(x, y int) {
		switch {
		case x > y:
			result++
		case x < y:
			result--
		}
	}
	for k, v := range ra {
		cmp(v, rb[k])
	}
	for k, v := range rb {
		if _, ok := ra[k]; !ok {
			cmp(0, v)
		}
	}
	return result
}

// capacityLeft is the node's utilization minus what placement has given
// it so far.
func (n *Node) capacityLeft() map[string]int {
	if n.remaining == nil {
		n.remaining = map[string]int{}
		for k, v := range n.Utilization {
			n.remaining[k] = v
		}
	}
	return n.remaining
}

func (p *placement) allocateGroup(g *Resource, w map[string]cib.Score) {
	if len(g.Children) == 0 {
		return
	}
	first := g.Children[0]
	n := p.chooseNode(first, w)
	if n == nil {
		// Members are colocated with the first: none can run.
		for _, c := range g.Children {
			c.allocated = true
		}
		return
	}
	for _, c := range g.Children {
		c.allocated = true
		if !c.Managed {
			// An unmanaged member stays where it is, whatever its
			// scores; the next member is colocated with it there.
			n = nil
			if len(c.Running) > 0 {
				c.Assigned = c.Running[0]
				n = c.Assigned
			}
			continue
		}
		if n == nil {
			continue
		}
		s, ok := c.Allowed[n.Name]
		if !n.canRun() || c.TargetRole == RoleStopped || (ok && s <= -cib.Infinity) || (!ok && !p.cl.Options.SymmetricCluster && c != first && len(c.Allowed) > 0) || c.StopOnly {
			n = nil
			continue
		}
		c.Assigned = n
		p.consume(c, n)
		n.numRsc++
	}
}

// allocateClone places a clone's instances.
func (p *placement) allocateClone(cl *Resource, w map[string]cib.Score) {
	insts := cl.Children
	perNode := map[string]int{}
	max := cl.CloneMax
	nodeMax := cl.CloneNodeMax
	avail := 0
	for _, n := range p.cl.Nodes {
		if p.nodeScore(w, n) >= 0 {
			avail++
		}
	}
	optimal := 0
	if avail > 0 {
		optimal = (max + avail - 1) / avail
		if optimal > nodeMax {
			optimal = nodeMax
		}
	}
	count := 0
	assign := func(inst *Resource, n *Node) {
		for _, q := range inst.primitives() {
			q.allocated = true
		}
		inst.allocated = true
		if inst.IsGroup() {
			for _, q := range inst.Children {
				q.Assigned = n
				n.numRsc++
			}
		} else {
			inst.Assigned = n
			n.numRsc++
		}
		perNode[n.Name]++
		count++
	}
	// An instance chooses by its own scores (the clone's locations, its
	// stickiness and failures); the clone's colocations only rule out the
	// nodes where the clone as a whole may not run, as Pacemaker's
	// can_run_instance does.
	instWeights := func(inst *Resource) map[string]cib.Score {
		iw := map[string]cib.Score{}
		for name, s := range p.unitWeights(inst) {
			if cw, ok := w[name]; !ok || cw < 0 {
				continue
			}
			iw[name] = s
		}
		if cl.Promotable {
			p.addPromotionScores(cl, inst, iw)
		}
		return iw
	}
	stopped := cl.TargetRole == RoleStopped
	insts = p.sortInstances(cl, insts)
	// Instances keep their current node when they can.
	for _, inst := range insts {
		if stopped || count >= max || inst.Orphan {
			break
		}
		cur := inst.currentNode()
		if cur == nil || inst.anyFailed() {
			// A failed instance is not kept in place first: it is
			// placed with the others.
			continue
		}
		iw := instWeights(inst)
		if p.nodeScore(iw, cur) < 0 || perNode[cur.Name] >= optimal {
			continue
		}
		if !p.bestNode(iw, cur, perNode, nodeMax) {
			// An instance stays only where it would choose to go
			// (allocate_instance with a preferred node): a promotable
			// instance, for one, moves to where it will be promoted.
			continue
		}
		if !allManaged(inst) {
			continue
		}
		assign(inst, cur)
	}
	for _, inst := range insts {
		if inst.allocated {
			continue
		}
		if !allManaged(inst) {
			inst.allocated = true
			for _, q := range inst.primitives() {
				q.allocated = true
				if len(q.Running) > 0 {
					q.Assigned = q.Running[0]
				}
			}
			continue
		}
		if stopped || count >= max || inst.Orphan {
			inst.allocated = true
			for _, q := range inst.primitives() {
				q.allocated = true
			}
			continue
		}
		iw := instWeights(inst)
		for name := range iw {
			if perNode[name] >= nodeMax {
				iw[name] = -cib.Infinity
			}
		}
		var n *Node
		if inst.IsGroup() {
			n = p.chooseNode(inst.Children[0], iw)
		} else {
			n = p.chooseNode(inst, iw)
		}
		if n == nil {
			inst.allocated = true
			for _, q := range inst.primitives() {
				q.allocated = true
			}
			continue
		}
		assign(inst, n)
	}
	for _, inst := range insts {
		for _, q := range inst.primitives() {
			if q.Assigned != nil && q.NextRole == "" {
				q.NextRole = RoleStarted
			}
		}
	}
	if cl.Promotable {
		p.promote(cl)
	}
}

// sortInstances orders a clone's instances for placement as Pacemaker's
// pcmk__cmp_instance: of two active instances the one active on fewer
// nodes; one not active on a node it is no longer allowed on (an inactive
// one counts as such); the higher priority; an active one; one whose node
// can run resources; one whose clone is allowed on its node; one that did
// not fail; then the instance number. An instance active where it may no
// longer run thus comes after the inactive ones, which take the free
// nodes first: Pacemaker stops it and starts another instance rather than
// moving it.
func (p *placement) sortInstances(cl *Resource, insts []*Resource) []*Resource {
	type key struct {
		nnodes  int
		node    *Node
		allowed bool
		failed  bool
	}
	keys := map[*Resource]key{}
	for _, inst := range insts {
		k := key{failed: inst.anyFailed()}
		for _, q := range inst.primitives() {
			if len(q.Running) > k.nnodes {
				k.nnodes = len(q.Running)
			}
		}
		k.node = inst.currentNode()
		k.allowed = true
		if k.node != nil {
			w := inst.Allowed
			if inst.IsGroup() && len(inst.Children) > 0 {
				w = inst.Children[0].Allowed
			}
			if s, ok := w[k.node.Name]; !ok || s < 0 {
				k.allowed, k.node = false, nil
			}
		}
		keys[inst] = k
	}
	out := append([]*Resource(nil), insts...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := keys[out[i]], keys[out[j]]
		if a.nnodes > 0 && b.nnodes > 0 && a.nnodes != b.nnodes {
			return a.nnodes < b.nnodes
		}
		if a.allowed != b.allowed {
			return a.allowed
		}
		if out[i].Priority != out[j].Priority {
			return out[i].Priority > out[j].Priority
		}
		if (a.node == nil) != (b.node == nil) {
			return a.node != nil
		}
		if a.node == nil {
			return false
		}
		if ca, cb := a.node.canRun(), b.node.canRun(); ca != cb {
			return ca
		}
		_, pa := cl.Allowed[a.node.Name]
		_, pb := cl.Allowed[b.node.Name]
		if pa != pb {
			return pa
		}
		if a.failed != b.failed {
			return !a.failed
		}
		return false
	})
	return out
}

// anyFailed reports whether any primitive of r failed.
func (r *Resource) anyFailed() bool {
	for _, q := range r.primitives() {
		if q.Failed {
			return true
		}
	}
	return false
}

func allManaged(r *Resource) bool {
	for _, q := range r.primitives() {
		if !q.Managed {
			return false
		}
	}
	return true
}

// bestNode reports whether cur scores at least as high as every other
// node an instance could take (one below clone-node-max).
func (p *placement) bestNode(iw map[string]cib.Score, cur *Node, perNode map[string]int, nodeMax int) bool {
	cs := p.nodeScore(iw, cur)
	for _, n := range p.cl.Nodes {
		if n == cur || perNode[n.Name] >= nodeMax {
			continue
		}
		if s := p.nodeScore(iw, n); s > cs {
			return false
		}
	}
	return true
}

// addPromotionScores adds an instance's positive promotion scores to its
// node scores before it is placed, as pcmk__add_promotion_scores does, so
// that an instance goes where it will be promoted. Nodes that cannot run
// resources get none (that would shuffle instances for nothing).
func (p *placement) addPromotionScores(cl, inst *Resource, iw map[string]cib.Score) {
	for _, n := range p.cl.Nodes {
		s, ok := iw[n.Name]
		if !ok || !n.canRun() || s < 0 || !p.promotionScoreApplies(cl, inst, n) {
			continue
		}
		if v, _ := promotionAttr(cl, inst, n); v > 0 {
			iw[n.Name] = s.Add(v)
		}
	}
}

// promotionAttr is the sum of the promotion score attributes of an
// instance's primitives on n, and whether any was set. Each primitive's is
// master-NAME with the name its history knows it by (its instance id when
// it has no history), and for an anonymous clone master-BASE (or
// promotion-BASE) when that is unset.
func promotionAttr(cl, inst *Resource, n *Node) (cib.Score, bool) {
	var total cib.Score
	found := false
	for _, q := range inst.primitives() {
		name := q.cloneName
		if name == "" {
			name = q.ID
		}
		names := []string{"master-" + name}
		if !cl.Unique {
			names = append(names, "master-"+q.Base, "promotion-"+q.Base)
		}
		for _, name := range names {
			if v, ok := n.Attrs[name]; ok {
				total = total.Add(cib.ScoreOf(v, nil))
				found = true
				break
			}
		}
	}
	return total, found
}

// promotionScoreApplies says whether an instance's promotion score on n
// counts, as promotion_score_applies: for anonymous clones, when it is the
// instance active there, or no instance is active there but one was
// probed there; then, when the instance is known nowhere (cluster
// start-up), or is known or active on n.
func (p *placement) promotionScoreApplies(cl, inst *Resource, n *Node) bool {
	known := func(r *Resource, n *Node) bool {
		for _, q := range r.primitives() {
			if h := q.history[n.Name]; h != nil && h.known {
				return true
			}
		}
		return false
	}
	active := func(r *Resource, n *Node) bool {
		for _, q := range r.primitives() {
			for _, m := range q.Running {
				if m == n {
					return true
				}
			}
		}
		return false
	}
	if !cl.Unique {
		var act *Resource
		anyKnown := false
		for _, other := range cl.Children {
			if act == nil && active(other, n) {
				act = other
			}
			anyKnown = anyKnown || known(other, n)
		}
		if act == inst || (act == nil && anyKnown) {
			return true
		}
	}
	knownSomewhere := false
	for _, m := range p.cl.Nodes {
		if known(inst, m) || active(inst, m) {
			knownSomewhere = true
			break
		}
	}
	return !knownSomewhere || known(inst, n) || active(inst, n)
}

// promotionScore is an instance's promotion score on its assigned node.
func (p *placement) promotionScore(cl, inst *Resource) (cib.Score, bool) {
	n := inst.assignedNode()
	if n == nil {
		return -cib.Infinity, false
	}
	var total cib.Score
	found := false
	if p.promotionScoreApplies(cl, inst, n) {
		total, found = promotionAttr(cl, inst, n)
	}
	if m := p.promoLoc[cl]; m != nil {
		if s, ok := m[n.Name]; ok {
			total = total.Add(s)
			found = true
		}
	}
	for _, c := range p.colocs {
		if c.Dep == cl && c.DepRole == RolePromoted {
			nodes := p.nodesMatching(c, p.primaryNodes(c))
			if nodes[n.Name] {
				total = total.Add(c.Score)
			} else if c.Score >= cib.Infinity {
				total = -cib.Infinity
			}
			found = true
		}
	}
	if inst.Role == RolePromoted && len(inst.Running) > 0 && inst.Running[0] == n {
		found = true
	}
	return total, found
}

func (p *placement) promote(cl *Resource) {
	type cand struct {
		inst  *Resource
		score cib.Score
	}
	var cands []cand
	for _, inst := range cl.Children {
		if inst.assignedNode() == nil || p.promotionRevoked(cl) {
			continue
		}
		if !allManaged(inst) {
			// An unmanaged instance keeps its role: one promoted stays
			// promoted (first of all), any other cannot be promoted.
			if inst.Role == RolePromoted {
				cands = append(cands, cand{inst, cib.Infinity})
			}
			continue
		}
		s, ok := p.promotionScore(cl, inst)
		if !ok || s < 0 {
			continue
		}
		cands = append(cands, cand{inst, s})
	}
	// Resources colocated with the promoted role pull promotion toward
	// the nodes they prefer (apply_coloc_to_primary): their scores are
	// merged into a node table holding each candidate's score, positive
	// only, so a node they reject keeps a promotion score of at least 1.
	var deps []*colocation
	for _, c := range p.colocs {
		if c.Prim == cl && c.PrimRole == RolePromoted && c.Influence && c.Dep != cl {
			deps = append(deps, c)
		}
	}
	if len(deps) > 0 && len(cands) > 0 {
		table := map[string]cib.Score{}
		for _, n := range p.cl.Nodes {
			table[n.Name] = 0
		}
		for _, c := range cands {
			n := c.inst.assignedNode()
			table[n.Name] = table[n.Name].Add(c.score)
		}
		for _, c := range deps {
			table = p.mergeWeights(c.Dep, table, float64(c.Score)/float64(cib.Infinity), 0, true)
		}
		for i := range cands {
			cands[i].score = table[cands[i].inst.assignedNode().Name]
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		ai := cands[i].inst.Role == RolePromoted
		aj := cands[j].inst.Role == RolePromoted
		return ai && !aj
	})
	promoted := 0
	perNode := map[string]int{}
	for _, c := range cands {
		n := c.inst.assignedNode()
		tr := c.inst.TargetRole
		if tr == "" {
			tr = cl.TargetRole
		}
		if promoted >= cl.PromotedMax || perNode[n.Name] >= cl.PromotedNodeMax || tr == RoleUnpromoted || tr == RoleStarted && false {
			continue
		}
		if !p.cl.Quorate && p.cl.Options.NoQuorumPolicy == "demote" {
			continue
		}
		promoted++
		perNode[n.Name]++
		for _, q := range c.inst.primitives() {
			q.NextRole = RolePromoted
		}
		c.inst.promoteScore = c.score
	}
	for _, inst := range cl.Children {
		for _, q := range inst.primitives() {
			if q.Assigned != nil && q.NextRole != RolePromoted {
				q.NextRole = RoleUnpromoted
			}
		}
	}
}

// naturalLess compares node names the way Pacemaker sorts them: runs of
// digits compare as numbers, the rest case-insensitively.
func naturalLess(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si := i
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			sj := j
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na, _ := strconv.ParseInt(a[si:i], 10, 64)
			nb, _ := strconv.ParseInt(b[sj:j], 10, 64)
			if na != nb {
				return na < nb
			}
			continue
		}
		la, lb := toLower(ca), toLower(cb)
		if la != lb {
			return la < lb
		}
		i++
		j++
	}
	return len(a)-i < len(b)-j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func toLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
