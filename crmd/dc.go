package crmd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
	"github.com/vigil-ha/vigil/crmd/scheduler"
	"github.com/vigil-ha/vigil/crmd/transition"
	fencev1 "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
	quorumv1 "github.com/vigil-ha/vigil/proto/vigil/quorum/v1"
)

// Timings of the DC loop.
const (
	// coalesce is how long the DC waits after a change before it
	// schedules, so that a burst of changes makes one transition.
	coalesce = 100 * time.Millisecond
	// defaultRecheck is cluster-recheck-interval's default.
	defaultRecheck = 15 * time.Minute
	// defaultClusterDelay is cluster-delay's default: how long past its
	// own timeout the DC waits for an action's result.
	defaultClusterDelay = 60 * time.Second
	// defaultOpTimeout is the timeout of an operation with none
	// configured (Pacemaker's default).
	defaultOpTimeout = 20 * time.Second
)

// updateDCLocked starts the DC loop when this node became the DC and
// stops it when it no longer is; s.mu is held.
func (s *Server) updateDCLocked() {
	isDC := s.ctx != nil && s.rep.DC() == s.node.ID && s.rep.DC() != 0
	switch {
	case isDC && s.dc == nil:
		ctx, cancel := context.WithCancel(s.ctx)
		s.dc = newDCLoop(s)
		s.dcCancel = cancel
		s.log.Info("this node is the DC: running the scheduler and the transition engine", "uuid", s.dc.uuid)
		// What the previous DC may not have recorded: it is recorded
		// unless the status already has it. Only the last result heard
		// for each history entry of a resource on a node (RSC_last_0,
		// RSC_monitor_N) counts: an earlier one (the probe before a
		// start) was overwritten there, and replaying it would undo what
		// followed.
		type slot struct {
			node      uint32
			rsc, slot string
		}
		last := map[slot]int{}
		for i, h := range s.heard {
			id := h.r.Rsc + "_last_0"
			if h.r.IntervalMS > 0 {
				id = fmt.Sprintf("%s_%s_%d", h.r.Rsc, h.r.Task, h.r.IntervalMS)
			}
			last[slot{h.r.From, h.r.Rsc, id}] = i
		}
		for i, h := range s.heard {
			id := h.r.Rsc + "_last_0"
			if h.r.IntervalMS > 0 {
				id = fmt.Sprintf("%s_%s_%d", h.r.Rsc, h.r.Task, h.r.IntervalMS)
			}
			if last[slot{h.r.From, h.r.Rsc, id}] != i {
				continue
			}
			r := h.r
			r.replayed = true
			s.dc.addResult(r)
		}
		s.heard = nil
		go s.dc.run(ctx)
	case !isDC && s.dc != nil:
		s.log.Info("this node is no longer the DC")
		s.dcCancel()
		s.dc, s.dcCancel = nil, nil
	}
}

// dcLoop is the DC's work: it keeps the status section (node states,
// quorum, the DC), runs the scheduler when something changed and executes
// the transitions it computes. Its state belongs to the run goroutine but
// for what the group's loop hands over under mu.
type dcLoop struct {
	s    *Server
	log  *slog.Logger
	uuid string
	wake chan struct{}
	// resultWake cuts the coalescing pause short: an operation or fencing
	// result goes on at once whatever else is pending.
	resultWake chan struct{}

	mu       sync.Mutex
	results  []resultMsg
	fenced   []fenceDone
	members  bool // the crm group changed
	cibEvent bool // the CIB changed
	quorate  *bool

	// Owned by run.
	haveQuorum string
	handles    map[uint32]uint64
	tnum       int
	eng        *transition.Engine
	epoch      [2]int64
	sent       map[int]*sentAction
	pending    bool // something changed since the last schedule
	// warned are the scheduler's warnings last logged, so that each is
	// logged when it appears, not at every transition.
	warned string
}

// completion is an action's outcome to give the engine once the status
// says what happened.
type completion struct {
	a  *scheduler.Action
	ok bool
}

// sentAction is an action of the current transition in flight.
type sentAction struct {
	a        *scheduler.Action
	key      string
	targetRC int
	deadline time.Time
	msg      execMsg
}

type fenceDone struct {
	tnum, action int
	ok           bool
	err          string
}

