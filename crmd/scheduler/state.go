package scheduler

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// Roles as crm_mon prints them.
const (
	RoleStopped    = "Stopped"
	RoleStarted    = "Started"
	RoleUnpromoted = "Unpromoted"
	RolePromoted   = "Promoted"
)

func roleRank(r string) int {
	switch r {
	case RoleStarted:
		return 1
	case RoleUnpromoted:
		return 2
	case RolePromoted:
		return 3
	}
	return 0
}

// Options are the cluster properties the scheduler uses, with Pacemaker's
// defaults.
type Options struct {
	StonithEnabled        bool
	SymmetricCluster      bool
	NoQuorumPolicy        string
	StartFailureIsFatal   bool
	MaintenanceMode       bool
	StopOrphanResources   bool
	PlacementStrategy     string
	StonithAction         string
	ConcurrentFencing     bool
	DefaultStickiness     cib.Score
	DefaultMigrationLimit int
}

// Node is a cluster node as the scheduler sees it.
type Node struct {
	Name        string
	ID          string
	Online      bool
	Unclean     bool
	Standby     bool
	Pending     bool
	Maintenance bool
	Shutdown    bool
	ExpectedUp  bool
	// Fence is set when the node must be fenced; FenceReason says why.
	Fence       bool
	FenceReason string
	// Attrs are the node's attributes for rules: its configured instance
	// attributes, its transient attributes and #uname, #id, #kind.
	Attrs       map[string]string
	Utilization map[string]int
	Weight      cib.Score

	numRsc    int
	remaining map[string]int
	hasState  bool
	// lrmIDs are the resource ids the node's history has entries for.
	lrmIDs map[string]bool
}

// canRun reports whether resources may be placed on the node.
func (n *Node) canRun() bool {
	return n != nil && n.Online && !n.Unclean && !n.Standby && !n.Shutdown && !n.Pending && !n.Maintenance
}

// Resource is a resource of the working state: a primitive, a group, a
// clone, or one instance of a clone's child.
type Resource struct {
	// ID is the id as Pacemaker names it: "rsc", or "child:2" for an
	// instance of a clone.
	ID string
	// Base is the configured id ("child").
	Base     string
	Kind     cib.ResourceKind
	Cfg      *cib.Resource
	Parent   *Resource
	Children []*Resource
	Meta     map[string]string

	Promotable, Unique           bool
	CloneMax, CloneNodeMax       int
	PromotedMax, PromotedNodeMax int
	Notify, Interleave, Ordered  bool
	Priority                     int
	Stickiness                   cib.Score
	Managed                      bool
	TargetRole                   string
	MigrationThreshold           int
	FailureTimeout               time.Duration
	Orphan                       bool
	Critical                     bool
	// Maintenance is set by the maintenance meta attribute or a node in
	// maintenance the resource runs on: it is left alone and its monitors
	// are cancelled.
	Maintenance bool
	// maintenanceMeta is set by the maintenance meta attribute itself
	// (not by running on a node in maintenance).
	maintenanceMeta bool

	// Current state (primitives).
	Running []*Node
	Role    string
	Failed  bool
	// FailureIgnored is set when a failure happened with on-fail=ignore.
	FailureIgnored bool
	Blocked        bool
	// StopOnly is set by on-fail=stop: the resource must stop and stay
	// stopped.
	StopOnly bool
	// cloneName is the name an anonymous clone instance's history was
	// recorded under ("child:3", or "child" without a number).
	cloneName string
	// historyUnderBase is set on an anonymous clone when some node's
	// history knows one of its instances by the bare configured id.
	historyUnderBase bool
	// pendingTask is an operation in flight, on pendingNode.
	pendingTask string
	pendingNode *Node
	// ops seen per node: key "rsc_monitor_10000" → whether active.
	history map[string]*nodeHistory

	// Placement.
	Allowed  map[string]cib.Score
	Assigned *Node
	NextRole string
	// promoteScore is the promotion score of an instance.
	promoteScore cib.Score

	allocating, allocated, merging bool
	// placedWith are the node scores the resource was placed by, after
	// colocations (kept for Explain).
	placedWith map[string]cib.Score
	// fixedStop is set when the resource cannot be placed at all (for
	// example disabled by target-role).
	banReason string
}

type nodeHistory struct {
	seen bool
	// known is set when an operation tells the resource's state on the
	// node: a history of expired failures only says nothing, and the
	// resource is probed there again (Pacemaker's known_on).
	known     bool
	recurring map[int]bool // intervals of recurring monitors active
	failedOps []*cib.LRMRscOp
	lastRC    int
	// failedStart is set when the last start failed; hardBan when a
	// failure means the resource can never run on the node.
	failedStart, hardBan bool
	// clearFailcount is set when an expired failure's fail count must be
	// cleared.
	clearFailcount bool
	// ops are the recorded operations in call order.
	ops []opRec
}

