package fencing

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// group delivers every message to every member in one order, as the
// fence process group does, and runs the device runs its members are
// asked for with outcome, sending each result back through the group.
type group struct {
	t       *testing.T
	states  map[string]*State
	order   []string
	seq     uint64
	queue   []queued
	outcome func(r Run) (bool, string)
	// hold, when set, takes the runs instead of outcome: no result is sent.
	hold   func(r Run)
	runs   []string // "node:device" of every Run, in order
	timers map[string][]string
	done   map[string]map[string]Entry // node -> id -> finished entry
}

type queued struct {
	from string
	m    Message
}

// clock is node's own clock: the members' clocks differ by a second each.
func (g *group) clock(node string) time.Time {
	return t0.Add(time.Duration(slices.Index(g.order, node)+1) * time.Second)
}

func newGroup(t *testing.T, members ...string) *group {
	g := &group{t: t, states: map[string]*State{}, timers: map[string][]string{}, done: map[string]map[string]Entry{}}
	g.outcome = func(Run) (bool, string) { return true, "done" }
	for _, n := range members {
		g.states[n] = New(n, []string{"n1", "n2", "n3"})
		g.order = append(g.order, n)
		g.done[n] = map[string]Entry{}
	}
	for _, n := range members {
		g.effects(n, g.states[n].ViewChanged(members))
	}
	return g
}

func (g *group) send(from string, m Message) {
	g.queue = append(g.queue, queued{from, m})
	g.flush()
}

func (g *group) flush() {
	for len(g.queue) > 0 {
		q := g.queue[0]
		g.queue = g.queue[1:]
		g.seq++
		for _, n := range g.order {
			g.effects(n, g.states[n].Apply(q.m, q.from, Version(1, g.seq), t0))
		}
	}
}

func (g *group) effects(node string, effs []Effect) {
	for _, e := range effs {
		switch {
		case e.Run != nil:
			g.runs = append(g.runs, node+":"+e.Run.Device.ID)
			if g.hold != nil {
				g.hold(*e.Run)
				continue
			}
			ok, msg := g.outcome(*e.Run)
			g.queue = append(g.queue, queued{node, Message{Result: &Result{ID: e.Run.ID, Step: e.Run.Step, OK: ok, Message: msg}, At: t0}})
		case e.ArmTimer != "":
			g.timers[node] = append(g.timers[node], e.ArmTimer)
		case e.Result != nil:
			g.queue = append(g.queue, queued{node, Message{Result: e.Result, At: g.clock(node)}})
		case e.Left != nil:
			g.queue = append(g.queue, queued{node, Message{Left: e.Left, At: g.clock(node)}})
		case e.Finished != nil:
			g.done[node][e.Finished.ID] = *e.Finished
		}
	}
}

// entry returns the entry id, checking every member holds the same.
func (g *group) entry(id string) Entry {
	g.t.Helper()
	var ref Entry
	for i, n := range g.order {
		e, ok := g.states[n].Entry(id)
		if !ok {
			g.t.Fatalf("%s has no entry %s", n, id)
		}
		if i == 0 {
			ref = e
		} else if !reflect.DeepEqual(e, ref) {
			g.t.Fatalf("%s's entry differs:\n%+v\n%+v", n, e, ref)
		}
	}
	return ref
}

func dev(id, agent string, params ...string) *Device {
	d := &Device{ID: id, Agent: agent, Params: map[string]string{}}
	for _, kv := range params {
		k, v, _ := strings.Cut(kv, "=")
		d.Params[k] = v
	}
	return d
}

func fenceMsg(id, target string) Message {
	return Message{Fence: &Entry{ID: id, Target: target, Action: Off, Requested: t0}}
}