func newDCLoop(s *Server) *dcLoop {
	b := make([]byte, 16)
	rand.Read(b)
	uuid := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	return &dcLoop{s: s, log: s.log.With("dc", true), uuid: uuid, wake: make(chan struct{}, 1), resultWake: make(chan struct{}, 1),
		members: true, cibEvent: true, handles: map[uint32]uint64{}, sent: map[int]*sentAction{}, pending: true}
}

func (d *dcLoop) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// The group's loop reports to the DC through these; they never block.
func (d *dcLoop) addResult(r resultMsg) {
	d.mu.Lock()
	d.results = append(d.results, r)
	d.mu.Unlock()
	d.kickResult()
}

// kickResult wakes the loop for a result, also out of a coalescing pause.
func (d *dcLoop) kickResult() {
	select {
	case d.resultWake <- struct{}{}:
	default:
	}
	d.kick()
}

func (d *dcLoop) membersChanged() {
	d.mu.Lock()
	d.members = true
	d.mu.Unlock()
	d.kick()
}

func (d *dcLoop) cibChanged() {
	d.mu.Lock()
	d.cibEvent = true
	d.mu.Unlock()
	d.kick()
}

func (d *dcLoop) run(ctx context.Context) {
	if d.s.quorum != nil {
		go d.watchQuorum(ctx)
	}
	var recheck time.Duration
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		deferred := d.step(ctx)
		if ctx.Err() != nil {
			return
		}
		// Sleep until something happens, the next action deadline or
		// the recheck interval.
		recheck = d.recheckInterval()
		wait := recheck
		// A rule's date boundary (a move --lifetime ending) comes first.
		d.s.mu.Lock()
		cur := d.s.rep.CIB()
		d.s.mu.Unlock()
		if next, ok := scheduler.NextDateBoundary(cur, time.Now()); ok {
			wait = min(wait, time.Until(next)+time.Second)
		}
		for _, sa := range d.sent {
			if w := time.Until(sa.deadline); w < wait {
				wait = max(w, 0)
			}
		}
		if deferred {
			wait = min(wait, coalesce)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
			// Coalesce a burst; results of a running transition go on
			// at once (each step of a transition would wait otherwise).
			d.mu.Lock()
			onlyResults := !d.members && !d.cibEvent && d.quorate == nil
			d.mu.Unlock()
			if !onlyResults {
				select {
				case <-ctx.Done():
					return
				case <-time.After(coalesce):
				case <-d.resultWake:
					// A transition is waiting for this result: without
					// this, a membership or quorum event just before it
					// held a failover's start result for up to 100 ms.
				}
			}
		case <-timer.C:
			d.pending = true
		}
	}
}

func (d *dcLoop) recheckInterval() time.Duration {
	d.s.mu.Lock()
	c := d.s.rep.CIB()
	d.s.mu.Unlock()
	if v, ok := c.Configuration.Property("cluster-recheck-interval"); ok {
		if dur, err := cib.ParseDuration(v); err == nil && dur > 0 {
			return dur
		}
	}
	return defaultRecheck
}

