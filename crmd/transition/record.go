package transition

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// OCF exit codes the engine decides on.
const (
	RCOK           = 0
	RCNotRunning   = 7
	RCRunningPromo = 8
	// RCPending is the rc-code of an operation recorded before it ran
	// (PCMK_OCF_UNKNOWN).
	RCPending = 193
)

// Operation statuses as Pacemaker records them in op-status
// (PCMK_EXEC_*).
const (
	OpStatusPending      = -1
	OpStatusDone         = 0
	OpStatusCancelled    = 1
	OpStatusTimedOut     = 2
	OpStatusNotSupported = 3
	OpStatusError        = 4
	OpStatusNotInstalled = 7
	OpStatusNotConnected = 9
)

// FeatureSet is the crm-feature-set written on recorded operations.
const FeatureSet = "3.19.0"

// TransitionKey is Pacemaker's transition key:
// ACTION:TRANSITION:TARGET_RC:UUID.
func TransitionKey(action, transition, targetRC int, uuid string) string {
	return fmt.Sprintf("%d:%d:%d:%s", action, transition, targetRC, uuid)
}

// ParseTransitionKey splits a transition key.
func ParseTransitionKey(key string) (action, transition, targetRC int, uuid string, err error) {
	parts := strings.SplitN(key, ":", 4)
	if len(parts) != 4 {
		return 0, 0, 0, "", fmt.Errorf("transition: key %q is not ACTION:TRANSITION:TARGET_RC:UUID", key)
	}
	n := make([]int, 3)
	for i := range 3 {
		if n[i], err = strconv.Atoi(parts[i]); err != nil {
			return 0, 0, 0, "", fmt.Errorf("transition: key %q: %w", key, err)
		}
	}
	return n[0], n[1], n[2], parts[3], nil
}

// OpResult is one operation result the DC records in the status section.
type OpResult struct {
	// Node and NodeID name the node the operation ran on.
	Node, NodeID string
	// Rsc is the resource's history name; Class, Provider and Type its
	// agent.
	Rsc                   string
	Class, Provider, Type string
	Task                  string
	IntervalMS            int
	TransitionKey         string
	TargetRC              int
	RC                    int
	OpStatus              int
	ExitReason            string
	// When is when the result came (last-rc-change).
	When            time.Time
	ExecMS, QueueMS int
}

// Expected reports whether the operation did what the transition
// expected: done, with the target exit code.
func (r OpResult) Expected() bool { return r.OpStatus == OpStatusDone && r.RC == r.TargetRC }

// IsProbe reports whether the operation is a probe (a monitor with no
// interval).
func (r OpResult) IsProbe() bool { return r.Task == "monitor" && r.IntervalMS == 0 }

// Failed reports whether the result is a failure, which counts against the
// resource on the node: not the expected result, except a probe that
// found the resource running, stopped or promoted (the cluster merely
// learns where it is).
func (r OpResult) Failed() bool {
	if r.Expected() {
		return false
	}
	if r.IsProbe() && r.OpStatus == OpStatusDone && (r.RC == RCOK || r.RC == RCNotRunning || r.RC == RCRunningPromo) {
		return false
	}
	// A stop that finds the resource stopped did its job.
	if r.Task == "stop" && r.OpStatus == OpStatusDone && r.RC == RCNotRunning {
		return false
	}
	return true
}

// OperationKey is RSC_TASK_INTERVAL.
func (r OpResult) OperationKey() string {
	return r.Rsc + "_" + r.Task + "_" + strconv.Itoa(r.IntervalMS)
}

// HistoryID is the id of the lrm_rsc_op entry the result goes to:
// RSC_TASK_INTERVAL for a recurring operation, RSC_last_0 for the others.
func (r OpResult) HistoryID() string {
	if r.IntervalMS > 0 {
		return r.OperationKey()
	}
	return r.Rsc + "_last_0"
}

// FailCountName is the transient attribute counting the failures of the
// operation: fail-count-RSC#TASK_INTERVAL.
func (r OpResult) FailCountName() string {
	return "fail-count-" + r.Rsc + "#" + r.Task + "_" + strconv.Itoa(r.IntervalMS)
}

// LastFailureName is the transient attribute holding the time of the
// operation's last failure.
func (r OpResult) LastFailureName() string {
	return "last-failure-" + r.Rsc + "#" + r.Task + "_" + strconv.Itoa(r.IntervalMS)
}

