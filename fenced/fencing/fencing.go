// Package fencing is the deterministic core of vigil-fenced: the device
// table, the fencing topology, the fence history and the progress of every
// request, driven only by the messages of the fence process group and its
// configuration changes, applied in the group's agreed order.
//
// Every member applies the same sequence and so reaches the same decisions:
// which device runs next, on which node, and what the result is. A State
// does no I/O and reads no clock: the time of each event is passed in, and
// what the daemon must do (run a device, arm a timer, tell a waiting
// client) comes back as Effects. See docs/fencing.md.
package fencing

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The states of a history entry.
const (
	Pending   = "pending"
	Succeeded = "succeeded"
	Failed    = "failed"
)

// The actions of a fence request.
const (
	Off    = "off"
	On     = "on"
	Reboot = "reboot"
)

// The values of pcmk_host_check.
const (
	StaticList  = "static-list"
	DynamicList = "dynamic-list"
	StatusCheck = "status"
	NoCheck     = "none"
)

// DefaultTimeout bounds a request that names no timeout (Pacemaker's
// stonith-timeout).
const DefaultTimeout = 60 * time.Second

// Grace is how long after a request's timeout the members declare it
// failed if its executor has not answered: the executor kills its driver
// at the timeout and reports that itself, unless it is gone or stuck.
const Grace = 2 * time.Second

// Device is a fencing device as every member knows it.
type Device struct {
	ID string `json:"id"`
	// Agent is a fence agent (fence_dummy) or a plugin (plugin:NAME).
	Agent  string            `json:"agent"`
	Params map[string]string `json:"params,omitempty"`
	// Node hosts the device: the node it was registered on, the only one
	// that runs it.
	Node string `json:"node"`
	// Targets is what the device's list action answered (dynamic-list);
	// TargetsErr why it failed.
	Targets    []string `json:"targets,omitempty"`
	TargetsErr string   `json:"targets_err,omitempty"`
	Listed     bool     `json:"listed,omitempty"`
}

// HostCheck is the device's effective pcmk_host_check, with Pacemaker's
// default: static-list when pcmk_host_list or pcmk_host_map is set,
// otherwise dynamic-list. A dynamic-list device whose list action failed
// is checked with status, as Pacemaker does whether dynamic-list was the
// default or set explicitly.
func (d *Device) HostCheck() string {
	v := d.Params["pcmk_host_check"]
	if v == "" {
		if d.Params["pcmk_host_list"] != "" || d.Params["pcmk_host_map"] != "" {
			return StaticList
		}
		v = DynamicList
	}
	if v == DynamicList && d.Listed && d.TargetsErr != "" {
		return StatusCheck
	}
	return v
}

// ValidHostCheck reports whether v is a pcmk_host_check value.
func ValidHostCheck(v string) bool {
	return slices.Contains([]string{"", StaticList, DynamicList, StatusCheck, NoCheck}, v)
}

// Port is the name of target as the device knows it: its pcmk_host_map
// entry ("node:port;node2:port2", "=" also accepted), or the node name.
func (d *Device) Port(target string) string {
	if p, ok := hostMap(d.Params["pcmk_host_map"])[target]; ok {
		return p
	}
	return target
}

func hostMap(v string) map[string]string {
	m := map[string]string{}
	for _, item := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\n' }) {
		k, port, ok := strings.Cut(item, ":")
		if !ok {
			k, port, ok = strings.Cut(item, "=")
		}
		if ok && k != "" {
			m[k] = port
		}
	}
	return m
}

func hostList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\n' })
}