func TestTopologyFallsThrough(t *testing.T) {
	g := newGroup(t, "n1", "n2", "n3")
	g.send("n2", Message{Register: dev("bad", "plugin:fence-dummy", "pcmk_host_list=n3")})
	g.send("n1", Message{Register: dev("good", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n2", Message{Register: dev("good2", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n1", Message{Level: &Level{Target: "n3", Index: 1, Devices: []string{"bad"}}})
	g.send("n1", Message{Level: &Level{Target: "n3", Index: 2, Devices: []string{"good", "good2"}}})
	g.outcome = func(r Run) (bool, string) {
		if r.Device.ID == "bad" {
			return false, "told to fail"
		}
		return true, "off"
	}
	g.send("n1", fenceMsg("f1", "n3"))
	e := g.entry("f1")
	if e.State != Succeeded || e.Level != 2 || e.Executioner != "n1,n2" || e.Device != "good,good2" || e.Origin != "n1" {
		t.Errorf("entry: %+v", e)
	}
	if want := []string{"n2:bad", "n1:good", "n2:good2"}; !slices.Equal(g.runs, want) {
		t.Errorf("runs %v, want %v", g.runs, want)
	}
	for _, n := range g.order {
		if _, ok := g.done[n]["f1"]; !ok {
			t.Errorf("%s was not told f1 finished", n)
		}
	}
	if !strings.Contains(e.Reason, "level 1: device bad on n2: failed: told to fail") {
		t.Errorf("reason: %s", e.Reason)
	}
}

func TestAllDevicesOfALevelMustSucceed(t *testing.T) {
	g := newGroup(t, "n1", "n2", "n3")
	g.send("n1", Message{Register: dev("a", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n2", Message{Register: dev("b", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n2", Message{Register: dev("c", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n1", Message{Level: &Level{Target: "n3", Index: 1, Devices: []string{"a", "b", "c"}}})
	g.outcome = func(r Run) (bool, string) { return r.Device.ID != "b", "" }
	g.send("n1", fenceMsg("f1", "n3"))
	if e := g.entry("f1"); e.State != Failed {
		t.Errorf("one device of the only level failed, yet: %+v", e)
	}
	if want := []string{"n1:a", "n2:b"}; !slices.Equal(g.runs, want) {
		t.Errorf("runs %v, want %v (c is not run once b failed)", g.runs, want)
	}
}

func TestBadRequestsFailAtOnce(t *testing.T) {
	g := newGroup(t, "n1", "n2", "n3")
	g.send("n3", Message{Register: dev("self", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n1", Message{Register: dev("other", "fence_dummy", "pcmk_host_list=n2")})
	for _, c := range []struct {
		target string
		want   string
	}{
		{"n9", `unknown target "n9"`},
		{"n3", "device self skipped: it is hosted on n3, the target itself (self-fencing not allowed)"},
		{"n1", "no device can fence n1: device other cannot fence n1"},
	} {
		g.send("n2", fenceMsg("f-"+c.target, c.target))
		e := g.entry("f-" + c.target)
		if e.State != Failed || !strings.Contains(e.Reason, c.want) {
			t.Errorf("%s: %s %q, want failed with %q", c.target, e.State, e.Reason, c.want)
		}
	}
	if len(g.runs) != 0 {
		t.Errorf("devices ran: %v", g.runs)
	}
	// Allowed explicitly, the target's own device fences it.
	m := fenceMsg("suicide", "n3")
	m.Fence.AllowSelf = true
	g.send("n3", m)
	if e := g.entry("suicide"); e.State != Succeeded || e.Executioner != "n3" {
		t.Errorf("suicide: %+v", e)
	}
}

func TestExecutorLeavesAndTimeout(t *testing.T) {
	g := newGroup(t, "n1", "n2", "n3")
	g.send("n2", Message{Register: dev("d2", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n1", Message{Register: dev("d1", "fence_dummy", "pcmk_host_list=n3")})
	var held []Run
	// Hold the runs: no result comes back by itself.
	g.hold = func(r Run) { held = append(held, r) }
	g.send("n3", fenceMsg("f1", "n3"))
	if len(held) != 1 || held[0].Device.ID != "d1" {
		t.Fatalf("held %+v", held)
	}
	for _, n := range g.order {
		if !slices.Contains(g.timers[n], "f1") {
			t.Errorf("%s armed no timer for f1", n)
		}
	}
	// n1, running d1, leaves: the others move on to d2 on n2.
	g.order = []string{"n2", "n3"}
	for _, n := range g.order {
		g.effects(n, g.states[n].ViewChanged([]string{"n2", "n3"}))
	}
	g.flush()
	if len(held) != 2 || held[1].Device.ID != "d2" {
		t.Fatalf("after n1 left, held %+v", held)
	}
	// n2 never answers: the timer's expiry fails the request.
	g.send("n3", Message{Expire: "f1", At: t0.Add(time.Minute)})
	e := g.entry("f1")
	if e.State != Failed || !strings.Contains(e.Reason, "node n1 left the fence group") || !strings.Contains(e.Reason, "timed out after 1m0s; no answer from device d2 on n2") {
		t.Errorf("entry: %+v", e)
	}
	// A late answer changes nothing.
	g.send("n2", Message{Result: &Result{ID: "f1", Step: 1, OK: true}})
	if e := g.entry("f1"); e.State != Failed {
		t.Errorf("a late success turned the entry into %s", e.State)
	}
}

func TestSyncTeachesANewMember(t *testing.T) {
	g := newGroup(t, "n1", "n2")
	g.send("n1", Message{Register: dev("d1", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n1", Message{Level: &Level{Target: "n3", Index: 1, Devices: []string{"d1"}}})
	g.send("n2", Message{Level: &Level{Target: "n2", Index: 1, Devices: []string{"d1"}}})
	g.send("n2", Message{Level: &Level{Target: "n2", Index: 1, Removed: true}})
	g.send("n2", fenceMsg("f1", "n3"))
	g.send("n1", Message{Confirm: &Entry{ID: "c1", Target: "n2", Action: Off, Requested: t0}, At: t0})
	// n3 joins: every member sends its sync.
	n3 := New("n3", []string{"n1", "n2", "n3"})
	g.states["n3"], g.done["n3"] = n3, map[string]Entry{}
	g.order = append(g.order, "n3")
	for _, n := range g.order {
		g.effects(n, g.states[n].ViewChanged(g.order))
	}
	for _, n := range g.order {
		g.send(n, g.states[n].SyncMessage())
	}
	if got := n3.Devices(); len(got) != 1 || got[0].Node != "n1" {
		t.Errorf("n3 devices: %+v", got)
	}
	if got := n3.Levels(""); len(got) != 1 || got[0].Target != "n3" {
		t.Errorf("n3 levels: %+v", got)
	}
	g.entry("f1")
	if e := g.entry("c1"); e.State != Succeeded || e.Device != "manual" {
		t.Errorf("confirmation: %+v", e)
	}
	// n1 restarts without devices: its sync removes them everywhere.
	g.states["n1"] = New("n1", []string{"n1", "n2", "n3"})
	g.send("n1", g.states["n1"].SyncMessage())
	if got := n3.Devices(); len(got) != 0 {
		t.Errorf("after n1's empty sync, n3 still has %+v", got)
	}
}

func TestHostChecks(t *testing.T) {
	s := New("n1", []string{"n1", "n2", "n3"})
	s.ViewChanged([]string{"n1", "n2", "n3"})
	for _, c := range []struct {
		d      *Device
		target string
		ok     bool
	}{
		{dev("m", "f", "pcmk_host_map=n2:plug2;n3:plug3"), "n3", true},
		{dev("m", "f", "pcmk_host_map=n2:plug2"), "n3", false},
		{dev("l", "f", "pcmk_host_list=n2 n3"), "n2", true},
		{dev("none", "f", "pcmk_host_check=none"), "n3", true},
		{dev("status", "f", "pcmk_host_check=status"), "n3", true},
		{&Device{ID: "dyn", Params: map[string]string{}, Node: "n2", Listed: true, Targets: []string{"n3"}}, "n3", true},
		{&Device{ID: "dyn", Params: map[string]string{}, Node: "n2", Listed: true, Targets: []string{"n2"}}, "n3", false},
		{&Device{ID: "dyn", Params: map[string]string{}, Node: "n2"}, "n3", false},
	} {
		if c.d.Node == "" {
			c.d.Node = "n1"
		}
		if ok, _, why := s.capable(c.d, c.target, false); ok != c.ok {
			t.Errorf("%s %v for %s: %v (%s)", c.d.ID, c.d.Params, c.target, ok, why)
		}
	}
	if p := dev("m", "f", "pcmk_host_map=n2:plug2;n3=plug3").Port("n3"); p != "plug3" {
		t.Errorf("port %q", p)
	}
	failedList := &Device{Params: map[string]string{}, Listed: true, TargetsErr: "no list"}
	if hc := failedList.HostCheck(); hc != StatusCheck {
		t.Errorf("a device whose list failed is checked with %s", hc)
	}
}

// Pacemaker falls back to status when a device's list action fails, also
// when pcmk_host_check=dynamic-list was set explicitly (it replaces the
// device's pcmk_host_check with status).
func TestExplicitDynamicListFallsBackToStatus(t *testing.T) {
	s := New("n1", []string{"n1", "n2", "n3"})
	s.ViewChanged([]string{"n1", "n2", "n3"})
	d := &Device{ID: "dyn", Node: "n2", Params: map[string]string{"pcmk_host_check": "dynamic-list"}, Listed: true, TargetsErr: "list: not supported"}
	if hc := d.HostCheck(); hc != StatusCheck {
		t.Errorf("explicit dynamic-list whose list failed is checked with %s, want status", hc)
	}
	if ok, _, why := s.capable(d, "n3", false); !ok {
		t.Errorf("explicit dynamic-list whose list failed cannot fence n3: %s", why)
	}
}

// When the executor leaves and no step is left, every member must record
// the same completion time: the members' clocks differ, so the time may
// not be each member's own at the configuration change.
func TestExecutorLeavingEndsAlikeEverywhere(t *testing.T) {
	g := newGroup(t, "n1", "n2", "n3")
	g.send("n1", Message{Register: dev("d1", "fence_dummy", "pcmk_host_list=n3")})
	g.hold = func(Run) {}
	g.send("n2", fenceMsg("f1", "n3"))
	g.order = []string{"n2", "n3"}
	for _, n := range g.order {
		g.effects(n, g.states[n].ViewChanged([]string{"n2", "n3"}))
	}
	g.flush()
	e := g.entry("f1")
	if e.State != Failed || !strings.Contains(e.Reason, "node n1 left the fence group before answering") {
		t.Errorf("entry: %+v", e)
	}
}

// A device unregistered after the plan was made fails its step at once:
// the request must not wait for its timeout, which would leave no time for
// the levels after it.
func TestUnregisteredDeviceFailsItsStepAtOnce(t *testing.T) {
	g := newGroup(t, "n1", "n2", "n3")
	g.send("n1", Message{Register: dev("d1", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n2", Message{Register: dev("d2", "fence_dummy", "pcmk_host_list=n3")})
	g.send("n1", Message{Register: dev("d3", "fence_dummy", "pcmk_host_list=n3")})
	for i, d := range []string{"d1", "d2", "d3"} {
		g.send("n1", Message{Level: &Level{Target: "n3", Index: i + 1, Devices: []string{d}}})
	}
	var held []Run
	g.hold = func(r Run) { held = append(held, r) }
	g.send("n1", fenceMsg("f1", "n3"))
	g.send("n2", Message{Unregister: "d2"})
	g.hold = nil
	g.send("n1", Message{Result: &Result{ID: "f1", Step: held[0].Step, Message: "told to fail"}, At: t0})
	e := g.entry("f1")
	if e.State != Succeeded || e.Device != "d3" || !strings.Contains(e.Reason, "d2") {
		t.Errorf("entry: %+v", e)
	}
}

// A member cut off from the group misses the result of a request and
// fails it by its own expiry, delivered when it is back: once every member
// has sent its sync, all hold the same entry, the success a device
// reported.
func TestRejoinedMemberConvergesOnTheAgreedResult(t *testing.T) {
	g := newGroup(t, "n1", "n2", "n3")
	g.send("n1", Message{Register: dev("d1", "fence_dummy", "pcmk_host_list=n2")})
	var held []Run
	g.hold = func(r Run) { held = append(held, r) }
	g.send("n1", fenceMsg("f1", "n2"))
	// n3 loses the group; n1 and n2 go on without it.
	all := g.order
	g.order = []string{"n1", "n2"}
	for _, n := range g.order {
		g.effects(n, g.states[n].ViewChanged(g.order))
	}
	g.effects("n3", g.states["n3"].ViewChanged([]string{"n3"}))
	g.send("n1", Message{Result: &Result{ID: "f1", Step: held[0].Step, OK: true, Message: "off"}, At: t0.Add(time.Second)})
	// n3's expiry, retried until it is back, is delivered first.
	g.order = all
	for _, n := range g.order {
		g.effects(n, g.states[n].ViewChanged(g.order))
	}
	g.send("n3", Message{Expire: "f1", At: t0.Add(time.Minute)})
	for _, n := range g.order {
		g.send(n, g.states[n].SyncMessage())
	}
	if e := g.entry("f1"); e.State != Succeeded || e.Executioner != "n1" {
		t.Errorf("entry: %+v", e)
	}
}