// NodeState returns the node_state of the node named uname in c, creating
// it (with id) when missing.
func NodeState(c *cib.CIB, id, uname string) *cib.NodeState {
	for _, ns := range c.Status.NodeStates {
		if ns.Uname == uname || (ns.Uname == "" && ns.ID == id) {
			if ns.ID == "" {
				ns.ID = id
			}
			return ns
		}
	}
	ns := &cib.NodeState{ID: id, Uname: uname}
	c.Status.NodeStates = append(c.Status.NodeStates, ns)
	return ns
}

// Record writes r into c's status section as Pacemaker's controller does:
// the lrm_rsc_op entry RSC_last_0 (or RSC_TASK_INTERVAL for a recurring
// operation) with a call id above every other of the node, a successful
// stop drops the resource's recurring entries, a cancel drops the entry
// it cancelled; a failure is also written as RSC_last_failure_0 and
// counted in the transient attributes fail-count-RSC#TASK_INTERVAL and
// last-failure-RSC#TASK_INTERVAL.
func Record(c *cib.CIB, r OpResult) {
	ns := NodeState(c, r.NodeID, r.Node)
	if ns.LRM == nil {
		ns.LRM = &cib.LRM{ID: ns.ID}
	}
	var lr *cib.LRMResource
	for _, x := range ns.LRM.Resources {
		if x.ID == r.Rsc {
			lr = x
		}
	}
	if lr == nil {
		lr = &cib.LRMResource{ID: r.Rsc, Class: r.Class, Provider: r.Provider, Type: r.Type}
		ns.LRM.Resources = append(ns.LRM.Resources, lr)
	}
	if r.Task == "cancel" {
		cancelled := r.Rsc + "_monitor_" + strconv.Itoa(r.IntervalMS)
		lr.Ops = slices.DeleteFunc(lr.Ops, func(o *cib.LRMRscOp) bool { return o.ID == cancelled })
		return
	}
	call := 0
	for _, x := range ns.LRM.Resources {
		for _, o := range x.Ops {
			if n, ok := o.Call(); ok && n > call {
				call = n
			}
		}
	}
	call++
	if r.Task == "stop" && !r.Failed() {
		lr.Ops = slices.DeleteFunc(lr.Ops, func(o *cib.LRMRscOp) bool {
			iv, _ := o.IntervalMS()
			return iv > 0 && o.ID != r.Rsc+"_last_failure_0"
		})
	}
	when := strconv.FormatInt(r.When.Unix(), 10)
	op := &cib.LRMRscOp{
		ID: r.HistoryID(), OperationKey: r.OperationKey(), Operation: r.Task,
		CrmDebugOrigin: "vigil-crmd", CrmFeatureSet: FeatureSet,
		TransitionKey:   r.TransitionKey,
		TransitionMagic: fmt.Sprintf("%d:%d;%s", r.OpStatus, r.RC, r.TransitionKey),
		ExitReason:      r.ExitReason, OnNode: r.Node,
		CallID: strconv.Itoa(call), RCCode: strconv.Itoa(r.RC), OpStatus: strconv.Itoa(r.OpStatus),
		Interval: strconv.Itoa(r.IntervalMS), LastRCChange: when,
		ExecTime: strconv.Itoa(r.ExecMS), QueueTime: strconv.Itoa(r.QueueMS),
	}
	putOp(lr, op)
	if r.OpStatus == OpStatusPending || !r.Failed() {
		// A pending operation (recorded before it runs) is no failure.
		return
	}
	failure := *op
	failure.ID = r.Rsc + "_last_failure_0"
	putOp(lr, &failure)
	attrs := transientSet(ns)
	n := 0
	if v, ok := attrs.Get(r.FailCountName()); ok {
		n, _ = strconv.Atoi(v)
	}
	setPair(attrs, r.FailCountName(), strconv.Itoa(n+1))
	setPair(attrs, r.LastFailureName(), when)
}

func putOp(lr *cib.LRMResource, op *cib.LRMRscOp) {
	for i, o := range lr.Ops {
		if o.ID == op.ID {
			lr.Ops[i] = op
			return
		}
	}
	lr.Ops = append(lr.Ops, op)
}

// transientSet returns the node's transient instance_attributes block
// status-ID, creating it.
func transientSet(ns *cib.NodeState) *cib.NVSet {
	if ns.TransientAttributes == nil {
		ns.TransientAttributes = &cib.TransientAttributes{ID: ns.ID}
	}
	t := ns.TransientAttributes
	if len(t.Sets) == 0 {
		t.Sets = append(t.Sets, &cib.NVSet{ID: "status-" + ns.ID})
	}
	return t.Sets[0]
}

