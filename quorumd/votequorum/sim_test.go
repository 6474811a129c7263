package votequorum

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sim runs one State per node the way vigil-quorumd drives them: a view
// change is installed on every member of a partition, then every member's
// announcement (Local) is delivered to all members of that partition in the
// same order, the order the partition is written in.
type sim struct {
	t     *testing.T
	cfg   Config            // every node's configuration...
	cfgs  map[uint32]Config // ...unless it has its own
	nodes map[uint32]*State // running nodes
	parts [][]uint32        // current partitions, in delivery order
	now   time.Time
}

func newSim(t *testing.T, cfg Config, own map[uint32]Config) *sim {
	return &sim{t: t, cfg: cfg, cfgs: own, nodes: map[uint32]*State{}, now: time.Unix(1_000_000, 0)}
}

// step is one event and what corosync-quorumtool -s shows afterwards on
// some nodes (see summary), or the error a runtime change returns.
type step struct {
	do   string
	want map[uint32]string
	err  string
}

// run executes steps: "start 1 2", "stop 3", "view 1 2 | 3" (partitions;
// the order of a partition is its delivery order), "tick 10s",
// "expected FROM N", "votes FROM ID N" and "cancelwfa FROM" (a runtime
// change asked on node FROM and delivered to its partition), "twonode on|off" (on every node,
// which then announce themselves), "leave ID" (a clean shutdown), "announce
// ID", or "" to check only.
func (s *sim) run(steps []step) {
	s.t.Helper()
	for i, st := range steps {
		err := s.do(st.do)
		where := fmt.Sprintf("step %d %q", i+1, st.do)
		switch {
		case st.err == "" && err != nil:
			s.t.Fatalf("%s: unexpected error %v", where, err)
		case st.err != "" && err == nil:
			s.t.Fatalf("%s: no error, want one containing %q", where, st.err)
		case st.err != "" && !strings.Contains(err.Error(), st.err):
			s.t.Fatalf("%s: error %q, want one containing %q", where, err, st.err)
		}
		ids := make([]uint32, 0, len(st.want))
		for id := range st.want {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			n := s.nodes[id]
			if n == nil {
				s.t.Fatalf("%s: node %d is not running", where, id)
			}
			if got := summary(n.Status()); got != st.want[id] {
				s.t.Errorf("%s: node %d shows\n\t%s\nwant\n\t%s", where, id, got, st.want[id])
			}
		}
	}
}

// summary is corosync-quorumtool -s's votequorum block on one line.
func summary(st Status) string {
	q := "no"
	if st.Quorate {
		q = "yes"
	}
	if st.Quorate != st.Flags.Quorate {
		q += "(flag differs)"
	}
	return fmt.Sprintf("%s exp=%d high=%d total=%d quorum=%d flags=%s",
		q, st.ExpectedVotes, st.HighestExpected, st.TotalVotes, st.Quorum, st.Flags)
}

func (s *sim) do(cmd string) error {
	s.t.Helper()
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return nil
	}
	args := f[1:]
	switch f[0] {
	case "start":
		for _, id := range s.ids(args) {
			cfg, ok := s.cfgs[id]
			if !ok {
				cfg = s.cfg
			}
			s.nodes[id] = New(cfg, id)
		}
	case "stop":
		for _, id := range s.ids(args) {
			s.remove(id)
		}
	case "view":
		s.view(args)
	case "tick":
		d, err := time.ParseDuration(args[0])
		if err != nil {
			s.t.Fatal(err)
		}
		s.now = s.now.Add(d)
		for _, n := range s.nodes {
			n.Tick(s.now)
		}
	case "expected":
		from, n := s.ids(args[:1])[0], s.ids(args[1:])[0]
		return s.change(from, func(st *State) error { return st.SetExpectedVotes(n, s.now) })
	case "cancelwfa":
		from := s.ids(args)[0]
		return s.change(from, func(st *State) error { return st.CancelWaitForAll(s.now) })
	case "votes":
		ids := s.ids(args)
		return s.change(ids[0], func(st *State) error { return st.SetVotes(ids[1], ids[2], s.now) })
	case "twonode":
		var first error
		for _, id := range s.running() {
			if err := s.nodes[id].SetTwoNode(args[0] == "on", s.now); err != nil && first == nil {
				first = err
			}
		}
		for _, id := range s.running() {
			s.announce(id, s.nodes[id].Local())
		}
		return first
	case "leave":
		id := s.ids(args)[0]
		if info, ok := s.nodes[id].Leave(); ok {
			s.announce(id, info)
		}
		s.remove(id)
	case "announce":
		id := s.ids(args)[0]
		s.announce(id, s.nodes[id].Local())
	default:
		s.t.Fatalf("unknown command %q", cmd)
	}
	return nil
}

