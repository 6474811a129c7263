package transition

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/scheduler"
)

func keys(as []*scheduler.Action) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Key())
	}
	return out
}

// graph: stop d1, (pseudo) stopped, start d1, monitor d1; plus start d2
// unordered.
func testGraph() (*scheduler.Graph, []*scheduler.Action) {
	mk := func(name, task string, iv int, pseudo bool) *scheduler.Action {
		return &scheduler.Action{Name: name, Task: task, Interval: iv, Pseudo: pseudo, Runnable: true}
	}
	stop := mk("d1", "stop", 0, false)
	stopped := mk("g", "stopped", 0, true)
	start := mk("d1", "start", 0, false)
	mon := mk("d1", "monitor", 2000, false)
	d2 := mk("d2", "start", 0, false)
	opt := mk("d3", "start", 0, false)
	opt.Optional = true
	// The scheduler's graph carries start → monitor itself, as
	// Pacemaker's graphs do.
	g := &scheduler.Graph{Actions: []*scheduler.Action{stop, stopped, start, mon, d2, opt},
		Edges: []scheduler.Edge{{First: stop, Then: stopped}, {First: stopped, Then: start}, {First: start, Then: mon}, {First: opt, Then: d2}}}
	return g, []*scheduler.Action{stop, stopped, start, mon, d2}
}

func TestEngineOrder(t *testing.T) {
	g, a := testGraph()
	e := New(g, 0)
	if e.Len() != 5 {
		t.Fatalf("executed %d actions, want 5 (the optional one is not)", e.Len())
	}
	if got := keys(e.Next()); !slices.Equal(got, []string{"d1_stop_0", "d2_start_0"}) {
		t.Fatalf("first batch %v", got)
	}
	if got := e.Next(); len(got) != 0 {
		t.Fatalf("nothing completed, yet %v", keys(got))
	}
	e.Complete(a[0], true)
	// The pseudo action completes at once and the start follows.
	if got := keys(e.Next()); !slices.Equal(got, []string{"d1_start_0"}) {
		t.Fatalf("after the stop %v", got)
	}
	e.Complete(a[2], true)
	e.Complete(a[4], true)
	if got := keys(e.Next()); !slices.Equal(got, []string{"d1_monitor_2000"}) {
		t.Fatalf("after the start %v", got)
	}
	if e.Finished() {
		t.Fatal("finished with the monitor in flight")
	}
	e.Complete(a[3], true)
	if !e.Finished() {
		t.Fatal("not finished")
	}
}

func TestEngineBatchLimit(t *testing.T) {
	g, a := testGraph()
	e := New(g, 1)
	if got := keys(e.Next()); !slices.Equal(got, []string{"d1_stop_0"}) {
		t.Fatalf("batch-limit 1: %v", got)
	}
	e.Complete(a[0], true)
	if got := keys(e.Next()); !slices.Equal(got, []string{"d1_start_0"}) {
		t.Fatalf("batch-limit 1 after the stop: %v", got)
	}
}

func TestEngineAbort(t *testing.T) {
	g, a := testGraph()
	e := New(g, 0)
	e.Next()
	e.Complete(a[0], false)
	if ab, why := e.Aborted(); !ab || why != "action d1_stop_0 failed" {
		t.Fatalf("aborted %v %q", ab, why)
	}
	if got := e.Next(); len(got) != 0 {
		t.Fatalf("an aborted transition sent %v", keys(got))
	}
	if e.Finished() {
		t.Fatal("finished with d2's start in flight")
	}
	e.Complete(a[4], true)
	if !e.Finished() {
		t.Fatal("an aborted transition with nothing in flight is finished")
	}
}

func TestEngineLoop(t *testing.T) {
	x := &scheduler.Action{Name: "x", Task: "start", Runnable: true}
	y := &scheduler.Action{Name: "y", Task: "start", Runnable: true}
	e := New(&scheduler.Graph{Actions: []*scheduler.Action{x, y}, Edges: []scheduler.Edge{{First: x, Then: y}, {First: y, Then: x}}}, 0)
	e.Next()
	if !e.Finished() {
		t.Fatal("a transition with an ordering loop hangs")
	}
}