func setPair(s *cib.NVSet, name, value string) {
	for _, p := range s.Pairs {
		if p.Name == name {
			p.Value = value
			return
		}
	}
	s.Pairs = append(s.Pairs, &cib.NVPair{ID: s.ID + "-" + name, Name: name, Value: value})
}

// SetTransient sets the transient attribute name=value of the node (in
// its status-ID block), as attrd_updater does; an empty value removes it.
func SetTransient(c *cib.CIB, id, uname, name, value string) {
	ns := NodeState(c, id, uname)
	if value == "" {
		if ns.TransientAttributes != nil {
			for _, s := range ns.TransientAttributes.Sets {
				s.Pairs = slices.DeleteFunc(s.Pairs, func(p *cib.NVPair) bool { return p.Name == name })
			}
		}
		return
	}
	setPair(transientSet(ns), name, value)
}

// ClearFailCount removes the fail-count and last-failure attributes of
// resource rsc (every operation) on the node, as clear_failcount does.
func ClearFailCount(c *cib.CIB, id, uname, rsc string) {
	ns := NodeState(c, id, uname)
	if ns.TransientAttributes == nil {
		return
	}
	for _, s := range ns.TransientAttributes.Sets {
		s.Pairs = slices.DeleteFunc(s.Pairs, func(p *cib.NVPair) bool {
			for _, pre := range []string{"fail-count-", "last-failure-"} {
				if rest, ok := strings.CutPrefix(p.Name, pre); ok && (rest == rsc || strings.HasPrefix(rest, rsc+"#")) {
					return true
				}
			}
			return false
		})
	}
}

// Membership is what the DC knows of one node for its node_state.
type Membership struct {
	ID, Uname string
	// Member says the node's crmd is in the crm group (and so the node
	// in the messaging membership).
	Member bool
	// Rejoined says the node's crmd joined since the DC last saw it: its
	// operation history is stale and is dropped, so that the scheduler
	// probes it again.
	Rejoined bool
}

// UpdateNode sets the node_state of m as Pacemaker's controller keeps it:
// a member is in_ccm="true" crmd="online" join="member"
// expected="member"; a node that left is in_ccm="false" crmd="offline"
// join="down", its expected state kept. It reports whether anything
// changed.
func UpdateNode(c *cib.CIB, m Membership) bool {
	before := nodeStateText(c, m.Uname)
	ns := NodeState(c, m.ID, m.Uname)
	if m.Member {
		ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "true", "online", "member", "member"
		if v := ns.Attributes()["shutdown"]; v != "" && v != "0" && !m.Rejoined {
			// A node shutting down is expected to leave: its departure
			// is clean, not a reason to fence it.
			ns.Expected = "down"
		}
		if m.Rejoined {
			ns.LRM = nil
			if ns.TransientAttributes != nil {
				// Transient attributes die with the node (attrd keeps
				// them in memory only).
				ns.TransientAttributes = nil
			}
		}
	} else {
		ns.InCCM, ns.Crmd, ns.Join = "false", "offline", "down"
	}
	ns.CrmDebugOrigin = "vigil-crmd"
	return nodeStateText(c, m.Uname) != before
}

func nodeStateText(c *cib.CIB, uname string) string {
	for _, ns := range c.Status.NodeStates {
		if ns.Uname == uname {
			return fmt.Sprintf("%+v %v", *ns, ns.LRM != nil)
		}
	}
	return ""
}

// WithNodes returns c with a <node> in the configuration for every node of
// the status section that has none: Vigil's nodes come from the nodelist
// of vigil.conf, and the DC keeps them in the status only, so that joins
// do not bump the configuration's epoch. The scheduler and `vigil status`
// read the result. c is not modified when nothing is missing; otherwise a
// shallow copy is returned.
func WithNodes(c *cib.CIB) *cib.CIB {
	var missing []*cib.Node
	for _, ns := range c.Status.NodeStates {
		if ns.Uname == "" || c.Configuration.Node(ns.Uname) != nil {
			continue
		}
		missing = append(missing, &cib.Node{ID: ns.ID, Uname: ns.Uname, Type: "member"})
	}
	if len(missing) == 0 {
		return c
	}
	cp := *c
	cp.Configuration.Nodes = append(slices.Clone(c.Configuration.Nodes), missing...)
	return &cp
}