// watchQuorum follows quorumd's verdict for have-quorum.
func (d *dcLoop) watchQuorum(ctx context.Context) {
	for ctx.Err() == nil {
		stream, err := d.s.quorum.WatchStatus(ctx, &quorumv1.WatchStatusRequest{})
		if err == nil {
			for {
				ev, err := stream.Recv()
				if err != nil {
					break
				}
				q := ev.GetStatus().GetQuorate()
				d.mu.Lock()
				d.quorate = &q
				d.mu.Unlock()
				d.kick()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// step does what is due: node states and quorum into the status, results
// recorded, the transition advanced or a new one scheduled. Until the
// members of the view have synchronised their CIBs it does nothing and
// reports that it deferred, and so until this crmd erased its own node's
// saved status (resetOwnStatus): a DC that just joined holds its own saved
// CIB, whose node states are stale (it would take itself for a node that
// never left and act on its old operation history).
func (d *dcLoop) step(ctx context.Context) (deferred bool) {
	d.s.mu.Lock()
	synced := d.s.rep.Synced() && (d.s.ownReset || d.s.ctx == nil)
	d.s.mu.Unlock()
	if !synced {
		return true
	}
	d.mu.Lock()
	results, fenced := d.results, d.fenced
	d.results, d.fenced = nil, nil
	members, cibEvent, quorate := d.members, d.cibEvent, d.quorate
	d.members, d.cibEvent, d.quorate = false, false, nil
	d.mu.Unlock()
	if members || cibEvent || quorate != nil || len(results) > 0 || len(fenced) > 0 {
		d.pending = true
	}
	quorumChanged := false
	if quorate != nil {
		was := d.haveQuorum
		d.haveQuorum = "0"
		if *quorate {
			d.haveQuorum = "1"
		}
		quorumChanged = was != d.haveQuorum
	}
	if d.haveQuorum == "" && d.s.quorum != nil {
		// Until this node's quorumd has answered, the CIB's have-quorum
		// is the previous DC's word, perhaps from before a partition: a
		// DC alone in a minority would fence the majority on it. What
		// arrived meanwhile waits for the next step.
		d.mu.Lock()
		d.results = append(results, d.results...)
		d.fenced = append(fenced, d.fenced...)
		d.members = d.members || members
		d.cibEvent = d.cibEvent || cibEvent
		d.mu.Unlock()
		d.pending = true
		return true
	}
	s := d.s
	s.mu.Lock()
	groupMembers := s.rep.Members()
	cur := s.rep.CIB()
	s.mu.Unlock()

	// Who is in the group, and who joined again since the DC last saw
	// it (its history is stale: dropped, and probed again).
	var nodes []transition.Membership
	present := map[string]bool{}
	uname := map[uint32]string{}
	for _, n := range s.cfg.Nodes {
		m := transition.Membership{ID: strconv.FormatUint(uint64(n.ID), 10), Uname: n.Name}
		uname[n.ID] = n.Name
		for _, gm := range groupMembers {
			if gm.Node != n.ID {
				continue
			}
			m.Member = true
			if h, seen := d.handles[n.ID]; (seen && h != gm.Handle) || (!seen && !nodeOnline(cur, n.Name)) {
				m.Rejoined = true
			}
			d.handles[n.ID] = gm.Handle
		}
		if !m.Member {
			delete(d.handles, n.ID)
		}
		present[m.ID] = m.Member
		nodes = append(nodes, m)
	}

	var records []transition.OpResult
	var done []completion
	var fencedNodes []string
	abort := ""
	now := time.Now()
	// Actions in flight on nodes that left fail; so do those past their
	// deadline, recorded as timed out.
	for id, sa := range d.sent {
		lost := sa.a.Node != nil && !present[sa.a.Node.ID] && sa.a.Task != "stonith"
		if !lost && now.Before(sa.deadline) {
			continue
		}
		delete(d.sent, id)
		done = append(done, completion{sa.a, false})
		if lost {
			d.log.Warn("action lost: its node left", "action", sa.a.Key(), "node", sa.a.Node.Name)
			continue
		}
		d.log.Warn("action timed out (its timeout + cluster-delay)", "action", sa.a.Key(), "node", sa.a.Node.Name)
		if sa.msg.Class != "" {
			records = append(records, d.opResult(sa.msg, sa.a.Node.Name, sa.a.Node.ID, resultMsg{RC: 1, OpStatus: transition.OpStatusTimedOut}))
		}
	}
	for _, m := range results {
		action, tnum, _, uuid, err := transition.ParseTransitionKey(m.TransitionKey)
		if err != nil {
			d.log.Warn("result with a bad transition key", "err", err)
			continue
		}
		name := uname[m.From]
		if m.replayed && recorded(cur, name, m) {
			continue
		}
		r := d.opResult(execMsg{TransitionKey: m.TransitionKey, Rsc: m.Rsc, Class: m.Class, Provider: m.Provider, Type: m.Type,
			Task: m.Task, IntervalMS: m.IntervalMS}, name, strconv.FormatUint(uint64(m.From), 10), m)
		if m.replayed {
			d.log.Info("recording a result the previous DC did not", "rsc", m.Rsc, "task", m.Task, "node", name, "rc", m.RC, "key", m.TransitionKey)
		}
		records = append(records, r)
		sa, ours := d.sent[action]
		if ours && uuid == d.uuid && tnum == d.tnum && !m.Unsolicited {
			delete(d.sent, action)
			done = append(done, completion{sa.a, r.Expected()})
			if !r.Expected() {
				d.log.Info("unexpected result", "action", sa.a.Key(), "node", name, "rc", r.RC, "op_status", r.OpStatus, "target_rc", r.TargetRC, "reason", r.ExitReason)
			}
			continue
		}
		if r.Failed() {
			d.log.Warn("operation failed", "rsc", m.Rsc, "task", m.Task, "interval_ms", m.IntervalMS, "node", name, "rc", m.RC, "op_status", m.OpStatus)
			abort = "operation " + r.OperationKey() + " failed on " + name
		}
	}
	for _, f := range fenced {
		if f.tnum != d.tnum {
			continue
		}
		for id, sa := range d.sent {
			if id == f.action {
				delete(d.sent, id)
				done = append(done, completion{sa.a, f.ok})
				if f.ok {
					fencedNodes = append(fencedNodes, sa.a.Node.Name)
				}
			}
		}
	}

	err := d.update(ctx, func(c *cib.CIB) {
		for _, m := range nodes {
			transition.UpdateNode(c, m)
		}
		for _, name := range fencedNodes {
			// A fenced node is down, its resources stopped: its history
			// goes (Pacemaker's controller erases it likewise).
			for _, ns := range c.Status.NodeStates {
				if ns.Uname == name {
					ns.InCCM, ns.Crmd, ns.Join, ns.Expected, ns.LRM = "false", "offline", "down", "down", nil
				}
			}
		}
		for _, r := range records {
			transition.Record(c, r)
		}
		if d.haveQuorum != "" {
			c.HaveQuorum = d.haveQuorum
		}
		c.DCUUID = strconv.FormatUint(uint64(s.node.ID), 10)
	})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		d.log.Warn("could not write the status; will try again", "err", err)
		d.pending = true
		abort = "the status could not be written"
	}
	if d.eng != nil {
		for _, c := range done {
			d.eng.Complete(c.a, c.ok)
		}
		s.mu.Lock()
		now := s.rep.CIB()
		s.mu.Unlock()
		if [2]int64{now.Version.AdminEpoch, now.Version.Epoch} != d.epoch {
			d.eng.Abort("the configuration changed")
		}
		if members {
			d.eng.Abort("the crm group changed")
		}
		// A change of the CIB that is not the DC's own recording (a
		// node's shutdown attribute, a cleanup, a standby) or of quorum
		// makes the running transition stale, as in Pacemaker: it ends
		// once its actions in flight are done and the scheduler runs
		// again. Letting it complete instead lost the change: a completed
		// transition does not reschedule.
		if cibEvent {
			d.eng.Abort("the CIB changed")
		}
		if quorumChanged {
			d.eng.Abort("quorum changed")
		}
		if abort != "" {
			d.eng.Abort(abort)
		}
		d.advance(ctx)
	}
	if d.eng == nil && d.pending {
		d.pending = false
		d.schedule(ctx)
	}
	return false
}

// nodeOnline reports whether the status says a node's crmd is in the
// group: a DC that takes over keeps the history of such nodes.
func nodeOnline(c *cib.CIB, uname string) bool {
	ns := c.Status.NodeState(uname)
	return ns != nil && ns.Crmd == "online" && cib.IsTrue(ns.InCCM)
}

// opResult is the status entry of a result of m on a node.
func (d *dcLoop) opResult(m execMsg, node, nodeID string, r resultMsg) transition.OpResult {
	_, _, target, _, _ := transition.ParseTransitionKey(m.TransitionKey)
	return transition.OpResult{Node: node, NodeID: nodeID, Rsc: m.Rsc, Class: m.Class, Provider: m.Provider, Type: m.Type,
		Task: m.Task, IntervalMS: m.IntervalMS, TransitionKey: m.TransitionKey, TargetRC: target, RC: r.RC, OpStatus: r.OpStatus,
		ExitReason: r.ExitReason, When: time.Now(), ExecMS: r.ExecMS, QueueMS: r.QueueMS}
}

// update changes the CIB as mutate does to a copy of it, through the
// group, conditional on the version it started from (a concurrent change
// makes it start again). Only the root's have-quorum and dc-uuid and the
// status section are written.
func (d *dcLoop) update(ctx context.Context, mutate func(*cib.CIB)) error {
	return d.s.updateStatus(context.WithValue(ctx, dcWriteKey{}, true), mutate)
}

// dcWriteKey marks the context of the DC's own status writes: their
// application is no news to the DC, which must not wait out the coalescing
// pause for them (each step of a transition would take 100 ms more) nor
// schedule again because of them.
type dcWriteKey struct{}

// updateStatus is the DC's update for any crmd: the status section (and
// the root's have-quorum and dc-uuid) changed as mutate does to a copy,
// conditional on the version it started from, started again on a
// concurrent change.
func (s *Server) updateStatus(ctx context.Context, mutate func(*cib.CIB)) error {
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		cur := s.rep.CIB()
		s.mu.Unlock()
		next, err := cib.Unmarshal(cib.Marshal(cur))
		if err != nil {
			return err
		}
		mutate(next)
		var p cibsvc.Patch
		var attrs []cib.Attr
		if next.HaveQuorum != cur.HaveQuorum {
			attrs = append(attrs, cib.Attr{Name: "have-quorum", Value: next.HaveQuorum})
		}
		if next.DCUUID != cur.DCUUID {
			attrs = append(attrs, cib.Attr{Name: "dc-uuid", Value: next.DCUUID})
		}
		if len(attrs) > 0 {
			p.Ops = append(p.Ops, cibsvc.Op{Kind: cibsvc.OpSetAttributes, Target: "/cib", Attrs: attrs})
		}
		if st := statusXML(next); string(st) != string(statusXML(cur)) {
			p.Ops = append(p.Ops, cibsvc.Op{Kind: cibsvc.OpReplace, Target: "/cib/status", XML: st})
		}
		if len(p.Ops) == 0 {
			return nil
		}
		v := cur.Version
		_, err = s.submit(ctx, cibsvc.Change{Expected: &v, Patch: &p})
		if errors.Is(err, cibsvc.ErrVersionMismatch) && attempt < 20 {
			continue
		}
		return err
	}
}

func statusXML(c *cib.CIB) []byte {
	for _, e := range c.Tree().Children {
		if e.Name == "status" {
			return cib.MarshalElement(e)
		}
	}
	return nil
}

// schedule runs the scheduler on the current CIB and starts executing its
// transition.
func (d *dcLoop) schedule(ctx context.Context) {
	d.s.mu.Lock()
	c := d.s.rep.CIB()
	synced := d.s.rep.Synced()
	d.s.mu.Unlock()
	if !synced {
		d.pending = true
		return
	}
	res := scheduler.Schedule(scheduler.Input{CIB: transition.WithNodes(c), Now: time.Now()})
	if w := strings.Join(res.Warnings, "\n"); w != d.warned {
		d.warned = w
		for _, line := range res.Warnings {
			d.log.Warn("scheduler: " + line)
		}
	}
	if len(res.Graph.Executed()) == 0 {
		return
	}
	d.tnum++
	limit := 0
	if v, ok := c.Configuration.Property("batch-limit"); ok {
		limit, _ = strconv.Atoi(v)
	}
	d.eng = transition.New(res.Graph, limit)
	d.epoch = [2]int64{c.Version.AdminEpoch, c.Version.Epoch}
	d.sent = map[int]*sentAction{}
	d.log.Info("transition started", "transition", d.tnum, "actions", d.eng.Len(), "cib", c.Version.String(), "summary", res.Summary)
	d.advance(ctx)
}

// advance sends what the transition may run now; it ends the transition
// when it is over.
func (d *dcLoop) advance(ctx context.Context) {
	for {
		acts := d.eng.Next()
		if len(acts) == 0 {
			break
		}
		d.recordPending(ctx, acts)
		for _, a := range acts {
			d.dispatch(ctx, a)
		}
	}
	if d.eng.Finished() {
		aborted, why := d.eng.Aborted()
		d.log.Info("transition finished", "transition", d.tnum, "aborted", aborted, "reason", why)
		d.eng = nil
		d.pending = true
		if !aborted {
			// A transition that completed leaves the cluster where the
			// scheduler wanted it: run it again only when asked.
			d.pending = false
		}
	}
}

// dispatch sends one action where it runs, or carries it out here.
func (d *dcLoop) dispatch(ctx context.Context, a *scheduler.Action) {
	key := transition.TransitionKey(a.ID, d.tnum, targetRC(a), d.uuid)
	switch {
	case a.Task == "stonith":
		d.fence(ctx, a)
		return
	case a.Task == "clear_failcount":
		err := d.update(ctx, func(c *cib.CIB) { transition.ClearFailCount(c, a.Node.ID, a.Node.Name, a.Name) })
		d.eng.Complete(a, err == nil)
		return
	case a.Rsc == nil || a.Node == nil:
		// Cluster actions without an executor here (do_shutdown, ...).
		d.eng.Complete(a, true)
		return
	}
	m, timeout := d.execFor(a, key)
	d.sent[a.ID] = &sentAction{a: a, key: key, targetRC: targetRC(a), deadline: time.Now().Add(timeout + d.clusterDelay()), msg: m}
	d.log.Info("action sent", "action", a.Key(), "node", a.Node.Name, "key", key)
	d.s.mu.Lock()
	d.s.sendExecLocked(execEnvelope{Exec: &m})
	d.s.mu.Unlock()
}

// targetRC is the exit code an action is expected to end with.
func targetRC(a *scheduler.Action) int {
	if a.Task == "monitor" && a.Interval == 0 {
		return transition.RCNotRunning
	}
	if a.Task == "monitor" && a.Rsc != nil && a.Rsc.Cfg != nil {
		for _, o := range a.Rsc.Cfg.Ops {
			if o.Name != "monitor" {
				continue
			}
			if iv, err := o.IntervalDuration(); err == nil && int(iv/time.Millisecond) == a.Interval {
				if r := cib.NormalizeRole(o.Role); r == "Promoted" {
					return transition.RCRunningPromo
				}
			}
		}
	}
	return transition.RCOK
}

func (d *dcLoop) clusterDelay() time.Duration {
	d.s.mu.Lock()
	c := d.s.rep.CIB()
	d.s.mu.Unlock()
	if v, ok := c.Configuration.Property("cluster-delay"); ok {
		if dur, err := cib.ParseDuration(v); err == nil && dur > 0 {
			return dur
		}
	}
	return defaultClusterDelay
}

// execFor builds the message that runs a on its node: the agent, the
// resource's instance attributes as parameters, its meta attributes, the
// timeout of the configured op (or op_defaults, or 20 s).
func (d *dcLoop) execFor(a *scheduler.Action, key string) (execMsg, time.Duration) {
	cfg := a.Rsc.Cfg
	nid, _ := strconv.ParseUint(a.Node.ID, 10, 32)
	m := execMsg{To: uint32(nid), TransitionKey: key, Rsc: a.Name, Class: cfg.Class, Provider: cfg.Provider, Type: cfg.Type,
		Task: a.Task, IntervalMS: a.Interval, Params: cib.Effective(nil, cfg.InstanceAttributes, "", nil), Meta: map[string]string{}}
	for k, v := range a.Rsc.Meta {
		m.Meta[k] = v
	}
	// The node the action runs on, as Pacemaker passes it
	// (OCF_RESKEY_CRM_meta_on_node): agents on one machine's local
	// cluster cannot tell their node from the host name.
	m.Meta["on_node"] = a.Node.Name
	m.Meta["on_node_uuid"] = a.Node.ID
	// A clone instance's number and settings, a notification's details.
	for k, v := range a.ExecMeta() {
		m.Meta[k] = v
	}
	timeout := time.Duration(0)
	find := func(name string, iv int) {
		for _, o := range cfg.Ops {
			if o.Name != name {
				continue
			}
			if d, err := o.IntervalDuration(); err != nil || int(d/time.Millisecond) != iv {
				continue
			}
			if t, ok, err := o.TimeoutDuration(); ok && err == nil && timeout == 0 {
				timeout = t
			}
		}
	}
	task := a.Task
	if task == "cancel" {
		task = "monitor"
	}
	find(task, a.Interval)
	if timeout == 0 && task == "monitor" && a.Interval == 0 {
		// A probe takes the timeout of the first recurring monitor, as
		// Pacemaker does.
		for _, o := range cfg.Ops {
			if o.Name == "monitor" {
				if t, ok, err := o.TimeoutDuration(); ok && err == nil && timeout == 0 {
					timeout = t
				}
			}
		}
	}
	if timeout == 0 {
		d.s.mu.Lock()
		c := d.s.rep.CIB()
		d.s.mu.Unlock()
		if v, ok := cib.Effective(nil, c.Configuration.OpDefaults, "", nil)["timeout"]; ok {
			if t, err := cib.ParseDuration(v); err == nil && t > 0 {
				timeout = t
			}
		}
	}
	if timeout == 0 {
		timeout = defaultOpTimeout
	}
	m.TimeoutMS = int(timeout / time.Millisecond)
	return m, timeout
}

// fence asks the local fenced to fence the action's node; the result comes
// back to the loop.
func (d *dcLoop) fence(ctx context.Context, a *scheduler.Action) {
	timeout := 120 * time.Second
	d.sent[a.ID] = &sentAction{a: a, deadline: time.Now().Add(timeout + d.clusterDelay())}
	if d.s.fence == nil {
		d.sent[a.ID].deadline = time.Now()
		return
	}
	action := fencev1.Action_ACTION_REBOOT
	d.s.mu.Lock()
	c := d.s.rep.CIB()
	d.s.mu.Unlock()
	if v, ok := c.Configuration.Property("stonith-action"); ok && (v == "off" || v == "poweroff") {
		action = fencev1.Action_ACTION_OFF
	}
	tnum, id, target := d.tnum, a.ID, a.Node.Name
	d.log.Info("fencing", "node", target, "action", action.String())
	go func() {
		fctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		resp, err := d.s.fence.Fence(fctx, &fencev1.FenceRequest{Target: target, Action: action, Timeout: durationpb.New(timeout)})
		f := fenceDone{tnum: tnum, action: id}
		switch {
		case err != nil:
			f.err = err.Error()
		case resp.GetEntry().GetState() == fencev1.State_STATE_SUCCEEDED:
			f.ok = true
		default:
			f.err = resp.GetEntry().GetState().String()
		}
		d.log.Info("fencing done", "node", target, "ok", f.ok, "err", f.err)
		d.mu.Lock()
		d.fenced = append(d.fenced, f)
		d.mu.Unlock()
		d.kickResult()
	}()
}

// recorded reports whether the status already holds result m on node: an
// operation of the resource there with its transition key, rc and
// op-status. A replayed result that is recorded is old news (the previous
// DC recorded it, perhaps followed by later operations it must not undo).
func recorded(c *cib.CIB, node string, m resultMsg) bool {
	ns := c.Status.NodeState(node)
	if ns == nil || ns.LRM == nil {
		return false
	}
	for _, lr := range ns.LRM.Resources {
		if lr.ID != m.Rsc {
			continue
		}
		for _, op := range lr.Ops {
			if op.TransitionKey == m.TransitionKey && op.RCCode == strconv.Itoa(m.RC) && op.OpStatus == strconv.Itoa(m.OpStatus) {
				return true
			}
		}
	}
	return false
}

// recordPending writes the starts and promotions about to be sent into the
// status as pending (op-status -1, rc 193), as Pacemaker does with
// record-pending, before they are sent: if this DC dies before their
// results are recorded, the next DC sees that the resource may be running
// there, and if that node is gone too, waits for its fencing before
// starting the resource elsewhere. Without this a resource started by a DC
// that died with its node at once was started again on a survivor while
// the dead node's fencing was still running.
func (d *dcLoop) recordPending(ctx context.Context, acts []*scheduler.Action) {
	var pending []transition.OpResult
	for _, a := range acts {
		if a.Rsc == nil || a.Node == nil || a.Pseudo || a.Rsc.Cfg == nil || (a.Task != "start" && a.Task != "promote") {
			continue
		}
		cfg := a.Rsc.Cfg
		pending = append(pending, transition.OpResult{Node: a.Node.Name, NodeID: a.Node.ID, Rsc: a.Name, Class: cfg.Class,
			Provider: cfg.Provider, Type: cfg.Type, Task: a.Task, IntervalMS: a.Interval,
			TransitionKey: transition.TransitionKey(a.ID, d.tnum, targetRC(a), d.uuid), TargetRC: targetRC(a),
			RC: transition.RCPending, OpStatus: transition.OpStatusPending, When: time.Now()})
	}
	if len(pending) == 0 {
		return
	}
	if err := d.update(ctx, func(c *cib.CIB) {
		for _, r := range pending {
			transition.Record(c, r)
		}
	}); err != nil && ctx.Err() == nil {
		d.log.Warn("could not record the pending actions; sending them all the same", "err", err)
	}
}