func TestRecord(t *testing.T) {
	c := &cib.CIB{}
	when := time.Unix(1700000000, 0)
	base := OpResult{Node: "n1", NodeID: "1", Rsc: "d1", Class: "plugin", Type: "dummy", When: when}
	probe := base
	probe.Task, probe.TargetRC, probe.RC, probe.TransitionKey = "monitor", RCNotRunning, RCNotRunning, TransitionKey(3, 1, 7, "u")
	Record(c, probe)
	start := base
	start.Task, start.TransitionKey, start.ExecMS = "start", TransitionKey(4, 1, 0, "u"), 12
	Record(c, start)
	mon := base
	mon.Task, mon.IntervalMS, mon.TransitionKey = "monitor", 2000, TransitionKey(5, 1, 0, "u")
	Record(c, mon)
	lr := c.Status.NodeState("n1").Resource("d1")
	if len(lr.Ops) != 2 || lr.Ops[0].ID != "d1_last_0" || lr.Ops[0].Operation != "start" || lr.Ops[0].CallID != "2" ||
		lr.Ops[1].ID != "d1_monitor_2000" || lr.Ops[1].CallID != "3" || lr.Ops[1].TransitionMagic != "0:0;5:1:0:u" || lr.Ops[0].ExecTime != "12" {
		t.Fatalf("history %s", cib.Marshal(c))
	}
	// A failed recurring monitor: recorded, counted.
	fail := mon
	fail.RC = 7
	Record(c, fail)
	Record(c, fail)
	attrs := c.Status.NodeState("n1").Attributes()
	if attrs["fail-count-d1#monitor_2000"] != "2" || attrs["last-failure-d1#monitor_2000"] != "1700000000" {
		t.Fatalf("fail counts %v", attrs)
	}
	if len(lr.Ops) != 3 || lr.Ops[2].ID != "d1_last_failure_0" {
		t.Fatalf("history after the failure %s", cib.Marshal(c))
	}
	// A stop drops the recurring entries; clear_failcount the counts.
	stop := base
	stop.Task, stop.TransitionKey = "stop", TransitionKey(6, 2, 0, "u")
	Record(c, stop)
	for _, o := range lr.Ops {
		if o.ID == "d1_monitor_2000" {
			t.Fatalf("the monitor survived the stop: %s", cib.Marshal(c))
		}
	}
	ClearFailCount(c, "1", "n1", "d1")
	if len(c.Status.NodeState("n1").Attributes()) != 0 {
		t.Fatalf("fail counts after clear_failcount: %v", c.Status.NodeState("n1").Attributes())
	}
	// The result decodes as a CIB.
	if _, err := cib.Unmarshal(cib.Marshal(c)); err != nil {
		t.Fatal(err)
	}
}

func TestFailed(t *testing.T) {
	for _, tc := range []struct {
		r    OpResult
		want bool
	}{
		{OpResult{Task: "monitor", TargetRC: 7, RC: 0}, false},
		{OpResult{Task: "monitor", TargetRC: 7, RC: 1}, true},
		{OpResult{Task: "monitor", IntervalMS: 1000, TargetRC: 0, RC: 7}, true},
		{OpResult{Task: "start", TargetRC: 0, RC: 0, OpStatus: OpStatusTimedOut}, true},
		{OpResult{Task: "stop", TargetRC: 0, RC: 7}, false},
	} {
		if got := tc.r.Failed(); got != tc.want {
			t.Errorf("%+v: Failed %v, want %v", tc.r, got, tc.want)
		}
	}
}

func TestUpdateNodeAndWithNodes(t *testing.T) {
	c := &cib.CIB{}
	if !UpdateNode(c, Membership{ID: "1", Uname: "n1", Member: true}) {
		t.Fatal("no change for a new node")
	}
	if UpdateNode(c, Membership{ID: "1", Uname: "n1", Member: true}) {
		t.Fatal("a change for the same state")
	}
	Record(c, OpResult{Node: "n1", NodeID: "1", Rsc: "d1", Task: "start"})
	UpdateNode(c, Membership{ID: "1", Uname: "n1", Member: false})
	ns := c.Status.NodeState("n1")
	if ns.InCCM != "false" || ns.Crmd != "offline" || ns.Expected != "member" || ns.LRM == nil {
		t.Fatalf("left: %+v", ns)
	}
	UpdateNode(c, Membership{ID: "1", Uname: "n1", Member: true, Rejoined: true})
	if ns.LRM != nil || ns.Join != "member" {
		t.Fatalf("rejoined: %+v", ns)
	}
	w := WithNodes(c)
	if len(w.Configuration.Nodes) != 1 || w.Configuration.Nodes[0].Uname != "n1" || len(c.Configuration.Nodes) != 0 {
		t.Fatalf("WithNodes: %+v", w.Configuration.Nodes)
	}
}