// IsPrimitive reports whether r is a primitive (or a clone instance of one).
func (r *Resource) IsPrimitive() bool { return r.Kind == cib.KindPrimitive }

// nameOn is the name an action on r on node n carries, as crm_simulate
// shows it: for an instance of an anonymous clone, the name the node's
// history knows it by — its configured id if the node has history under
// that name, else the name its history was recorded under (or its
// instance id) if the node has history under that, else its configured
// id; anything else by its id.
func (r *Resource) nameOn(n *Node) string {
	cp := r.cloneParent()
	if cp == nil || cp.Unique {
		return r.ID
	}
	if n == nil || n.lrmIDs[r.Base] {
		return r.Base
	}
	long := r.cloneName
	if long == "" {
		long = r.ID
	}
	if n.lrmIDs[long] {
		return long
	}
	return r.Base
}

// shownName is the name crm_simulate prints for an action on r. It looks
// the graph's id (the configured id of an anonymous instance) up among the
// resources of the input: only an instance whose history carries the bare
// id is found that way, on any node. Otherwise it prints the long id: the
// name an active instance's history was recorded under, or the instance id
// (crm_simulate shows an inactive instance by its instance id whatever
// name its probes were recorded under).
func (r *Resource) shownName() string {
	cp := r.cloneParent()
	if cp == nil || cp.Unique || cp.historyUnderBase {
		return r.nameOn(nil)
	}
	if r.cloneName != "" && len(r.Running) > 0 {
		return r.cloneName
	}
	return r.ID
}

// IsStonith reports whether r is a fencing device.
func (r *Resource) IsStonith() bool { return r.Cfg != nil && r.Cfg.Class == "stonith" }

// Pending returns an operation of the resource recorded as in flight (sent
// but without a result yet) and its node; "" and nil when none.
func (r *Resource) Pending() (string, *Node) { return r.pendingTask, r.pendingNode }

// IsClone reports whether r is a clone or promotable clone.
func (r *Resource) IsClone() bool { return r.Kind == cib.KindClone || r.Kind == cib.KindMaster }

// IsGroup reports whether r is a group.
func (r *Resource) IsGroup() bool { return r.Kind == cib.KindGroup }

func (r *Resource) cloneParent() *Resource {
	for p := r.Parent; p != nil; p = p.Parent {
		if p.IsClone() {
			return p
		}
	}
	return nil
}

func (r *Resource) primitives() []*Resource {
	if r.IsPrimitive() {
		return []*Resource{r}
	}
	var out []*Resource
	for _, c := range r.Children {
		out = append(out, c.primitives()...)
	}
	return out
}

func (r *Resource) isActive() bool {
	for _, p := range r.primitives() {
		if len(p.Running) > 0 {
			return true
		}
	}
	return false
}

func (r *Resource) currentNode() *Node {
	if r.IsPrimitive() {
		if len(r.Running) > 0 {
			return r.Running[0]
		}
		return nil
	}
	for _, c := range r.Children {
		if n := c.currentNode(); n != nil {
			return n
		}
	}
	return nil
}

// Cluster is the working state unpacked from a CIB.
type Cluster struct {
	CIB     *cib.CIB
	Now     time.Time
	Options Options
	Quorate bool
	Nodes   []*Node
	nodeMap map[string]*Node
	// Resources are the top-level resources in configuration order.
	Resources []*Resource
	byID      map[string]*Resource
	warnings  []string
	props     map[string]string
	// noFencingDevice is set while scheduling when fencing is enabled
	// but no fencing device is configured: every resource is left alone.
	noFencingDevice bool
}

// ExecutionDate returns the time a saved CIB was scheduled at (its
// execution-date attribute, which crm_simulate uses when no time is given).
func ExecutionDate(c *cib.CIB) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(c.ExecutionDate), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

// InputFor is the input crm_simulate schedules c with when no time is
// given: the CIB's execution-date when it has one (the summary then says
// so), else now.
func InputFor(c *cib.CIB, now time.Time) Input {
	in := Input{CIB: c, Now: now}
	if t, ok := ExecutionDate(c); ok {
		in.Now, in.FromExecutionDate = t, true
	}
	return in
}

// Node returns the node named name, or nil.
func (c *Cluster) Node(name string) *Node { return c.nodeMap[name] }

// Resource returns a resource by id (instance ids included), or nil.
func (c *Cluster) Resource(id string) *Resource { return c.byID[id] }