// StaticTargets are the nodes pcmk_host_list and pcmk_host_map name.
func (d *Device) StaticTargets() []string {
	out := hostList(d.Params["pcmk_host_list"])
	for k := range hostMap(d.Params["pcmk_host_map"]) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Level is one fencing level of a target. Version orders changes of the
// same level (the group's delivery position); a removed level stays as a
// tombstone so that merging histories cannot bring it back.
type Level struct {
	Target  string   `json:"target"`
	Index   int      `json:"index"`
	Devices []string `json:"devices,omitempty"`
	Removed bool     `json:"removed,omitempty"`
	Version uint64   `json:"version"`
}

// Step is one device run of a request's plan.
type Step struct {
	Level  int    `json:"level"`
	Device string `json:"device"`
	Node   string `json:"node"`
}

// Entry is one fencing request in the history. Every member holds the
// same entries: the fields are set only from agreed messages.
type Entry struct {
	ID        string        `json:"id"`
	Target    string        `json:"target"`
	Action    string        `json:"action"`
	State     string        `json:"state"`
	Origin    string        `json:"origin"`
	Client    string        `json:"client,omitempty"`
	Timeout   time.Duration `json:"timeout"`
	AllowSelf bool          `json:"allow_self,omitempty"`
	Requested time.Time     `json:"requested"`
	Completed time.Time     `json:"completed,omitzero"`
	// Executioner is the node (or nodes, comma-separated) whose devices
	// carried out the successful level; Device their ids.
	Executioner string `json:"executioner,omitempty"`
	Device      string `json:"device,omitempty"`
	Level       int    `json:"level,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Plan and Step are the device runs decided when the request was
	// delivered and the one running now.
	Plan     []Step   `json:"plan,omitempty"`
	Step     int      `json:"step"`
	Attempts []string `json:"attempts,omitempty"`
	// done are the steps of the current level that succeeded.
	Done []Step `json:"done,omitempty"`
}

// Message is what the fenceds multicast to each other; exactly one field
// is set. JSON: internal to one version of Vigil, and small.
type Message struct {
	Register   *Device `json:"register,omitempty"`
	Unregister string  `json:"unregister,omitempty"`
	Level      *Level  `json:"level,omitempty"`
	Fence      *Entry  `json:"fence,omitempty"`
	Result     *Result `json:"result,omitempty"`
	Expire     string  `json:"expire,omitempty"`
	Listed     *Listed `json:"listed,omitempty"`
	Sync       *Sync   `json:"sync,omitempty"`
	Confirm    *Entry  `json:"confirm,omitempty"`
	Left       *Left   `json:"left,omitempty"`
	// Request numbers a change a local client waits for.
	Request uint64 `json:"request,omitempty"`
	// At is the sender's clock when it sent a result or expiry, so that
	// every member records the same completion time.
	At time.Time `json:"at,omitzero"`
}

// Result is a device run's outcome, sent by the node that ran it.
type Result struct {
	ID      string `json:"id"`
	Step    int    `json:"step"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// Left says that the node running step Step of request ID left the fence
// group before answering. Every member sends it after the configuration
// change; the first one delivered fails the step, with its sender's time.
type Left struct {
	ID   string `json:"id"`
	Step int    `json:"step"`
	Node string `json:"node"`
}

// Listed is what a device's list action answered, sent by its host.
type Listed struct {
	Device  string   `json:"device"`
	Targets []string `json:"targets,omitempty"`
	Err     string   `json:"err,omitempty"`
}

// Sync is what each member sends after every configuration change, so
// that a node that joined learns the devices, topology and history: the
// devices it hosts (authoritative: they replace what others remember of
// that node), every level and every history entry it knows.
type Sync struct {
	Devices []*Device `json:"devices,omitempty"`
	Levels  []Level   `json:"levels,omitempty"`
	History []*Entry  `json:"history,omitempty"`
}

// Effect is something the daemon must do after an Apply.
type Effect struct {
	// Run: this node runs Step of request ID with device Device on Port
	// (the target as the device names it), giving up at Deadline.
	Run *Run
	// ArmTimer: after Delay, multicast Expire for ID.
	ArmTimer string
	Delay    time.Duration
	// List: this node hosts Device and must run its list action and
	// multicast the answer.
	List string
	// Finished: the entry ID reached a final state (or was created), for
	// clients waiting on it.
	Finished *Entry
	// Request: the local request with this number was applied.
	Request uint64
	// Left: multicast Message{Left: Left, At: the local clock}.
	Left *Left
	// Result: multicast Message{Result: Result, At: the local clock}; a
	// step this node can no longer run fails without waiting for the
	// request's timeout.
	Result *Result
}

// Run is a device run for this node.
type Run struct {
	ID       string
	Step     int
	Device   Device
	Target   string
	Port     string
	Action   string
	Deadline time.Time
}

// State is one member's copy of the fencing state. It is not safe for
// concurrent use.
type State struct {
	local   string
	nodes   []string // the nodelist
	members []string // the fence group's current members, sorted

	devices map[string]*Device
	levels  map[string]map[int]Level
	history map[string]*Entry
	// deadlines are this node's own clock's deadlines of pending
	// requests, taken when each was delivered here.
	deadlines map[string]time.Time
}

// New returns the state of node local in a cluster whose nodelist is
// nodes. Until the first configuration change only local is a member.
func New(local string, nodes []string) *State {
	return &State{
		local: local, nodes: slices.Clone(nodes), members: []string{local},
		devices: map[string]*Device{}, levels: map[string]map[int]Level{},
		history: map[string]*Entry{}, deadlines: map[string]time.Time{},
	}
}

// Members returns the current members of the fence group.
func (s *State) Members() []string { return slices.Clone(s.members) }

// Devices returns every known device, sorted by id.
func (s *State) Devices() []Device {
	out := make([]Device, 0, len(s.devices))
	for _, d := range s.devices {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Device) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Levels returns the levels of target (every target when empty), by
// target then index.
func (s *State) Levels(target string) []Level {
	var out []Level
	for t, ls := range s.levels {
		if target != "" && t != target {
			continue
		}
		for _, l := range ls {
			if !l.Removed {
				out = append(out, l)
			}
		}
	}
	slices.SortFunc(out, func(a, b Level) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Index, b.Index))
	})
	return out
}