func (s *sim) ids(args []string) []uint32 {
	var out []uint32
	for _, a := range args {
		v, err := strconv.ParseUint(a, 10, 32)
		if err != nil {
			s.t.Fatalf("bad number %q", a)
		}
		out = append(out, uint32(v))
	}
	return out
}

func (s *sim) running() []uint32 {
	var ids []uint32
	for id := range s.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *sim) remove(id uint32) {
	delete(s.nodes, id)
	for i, p := range s.parts {
		s.parts[i] = slices.DeleteFunc(p, func(m uint32) bool { return m == id })
	}
}

// view installs partitions ("1 2 | 3") on every running node, which must
// each be in one, then delivers the announcements.
func (s *sim) view(args []string) {
	s.parts = nil
	seen := map[uint32]bool{}
	for _, group := range strings.Split(strings.Join(args, " "), "|") {
		p := s.ids(strings.Fields(group))
		for _, id := range p {
			if s.nodes[id] == nil || seen[id] {
				s.t.Fatalf("view %v: node %d is not running or listed twice", args, id)
			}
			seen[id] = true
		}
		s.parts = append(s.parts, p)
	}
	if len(seen) != len(s.nodes) {
		s.t.Fatalf("view %v leaves out running nodes %v", args, s.running())
	}
	for _, p := range s.parts {
		for _, id := range p {
			s.nodes[id].ViewChanged(p, s.now)
		}
		infos := make([]NodeInfo, len(p))
		for i, id := range p {
			infos[i] = s.nodes[id].Local()
		}
		for i, id := range p {
			for _, to := range p {
				s.nodes[to].NodeInfoReceived(id, infos[i], s.now)
			}
		}
		for _, id := range p {
			if s.nodes[id].Status().Syncing {
				s.t.Fatalf("view %v: node %d still syncing after every member announced itself", args, id)
			}
		}
	}
}

func (s *sim) partition(id uint32) []uint32 {
	for _, p := range s.parts {
		if slices.Contains(p, id) {
			return p
		}
	}
	return []uint32{id}
}

// announce delivers id's announcement to its partition.
func (s *sim) announce(id uint32, info NodeInfo) {
	for _, to := range s.partition(id) {
		if n := s.nodes[to]; n != nil {
			n.NodeInfoReceived(id, info, s.now)
		}
	}
}

// change delivers a runtime change asked on node from to every member of
// its partition, and returns what it returned on from.
func (s *sim) change(from uint32, apply func(*State) error) error {
	var errFrom error
	for _, to := range s.partition(from) {
		err := apply(s.nodes[to])
		if to == from {
			errFrom = err
		}
	}
	return errFrom
}

func nodes(votes ...uint32) []NodeConfig {
	var out []NodeConfig
	for i, v := range votes {
		out = append(out, NodeConfig{ID: uint32(i + 1), Votes: v})
	}
	return out
}

func ones(n int) []NodeConfig {
	v := make([]uint32, n)
	for i := range v {
		v[i] = 1
	}
	return nodes(v...)
}