// AllResources returns every resource, parents before children.
func (c *Cluster) AllResources() []*Resource {
	var out []*Resource
	var walk func([]*Resource)
	walk = func(rs []*Resource) {
		for _, r := range rs {
			out = append(out, r)
			walk(r.Children)
		}
	}
	walk(c.Resources)
	return out
}

// Primitives returns every primitive and clone instance in configuration
// order.
func (c *Cluster) Primitives() []*Resource {
	var out []*Resource
	for _, r := range c.AllResources() {
		if r.IsPrimitive() {
			out = append(out, r)
		}
	}
	return out
}

func boolProp(props map[string]string, name string, def bool) bool {
	v, ok := props[name]
	if !ok || !cib.IsBool(v) {
		return def
	}
	return cib.IsTrue(v)
}

// Unpack builds the working state from a CIB at time now.
func Unpack(c *cib.CIB, now time.Time) *Cluster {
	cl := &Cluster{CIB: c, Now: now, nodeMap: map[string]*Node{}, byID: map[string]*Resource{}}
	ev := &ruleEnv{now: now}
	cfg := &c.Configuration
	props := cfg.Properties(func(s *cib.NVSet) bool { return ev.setHolds(s, nil) })
	cl.props = props
	o := Options{
		StonithEnabled:      boolProp(props, "stonith-enabled", true),
		SymmetricCluster:    boolProp(props, "symmetric-cluster", true),
		NoQuorumPolicy:      "stop",
		StartFailureIsFatal: boolProp(props, "start-failure-is-fatal", true),
		MaintenanceMode:     boolProp(props, "maintenance-mode", false),
		StopOrphanResources: boolProp(props, "stop-orphan-resources", true),
		PlacementStrategy:   "default",
		StonithAction:       "reboot",
		ConcurrentFencing:   boolProp(props, "concurrent-fencing", false),
	}
	if v, ok := props["no-quorum-policy"]; ok {
		switch v {
		case "stop", "freeze", "ignore", "demote", "suicide":
			o.NoQuorumPolicy = v
		}
	}
	if v, ok := props["placement-strategy"]; ok {
		switch v {
		case "default", "utilization", "minimal", "balanced":
			o.PlacementStrategy = v
		}
	}
	if v, ok := props["stonith-action"]; ok && (v == "off" || v == "poweroff") {
		o.StonithAction = "off"
	}
	if v, ok := props["default-resource-stickiness"]; ok {
		o.DefaultStickiness = cib.ScoreOf(v, nil)
	}
	cl.Options = o
	cl.Quorate = c.HasQuorum()

	cl.unpackNodes()
	if !cl.Quorate && o.NoQuorumPolicy == "suicide" {
		for _, n := range cl.Nodes {
			if n.Online {
				cl.fenceNode(n, "cluster does not have quorum")
			}
		}
	}
	cl.unpackResources(ev)
	// Pacemaker keeps its resource list sorted by priority, highest
	// first, as it unpacks them (equal priorities in configuration
	// order): the order they are shown, summarized and acted on in.
	sort.SliceStable(cl.Resources, func(i, j int) bool { return cl.Resources[i].Priority > cl.Resources[j].Priority })
	cl.unpackStatus()
	return cl
}

func (cl *Cluster) unpackNodes() {
	c := cl.CIB
	for _, cn := range c.Configuration.Nodes {
		if cn.Type == "ping" {
			continue
		}
		n := &Node{Name: cn.Uname, ID: cn.ID, Attrs: map[string]string{}, Utilization: map[string]int{}}
		if n.Name == "" {
			n.Name = cn.ID
		}
		if _, dup := cl.nodeMap[n.Name]; dup {
			continue
		}
		n.Weight = cib.ScoreOf(cn.Score, nil)
		cib.Effective(n.Attrs, cn.InstanceAttributes, "", nil)
		for k, v := range cib.Effective(nil, cn.Utilization, "", nil) {
			n.Utilization[k], _ = strconv.Atoi(v)
		}
		// Nodes are unclean until their state is seen, when startup
		// fencing is on (the default).
		n.Unclean = cl.Options.StonithEnabled && boolProp(cl.props, "startup-fencing", true)
		cl.Nodes = append(cl.Nodes, n)
		cl.nodeMap[n.Name] = n
	}
	for _, ns := range c.Status.NodeStates {
		n := cl.nodeMap[ns.Uname]
		if n == nil {
			for _, m := range cl.Nodes {
				if m.ID == ns.ID {
					n = m
				}
			}
		}
		if n == nil || n.hasState {
			continue
		}
		n.hasState = true
		n.Unclean = false
		for k, v := range ns.Attributes() {
			n.Attrs[k] = v
		}
		cl.nodeOnline(n, ns)
	}
	for _, n := range cl.Nodes {
		n.Attrs["#uname"] = n.Name
		n.Attrs["#id"] = n.ID
		n.Attrs["#kind"] = "cluster"
		n.Attrs["#is_dc"] = strconv.FormatBool(cl.CIB.DCUUID != "" && cl.CIB.DCUUID == n.ID)
		if v, ok := n.Attrs["standby"]; ok && cib.IsTrue(v) {
			n.Standby = true
		}
		if v, ok := n.Attrs["maintenance"]; ok && cib.IsTrue(v) {
			n.Maintenance = true
		}
		if n.Unclean && !n.Online && cl.Options.StonithEnabled && !n.Fence {
			n.Fence = true
			if n.FenceReason == "" {
				n.FenceReason = "node is unclean"
			}
		}
	}
}