// History returns the entries about target (all when empty), oldest
// first.
func (s *State) History(target string) []Entry {
	var out []Entry
	for _, e := range s.history {
		if target == "" || e.Target == target {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(a.Requested.Compare(b.Requested), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Entry returns one history entry.
func (s *State) Entry(id string) (Entry, bool) {
	e, ok := s.history[id]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// SyncMessage is what this node sends after a configuration change.
func (s *State) SyncMessage() Message {
	m := &Sync{}
	for _, d := range s.Devices() {
		if d.Node == s.local {
			m.Devices = append(m.Devices, &d)
		}
	}
	for _, ls := range s.levels {
		for _, l := range ls {
			m.Levels = append(m.Levels, l)
		}
	}
	for _, e := range s.History("") {
		m.History = append(m.History, &e)
	}
	return Message{Sync: m}
}

// ViewChanged installs the members of a new view of the fence group.
// For every step waiting on a node that left it asks for a Left message:
// the step fails when the first one is delivered, so that every member
// records the same time (a member's own clock at the change would differ
// from the others').
func (s *State) ViewChanged(members []string) []Effect {
	s.members = slices.Clone(members)
	slices.Sort(s.members)
	var effs []Effect
	for _, e := range s.pending() {
		if e.Step < len(e.Plan) && !slices.Contains(s.members, e.Plan[e.Step].Node) {
			effs = append(effs, Effect{Left: &Left{ID: e.ID, Step: e.Step, Node: e.Plan[e.Step].Node}})
		}
	}
	return effs
}

func (s *State) pending() []*Entry {
	var out []*Entry
	for _, e := range s.history {
		if e.State == Pending {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *Entry) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Apply applies one delivered message from node from, delivered at
// position version of the group's order, at now.
func (s *State) Apply(m Message, from string, version uint64, now time.Time) (effs []Effect) {
	if m.Request != 0 && from == s.local {
		// Last: the client sees the change's own effects done first.
		defer func() { effs = append(effs, Effect{Request: m.Request}) }()
	}
	switch {
	case m.Register != nil:
		d := *m.Register
		d.Node, d.Targets, d.TargetsErr, d.Listed = from, nil, "", false
		s.devices[d.ID] = &d
		if d.Node == s.local && d.HostCheck() == DynamicList {
			effs = append(effs, Effect{List: d.ID})
		}
	case m.Unregister != "":
		delete(s.devices, m.Unregister)
	case m.Listed != nil:
		if d, ok := s.devices[m.Listed.Device]; ok && d.Node == from {
			d.Targets, d.TargetsErr, d.Listed = m.Listed.Targets, m.Listed.Err, true
		}
	case m.Level != nil:
		l := *m.Level
		l.Version = version
		if s.levels[l.Target] == nil {
			s.levels[l.Target] = map[int]Level{}
		}
		s.levels[l.Target][l.Index] = l
	case m.Fence != nil:
		effs = append(effs, s.request(*m.Fence, from, now)...)
	case m.Confirm != nil:
		e := *m.Confirm
		if _, dup := s.history[e.ID]; !dup {
			e.Origin, e.State, e.Completed = from, Succeeded, m.At
			e.Executioner, e.Device = from, "manual"
			e.Reason = fmt.Sprintf("manually confirmed by %s on %s: no device was run; the administrator vouches that %s is off", cmp.Or(e.Client, "an administrator"), from, e.Target)
			s.history[e.ID] = &e
			effs = append(effs, Effect{Finished: &e})
		}
	case m.Result != nil:
		if e, ok := s.history[m.Result.ID]; ok && e.State == Pending && e.Step == m.Result.Step && e.Step < len(e.Plan) && e.Plan[e.Step].Node == from {
			effs = append(effs, s.stepDone(e, e.Step, m.Result.OK, m.Result.Message, m.At)...)
		}
	case m.Left != nil:
		l := m.Left
		// Still waiting on that node, and it has not come back since.
		if e, ok := s.history[l.ID]; ok && e.State == Pending && e.Step == l.Step && e.Step < len(e.Plan) &&
			e.Plan[e.Step].Node == l.Node && !slices.Contains(s.members, l.Node) {
			effs = append(effs, s.stepDone(e, e.Step, false, fmt.Sprintf("node %s left the fence group before answering", l.Node), m.At)...)
		}
	case m.Expire != "":
		if e, ok := s.history[m.Expire]; ok && e.State == Pending {
			waiting := ""
			if e.Step < len(e.Plan) {
				st := e.Plan[e.Step]
				waiting = fmt.Sprintf("; no answer from device %s on %s", st.Device, st.Node)
			}
			e.Attempts = append(e.Attempts, fmt.Sprintf("timed out after %v%s", e.Timeout, waiting))
			effs = append(effs, s.finish(e, Failed, m.At)...)
		}
	case m.Sync != nil:
		effs = append(effs, s.merge(*m.Sync, from, now)...)
	}
	return effs
}

// request starts a fencing request: it fails at once when the target is
// unknown or no device can fence it; otherwise the first step runs.
func (s *State) request(e Entry, from string, now time.Time) []Effect {
	if _, dup := s.history[e.ID]; dup {
		return nil
	}
	e.Origin, e.State, e.Step, e.Plan, e.Attempts, e.Done = from, Pending, 0, nil, nil, nil
	if e.Timeout <= 0 {
		e.Timeout = DefaultTimeout
	}
	s.history[e.ID] = &e
	if !slices.Contains(s.nodes, e.Target) {
		e.Attempts = []string{fmt.Sprintf("unknown target %q: not a node of the nodelist (%s)", e.Target, strings.Join(s.nodes, ", "))}
		return s.finish(&e, Failed, e.Requested)
	}
	if !slices.Contains([]string{Off, On, Reboot}, e.Action) {
		e.Attempts = []string{fmt.Sprintf("action %q is not off, on or reboot", e.Action)}
		return s.finish(&e, Failed, e.Requested)
	}
	var why []string
	e.Plan, why = s.plan(e.Target, e.AllowSelf)
	if len(e.Plan) == 0 {
		if len(why) == 0 {
			why = []string{"no device is registered"}
		}
		e.Attempts = []string{fmt.Sprintf("no device can fence %s: %s", e.Target, strings.Join(why, "; "))}
		return s.finish(&e, Failed, e.Requested)
	}
	e.Attempts = why
	s.deadlines[e.ID] = now.Add(e.Timeout)
	effs := []Effect{{ArmTimer: e.ID, Delay: e.Timeout + Grace}}
	return append(effs, s.start(&e)...)
}

// plan lists the device runs for target: its levels in index order, each
// level's devices in its order; without topology every capable device as
// a level of its own, in id order. why says what was left out.
func (s *State) plan(target string, allowSelf bool) ([]Step, []string) {
	var steps []Step
	var why []string
	levels := s.Levels(target)
	if len(levels) > 0 {
	next:
		for _, l := range levels {
			var ls []Step
			for _, id := range l.Devices {
				d, ok := s.devices[id]
				if !ok {
					why = append(why, fmt.Sprintf("level %d skipped: device %s is not registered", l.Index, id))
					continue next
				}
				if ok, _, reason := s.capable(d, target, allowSelf); !ok {
					why = append(why, fmt.Sprintf("level %d skipped: device %s %s", l.Index, id, reason))
					continue next
				}
				ls = append(ls, Step{Level: l.Index, Device: id, Node: d.Node})
			}
			steps = append(steps, ls...)
		}
		return steps, why
	}
	// Devices that do not fence target are named only when none can.
	var unrelated []string
	for _, d := range s.Devices() {
		ok, relevant, reason := s.capable(&d, target, allowSelf)
		switch {
		case ok:
			steps = append(steps, Step{Device: d.ID, Node: d.Node})
		case relevant:
			why = append(why, fmt.Sprintf("device %s skipped: it %s", d.ID, reason))
		default:
			unrelated = append(unrelated, fmt.Sprintf("device %s %s", d.ID, reason))
		}
	}
	if len(steps) == 0 {
		why = append(why, unrelated...)
	}
	return steps, why
}

// capable reports whether d can fence target now, and why not. relevant
// is false when d does not fence target at all (its host check says so),
// true when it does but cannot now (its node is away, or is the target).
func (s *State) capable(d *Device, target string, allowSelf bool) (ok, relevant bool, why string) {
	switch hc := d.HostCheck(); hc {
	case StaticList:
		if !slices.Contains(d.StaticTargets(), target) {
			return false, false, fmt.Sprintf("cannot fence %s (pcmk_host_list/pcmk_host_map: %s)", target, strings.Join(d.StaticTargets(), " "))
		}
	case DynamicList:
		if !d.Listed {
			return false, true, "has not answered its list action yet"
		}
		if !slices.Contains(d.Targets, d.Port(target)) {
			return false, false, fmt.Sprintf("cannot fence %s (its list: %s)", target, strings.Join(d.Targets, " "))
		}
	case StatusCheck, NoCheck:
	default:
		return false, false, fmt.Sprintf("has an unknown pcmk_host_check %q", hc)
	}
	if !slices.Contains(s.members, d.Node) {
		return false, true, fmt.Sprintf("is hosted on %s, which is not in the fence group", d.Node)
	}
	if d.Node == target && !allowSelf {
		return false, true, fmt.Sprintf("is hosted on %s, the target itself (self-fencing not allowed)", target)
	}
	return true, true, ""
}

// start emits the Run of e's current step when this node hosts it, or its
// failure when the device is no longer registered here.
func (s *State) start(e *Entry) []Effect {
	st := e.Plan[e.Step]
	if st.Node != s.local {
		return nil
	}
	d := s.devices[st.Device]
	if d == nil || d.Node != s.local {
		// Unregistered since the plan was made. Only the step's node says
		// so: a member that joined may not know every device yet.
		return []Effect{{Result: &Result{ID: e.ID, Step: e.Step,
			Message: fmt.Sprintf("device %s is no longer registered on %s", st.Device, s.local)}}}
	}
	return []Effect{{Run: &Run{ID: e.ID, Step: e.Step, Device: *d, Target: e.Target, Port: d.Port(e.Target),
		Action: e.Action, Deadline: s.deadlines[e.ID]}}}
}

// stepDone records the outcome of step i of e and moves on: to the next
// device of the level, the next level, or the end.
func (s *State) stepDone(e *Entry, i int, ok bool, msg string, at time.Time) []Effect {
	st := e.Plan[i]
	label := fmt.Sprintf("device %s on %s", st.Device, st.Node)
	if st.Level > 0 {
		label = fmt.Sprintf("level %d: %s", st.Level, label)
	}
	result := "failed"
	if ok {
		result = "succeeded"
	}
	e.Attempts = append(e.Attempts, fmt.Sprintf("%s: %s: %s", label, result, oneLine(msg)))
	sameLevel := func(j int) bool { return j < len(e.Plan) && e.Plan[j].Level == st.Level && st.Level > 0 }
	if ok {
		e.Done = append(e.Done, st)
		if sameLevel(i + 1) {
			e.Step = i + 1
			return s.start(e)
		}
		var nodes, devices []string
		for _, d := range e.Done {
			if !slices.Contains(nodes, d.Node) {
				nodes = append(nodes, d.Node)
			}
			devices = append(devices, d.Device)
		}
		e.Executioner, e.Device, e.Level = strings.Join(nodes, ","), strings.Join(devices, ","), st.Level
		return s.finish(e, Succeeded, at)
	}
	// A failed device fails its level: skip the level's other devices.
	e.Done = nil
	j := i + 1
	for sameLevel(j) {
		j++
	}
	for j < len(e.Plan) && !slices.Contains(s.members, e.Plan[j].Node) {
		e.Attempts = append(e.Attempts, fmt.Sprintf("device %s skipped: its node %s left the fence group", e.Plan[j].Device, e.Plan[j].Node))
		j++
	}
	if j >= len(e.Plan) {
		return s.finish(e, Failed, at)
	}
	e.Step = j
	return s.start(e)
}

func (s *State) finish(e *Entry, state string, at time.Time) []Effect {
	e.State, e.Completed = state, at
	e.Reason = strings.Join(e.Attempts, "; ")
	delete(s.deadlines, e.ID)
	c := *e
	return []Effect{{Finished: &c}}
}

// merge takes in a member's Sync.
func (s *State) merge(m Sync, from string, now time.Time) []Effect {
	for id, d := range s.devices {
		if d.Node == from && !slices.ContainsFunc(m.Devices, func(x *Device) bool { return x.ID == id }) {
			delete(s.devices, id)
		}
	}
	for _, d := range m.Devices {
		c := *d
		c.Node = from
		s.devices[c.ID] = &c
	}
	for _, l := range m.Levels {
		if s.levels[l.Target] == nil {
			s.levels[l.Target] = map[int]Level{}
		}
		if old, ok := s.levels[l.Target][l.Index]; !ok || old.Version < l.Version {
			s.levels[l.Target][l.Index] = l
		}
	}
	var effs []Effect
	for _, e := range m.History {
		old, ok := s.history[e.ID]
		if ok && !supersedes(e, old) {
			continue
		}
		c := *e
		c.Plan, c.Attempts, c.Done = slices.Clone(c.Plan), slices.Clone(c.Attempts), slices.Clone(c.Done)
		s.history[c.ID] = &c
		switch {
		case c.State != Pending:
			delete(s.deadlines, c.ID)
			effs = append(effs, Effect{Finished: &c})
		case !ok:
			// Learnt from another member: this node's timer bounds it too.
			s.deadlines[c.ID] = now.Add(c.Timeout)
			effs = append(effs, Effect{ArmTimer: c.ID, Delay: c.Timeout + Grace})
		}
	}
	return effs
}

// supersedes reports whether a member's copy a of an entry replaces this
// member's copy b. Copies differ when a member missed messages while it
// was cut off from the group (and, say, failed the request by its own
// expiry); the order is total, so once every sync is delivered all
// members hold the same copy: a final state over pending, a success over a
// failure (a success is only ever a device's or an administrator's word,
// never assumed), then the copy that went further.
func supersedes(a, b *Entry) bool {
	rank := func(e *Entry) int { return map[string]int{Pending: 0, Failed: 1, Succeeded: 2}[e.State] }
	return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(len(a.Attempts), len(b.Attempts)),
		cmp.Compare(a.Step, b.Step), a.Completed.Compare(b.Completed),
		cmp.Compare(strings.Join(a.Attempts, "\n"), strings.Join(b.Attempts, "\n"))) > 0
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// Version orders deliveries: the view's epoch, then the position in it.
func Version(epoch, seq uint64) uint64 { return epoch<<32 | seq&0xffffffff }

// ParseTimeout reads a pcmk_*_timeout value: Go syntax (20s) or seconds.
func ParseTimeout(v string) (time.Duration, bool) {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, true
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, true
	}
	return 0, false
}