func (cl *Cluster) fenceNode(n *Node, reason string) {
	if n.Unclean {
		return
	}
	n.Unclean = true
	if cl.Options.StonithEnabled {
		n.Fence = true
		n.FenceReason = reason
	}
}

// nodeOnline decides whether a node with a node_state is online, following
// Pacemaker's determine_online_status.
func (cl *Cluster) nodeOnline(n *Node, ns *cib.NodeState) {
	attrs := ns.Attributes()
	if v, ok := attrs["shutdown"]; ok && v != "0" && v != "" {
		n.Shutdown = true
	}
	exp := ns.Expected
	n.ExpectedUp = exp == "member"
	inCCM := cib.IsTrue(ns.InCCM) || (ns.InCCM != "" && ns.InCCM[0] >= '1' && ns.InCCM[0] <= '9')
	crmdOnline := ns.Crmd == "online" || (ns.Crmd != "" && ns.Crmd[0] >= '1' && ns.Crmd[0] <= '9')
	join := ns.Join
	if join == "" {
		join = "down"
	}
	if !cl.Options.StonithEnabled {
		switch {
		case !inCCM:
		case crmdOnline:
			if join == "member" {
				n.Online = true
			}
		case !n.ExpectedUp:
		default:
			cl.fenceNode(n, "peer is unexpectedly down")
		}
		return
	}
	terminate := false
	if v, ok := attrs["terminate"]; ok {
		terminate = cib.IsTrue(v) || (v != "" && v[0] >= '1' && v[0] <= '9')
	}
	if exp == "" {
		exp = "down"
	}
	online := crmdOnline
	switch {
	case n.Shutdown:
		online = inCCM
	case ns.InCCM == "":
		cl.fenceNode(n, "peer has not been seen by the cluster")
	case join == "nack":
		cl.fenceNode(n, "peer failed Pacemaker membership criteria")
	case !terminate && exp == "down":
		if inCCM || crmdOnline {
			n.Standby, n.Pending = true, true
		}
	case terminate && join == "down" && !inCCM && !crmdOnline:
		online = false
	case !inCCM:
		// Out of the membership: offline, whatever its controller said.
		cl.fenceNode(n, "peer is no longer part of the cluster")
		online = false
	case !crmdOnline:
		cl.fenceNode(n, "peer process is no longer available")
	case terminate:
		cl.fenceNode(n, "termination was requested")
	case join == "member":
	case join == "pending" || join == "down":
		n.Standby, n.Pending = true, true
	default:
		cl.fenceNode(n, "peer was in an unknown state")
	}
	n.Online = online
}

func atoiDef(s string, def int) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return def
	}
	if strings.EqualFold(s, "INFINITY") || s == "+INFINITY" {
		return int(cib.Infinity)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

func (cl *Cluster) unpackResources(ev *ruleEnv) {
	for _, r := range cl.CIB.Configuration.Resources {
		if rr := cl.newResource(r, nil, ev, ""); rr != nil {
			cl.Resources = append(cl.Resources, rr)
		}
	}
}

func (cl *Cluster) meta(r *cib.Resource, parent *Resource, ev *ruleEnv) map[string]string {
	holds := func(s *cib.NVSet) bool { return ev.setHolds(s, r) }
	m := cib.Effective(nil, r.MetaAttributes, "", holds)
	if parent != nil {
		// A parent's meta attributes apply to its children.
		for k, v := range parent.Meta {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
	} else {
		cib.Effective(m, cl.CIB.Configuration.RscDefaults, "", holds)
	}
	return m
}

func (cl *Cluster) newResource(r *cib.Resource, parent *Resource, ev *ruleEnv, suffix string) *Resource {
	switch r.Kind {
	case cib.KindPrimitive, cib.KindGroup, cib.KindClone, cib.KindMaster:
	default:
		return nil
	}
	rr := &Resource{ID: r.ID + suffix, Base: r.ID, Kind: r.Kind, Cfg: r, Parent: parent, Role: RoleStopped,
		history: map[string]*nodeHistory{}}
	if rr.Kind == cib.KindMaster {
		rr.Kind = cib.KindClone
	}
	rr.Meta = cl.meta(r, parent, ev)
	m := rr.Meta
	// A score, as Pacemaker's char2score reads it ("2.0" is 2).
	rr.Priority = int(cib.ScoreOf(m["priority"], nil))
	rr.Stickiness = cl.Options.DefaultStickiness
	if v, ok := m["resource-stickiness"]; ok {
		rr.Stickiness = cib.ScoreOf(v, nil)
	}
	rr.Managed = true
	if v, ok := m["is-managed"]; ok && cib.IsBool(v) {
		rr.Managed = cib.IsTrue(v)
	}
	if v, ok := m["maintenance"]; ok && cib.IsTrue(v) {
		rr.Managed = false
		rr.Maintenance = true
		rr.maintenanceMeta = true
	}
	if cl.Options.MaintenanceMode {
		rr.Managed = false
	}
	rr.Critical = true
	rr.TargetRole = cib.NormalizeRole(m["target-role"])
	rr.MigrationThreshold = atoiDef(m["migration-threshold"], int(cib.Infinity))
	if v, ok := m["failure-timeout"]; ok {
		rr.FailureTimeout, _ = cib.ParseDuration(v)
	}
	cl.byID[rr.ID] = rr
	switch r.Kind {
	case cib.KindPrimitive:
	case cib.KindGroup:
		for _, ch := range r.Children {
			if c := cl.newResource(ch, rr, ev, suffix); c != nil {
				rr.Children = append(rr.Children, c)
			}
		}
	case cib.KindClone, cib.KindMaster:
		rr.Promotable = r.IsPromotable()
		rr.Unique = cib.IsTrue(m["globally-unique"])
		rr.Notify = cib.IsTrue(m["notify"])
		rr.Interleave = cib.IsTrue(m["interleave"])
		rr.Ordered = cib.IsTrue(m["ordered"])
		nNodes := len(cl.Nodes)
		rr.CloneMax = atoiDef(firstOf(m, "clone-max"), nNodes)
		rr.CloneNodeMax = atoiDef(firstOf(m, "clone-node-max"), 1)
		rr.PromotedMax = atoiDef(firstOf(m, "promoted-max", "master-max"), 1)
		rr.PromotedNodeMax = atoiDef(firstOf(m, "promoted-node-max", "master-node-max"), 1)
		if rr.CloneMax > maxInstances {
			// Bounds the work on absurd configurations.
			cl.warnings = append(cl.warnings, fmt.Sprintf("clone %s: clone-max %d capped at %d", rr.ID, rr.CloneMax, maxInstances))
			rr.CloneMax = maxInstances
		}
		if rr.CloneMax < 0 {
			rr.CloneMax = 0
		}
		if len(r.Children) == 0 {
			return rr
		}
		// Clones' stickiness defaults to 1.
		if _, ok := m["resource-stickiness"]; !ok && cl.Options.DefaultStickiness == 0 {
			if _, ok := cib.Effective(nil, cl.CIB.Configuration.RscDefaults, "", nil)["resource-stickiness"]; !ok {
				rr.Stickiness = 1
				m["resource-stickiness"] = "1"
			}
		}
		for i := 0; i < rr.CloneMax; i++ {
			if c := cl.newResource(r.Children[0], rr, ev, ":"+strconv.Itoa(i)); c != nil {
				rr.Children = append(rr.Children, c)
			}
		}
	}
	return rr
}

// maxInstances bounds the instances of one clone.
const maxInstances = 4096

func firstOf(m map[string]string, names ...string) string {
	for _, n := range names {
		if v, ok := m[n]; ok {
			return v
		}
	}
	return ""
}

// Operation results (OCF return codes and executor statuses).
const (
	rcOK             = 0
	rcNotRunning     = 7
	rcRunningPromo   = 8
	rcFailedPromoted = 9
)

type opRec struct {
	op       *cib.LRMRscOp
	call     int
	task     string
	interval int
	rc       int
	status   int
	expected int
}

func expectedRC(op *cib.LRMRscOp) int {
	parts := strings.Split(op.TransitionKey, ":")
	if len(parts) >= 3 {
		if n, err := strconv.Atoi(parts[2]); err == nil {
			return n
		}
	}
	return 0
}

// instanceFor finds the resource a history entry of id on node belongs to,
// creating an orphan when none does.
func (cl *Cluster) instanceFor(id string, node *Node, lr *cib.LRMResource) *Resource {
	if r := cl.byID[id]; r != nil && r.IsPrimitive() {
		if cp := r.cloneParent(); cp != nil && !cp.Unique {
			// Anonymous clone history with an instance number: treat it
			// by its base name.
			return cl.anonymousInstance(cp, r.Base, node)
		}
		return r
	}
	base := id
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		base = id[:i]
	}
	if r := cl.byID[base]; r != nil && r.IsPrimitive() {
		if cp := r.cloneParent(); cp != nil {
			return cl.anonymousInstance(cp, base, node)
		}
	}
	// An anonymous clone's child is recorded by its base name.
	for _, r := range cl.AllResources() {
		if r.IsClone() && !r.Unique && len(r.Cfg.Children) > 0 {
			if prims := cfgPrimitiveIDs(r.Cfg.Children[0]); prims[base] {
				return cl.anonymousInstance(r, base, node)
			}
		}
	}
	if cl.byID[base] != nil && !cl.byID[base].IsPrimitive() {
		return nil
	}
	// An orphan: history of a resource no longer configured.
	o := cl.byID[id]
	if o == nil {
		o = &Resource{ID: id, Base: id, Kind: cib.KindPrimitive, Orphan: true, Role: RoleStopped, Managed: true,
			history: map[string]*nodeHistory{}, Meta: map[string]string{}, MigrationThreshold: int(cib.Infinity),
			Cfg: &cib.Resource{Kind: cib.KindPrimitive, ID: id, Class: lr.Class, Provider: lr.Provider, Type: lr.Type}}
		o.Stickiness = cl.Options.DefaultStickiness
		cl.byID[id] = o
		cl.Resources = append(cl.Resources, o)
	}
	return o
}

func cfgPrimitiveIDs(r *cib.Resource) map[string]bool {
	out := map[string]bool{}
	if r.Kind == cib.KindPrimitive {
		out[r.ID] = true
	}
	for _, c := range r.Children {
		for k := range cfgPrimitiveIDs(c) {
			out[k] = true
		}
	}
	return out
}

// anonymousInstance returns the instance of clone cp whose primitive base
// takes the history on node, as Pacemaker's find_anonymous_clone does: the
// instance already active (or pending) on node, else the first instance
// active nowhere (and not blocked, nor pending elsewhere), else a new
// orphan instance. Histories are unpacked node by node, so "active" means
// active in the histories unpacked so far.
func (cl *Cluster) anonymousInstance(cp *Resource, base string, node *Node) *Resource {
	var inactive *Resource
	skipInactive := false
	var cands []*Resource
	for _, inst := range cp.Children {
		var member *Resource
		for _, p := range inst.primitives() {
			if p.Base == base {
				member = p
				cands = append(cands, p)
			}
		}
		var locs []*Node
		blocked := false
		for _, p := range inst.primitives() {
			locs = append(locs, p.Running...)
			if p.pendingNode != nil {
				locs = append(locs, p.pendingNode)
			}
			blocked = blocked || p.Blocked
		}
		if len(locs) > 0 {
			if locs[0] == node && member != nil {
				if len(member.Running) > 0 {
					// A second history of the same clone on this node:
					// an orphan, even if inactive instances are left.
					skipInactive = true
					continue
				}
				return member
			}
			continue
		}
		if !skipInactive && inactive == nil && !blocked && member != nil {
			inactive = member
			if inactive.pendingNode != nil && inactive.pendingNode != node {
				inactive = nil
			}
		}
	}
	if !skipInactive && inactive != nil {
		return inactive
	}
	// More instances than clone-max: an orphan instance.
	n := len(cp.Children)
	for {
		id := base + ":" + strconv.Itoa(n)
		if cl.byID[id] == nil {
			var tmpl *cib.Resource
			for _, p := range cands {
				tmpl = p.Cfg
				break
			}
			if tmpl == nil {
				return nil
			}
			o := &Resource{ID: id, Base: base, Kind: cib.KindPrimitive, Cfg: tmpl, Parent: cp, Orphan: true, Role: RoleStopped,
				Managed: cp.Managed, history: map[string]*nodeHistory{}, Meta: cp.Meta, MigrationThreshold: int(cib.Infinity),
				Stickiness: cp.Stickiness}
			cl.byID[id] = o
			cp.Children = append(cp.Children, o)
			return o
		}
		n++
	}
}

func instanceTop(p *Resource) *Resource {
	for p.Parent != nil && !p.Parent.IsClone() {
		p = p.Parent
	}
	return p
}

func (r *Resource) hasHistory() bool {
	for _, p := range r.primitives() {
		if len(p.history) > 0 {
			return true
		}
	}
	return false
}

func (cl *Cluster) unpackStatus() {
	for _, ns := range cl.CIB.Status.NodeStates {
		n := cl.nodeMap[ns.Uname]
		if n == nil || ns.LRM == nil {
			continue
		}
		if !n.Online && !cl.Options.StonithEnabled {
			// Without fencing the history of an offline node says
			// nothing that can be acted on.
			continue
		}
		for _, lr := range ns.LRM.Resources {
			if n.lrmIDs == nil {
				n.lrmIDs = map[string]bool{}
			}
			n.lrmIDs[lr.ID] = true
			r := cl.instanceFor(lr.ID, n, lr)
			if r == nil {
				continue
			}
			if r.cloneName == "" && lr.ID != r.ID {
				r.cloneName = lr.ID
			}
			if cp := r.cloneParent(); cp != nil && !cp.Unique && lr.ID == r.Base {
				cp.historyUnderBase = true
			}
			cl.unpackHistory(r, n, lr, ns)
		}
	}
	for _, r := range cl.Primitives() {
		if r.Orphan && len(r.Running) == 0 && r.Parent == nil {
			// Orphans that are stopped are not shown.
			continue
		}
	}
}

// opConfig finds the configured op of r with name and interval (ms).
func opConfig(r *cib.Resource, name string, intervalMS int) *cib.Op {
	if r == nil {
		return nil
	}
	for _, o := range r.Ops {
		if o.Name != name {
			continue
		}
		d, err := o.IntervalDuration()
		if err != nil {
			continue
		}
		if int(d/time.Millisecond) == intervalMS {
			return o
		}
	}
	return nil
}

// onFail returns the on-fail policy of a failed operation.
func (cl *Cluster) onFail(r *Resource, task string, intervalMS int) string {
	name := task
	if o := opConfig(r.Cfg, name, intervalMS); o != nil && o.OnFail != "" {
		return o.OnFail
	}
	switch task {
	case "stop":
		if cl.Options.StonithEnabled {
			return "fence"
		}
		return "block"
	case "demote":
		return "restart"
	}
	return "restart"
}

var onFailRank = map[string]int{"ignore": 0, "demote": 1, "restart": 2, "stop": 3, "standby": 4, "block": 5, "fence": 6}

// opExpired reports whether a recorded operation is older than the
// resource's failure-timeout, as Pacemaker's check_operation_expiry: its
// last-rc-change is a failure-timeout ago, and the resource has no fail
// count on the node that has not expired (it then schedules clearing the
// fail count). Probes that found the resource running or stopped and
// not-installed results never expire.
func (cl *Cluster) opExpired(r *Resource, n *Node, h *nodeHistory, o opRec) bool {
	if r.FailureTimeout <= 0 || o.status == 7 || cl.Now.IsZero() {
		return false
	}
	last, err := strconv.ParseInt(strings.TrimSpace(o.op.LastRCChange), 10, 64)
	if err != nil || o.op.LastRCChange == "" {
		return false
	}
	expired := cl.Now.Unix() >= last+int64(r.FailureTimeout/time.Second)
	for _, f := range h.ops {
		if conf := opConfig(r.Cfg, f.task, f.interval); conf != nil && conf.OnFail == "block" &&
			(f.rc != f.expected || strings.HasSuffix(f.op.ID, "_last_failure_0")) {
			// A failure the configuration blocks on: Pacemaker then
			// ignores the resource's failure-timeout altogether.
			r.FailureTimeout = 0
			return false
		}
	}
	if !expired {
		return false
	}
	if fc, exp := cl.failCount(r, n); fc > 0 {
		if !exp {
			return false
		}
		h.clearFailcount = true
	}
	if o.task == "monitor" && o.interval == 0 {
		switch o.rc {
		case rcOK, rcNotRunning, rcRunningPromo:
			return false
		}
	}
	return true
}

func (cl *Cluster) unpackHistory(r *Resource, n *Node, lr *cib.LRMResource, ns *cib.NodeState) {
	h := &nodeHistory{seen: true, recurring: map[int]bool{}}
	r.history[n.Name] = h
	var ops []opRec
	for _, op := range lr.Ops {
		call, ok := op.Call()
		if !ok {
			continue
		}
		rc, _ := op.RC()
		st, _ := op.Status()
		iv, _ := op.IntervalMS()
		task := op.Operation
		ops = append(ops, opRec{op: op, call: call, task: task, interval: iv, rc: rc, status: st, expected: expectedRC(op)})
	}
	sort.SliceStable(ops, func(i, j int) bool {
		ci, cj := ops[i].call, ops[j].call
		if ci < 0 {
			ci = 1 << 30
		}
		if cj < 0 {
			cj = 1 << 30
		}
		return ci < cj
	})
	h.ops = ops
	role := RoleStopped
	onFail := ""
	failedStart := false
	hardBan := false
	for _, o := range ops {
		isProbe := o.task == "monitor" && o.interval == 0
		if o.status == 1 {
			// Cancelled.
			continue
		}
		if (o.call == -1 || o.status == -1) && o.rc != o.expected && cl.opExpired(r, n, h, o) {
			// An operation still pending whose result is older than
			// the failure-timeout is forgotten like an expired failure
			// (Pacemaker checks expiry first).
			if o.interval == 0 || (n.Online && !n.Unclean) {
				continue
			}
		}
		if o.call == -1 || o.status == -1 {
			switch o.task {
			case "start", "migrate_from", "promote", "demote", "stop":
				if role == RoleStopped && o.task != "stop" {
					role = RoleStarted
				}
				r.pendingTask = o.task
				r.pendingNode = n
			}
			h.known = true
			continue
		}
		if o.task == "notify" || o.task == "meta-data" {
			continue
		}
		if cl.opExpired(r, n, h, o) && o.rc != o.expected {
			// An expired failure is forgotten; an expired recurring
			// monitor failure on a live node reschedules the monitor.
			if o.interval == 0 || (n.Online && !n.Unclean) {
				continue
			}
		}
		h.known = true
		success := false
		// For done and error the rc and the expected result decide.
		if o.status == 0 || o.status == 4 {
			switch o.rc {
			case rcOK:
				success = isProbe || o.expected == rcOK || o.expected == rcNotRunning || o.task != "monitor"
				if o.task == "monitor" && o.expected == rcRunningPromo && !isProbe {
					success = false
				}
			case rcNotRunning:
				if isProbe || o.expected == rcNotRunning || !r.Managed {
					role = RoleStopped
					onFail = ""
					h.recurring = map[int]bool{}
					failedStart = false
					continue
				}
			case rcRunningPromo:
				success = isProbe || o.expected == rcRunningPromo
			default:
				if o.rc == o.expected {
					success = true
				}
			}
		}
		if success {
			switch o.task {
			case "start", "migrate_from":
				role = RoleStarted
				onFail = ""
				failedStart = false
			case "stop":
				role = RoleStopped
				onFail = ""
				h.recurring = map[int]bool{}
				failedStart = false
			case "promote":
				role = RolePromoted
				onFail = ""
			case "demote":
				role = RoleUnpromoted
				if onFail == "demote" {
					onFail = ""
				}
			case "monitor":
				if o.rc == rcRunningPromo {
					role = RolePromoted
				} else if roleRank(role) < roleRank(RoleStarted) {
					role = RoleStarted
				}
				if o.interval > 0 {
					h.recurring[o.interval] = true
				}
			}
			continue
		}
		// A failure.
		h.failedOps = append(h.failedOps, o.op)
		of := cl.onFail(r, o.task, o.interval)
		if o.rc == 5 || o.rc == 2 || o.rc == 3 || o.status == 7 || o.status == 3 || o.status == 5 {
			hardBan = true
		}
		if onFailRank[of] >= onFailRank[onFail] || onFail == "" {
			onFail = of
		}
		switch o.task {
		case "promote":
			role = RolePromoted
		case "demote":
			if o.rc == rcNotRunning {
				role = RoleStopped
			} else {
				role = RoleUnpromoted
			}
		case "start":
			failedStart = true
		case "monitor":
			if o.rc == rcFailedPromoted {
				role = RolePromoted
			}
			if o.interval > 0 {
				h.recurring[o.interval] = true
			}
		}
		if isProbe && o.rc == 5 {
			role = RoleStopped
			continue
		}
		if roleRank(role) < roleRank(RoleStarted) {
			role = RoleStarted
		}
	}
	if roleRank(role) > 0 {
		if !n.Online && !n.Unclean && r.Managed && !n.Maintenance {
			cl.fenceNode(n, r.ID+" is thought to be active there")
		}
		if n.Unclean {
			// The node will be fenced anyway: nothing else to recover.
			onFail = ""
		}
		r.Running = append(r.Running, n)
		if n.Maintenance {
			r.Managed = false
			r.Maintenance = true
		}
		if roleRank(role) > roleRank(r.Role) {
			r.Role = role
		}
		switch onFail {
		case "", "ignore":
			if onFail == "ignore" {
				r.FailureIgnored = true
			}
		case "fence":
			cl.fenceNode(n, r.ID+" failed there")
			r.Failed = true
		case "standby":
			n.Standby = true
			r.Failed = true
		case "block":
			r.Blocked = true
			r.Failed = true
			r.Managed = false
		case "stop":
			r.StopOnly = true
			r.Failed = true
		default:
			r.Failed = true
		}
	}
	if len(h.failedOps) > 0 {
		h.lastRC = 1
	}
	h.failedStart = failedStart && roleRank(role) > 0
	h.hardBan = hardBan
	_ = ns
}
