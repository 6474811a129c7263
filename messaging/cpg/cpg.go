// Package cpg gives Corosync CPG semantics on top of the total order of
// messaging/core: named groups that processes join and leave, messages to a
// group delivered to its members in the agreed order, and configuration
// changes (with reasons join, leave, node down, node up, process down)
// ordered consistently with those messages. Like core, it is pure: State
// applies the core's events and returns the group events; the runtime
// multicasts what Encode* returns.
package cpg

import (
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-ha/vigil/messaging/core"
	pb "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Member is one process in a group: the node it runs on and a handle
// unique on that node (corosync: nodeid and pid).
type Member struct {
	Node   uint32
	Handle uint64
}

// Reason says why a member joined or left.
type Reason int

// The reasons of CPG.
const (
	ReasonJoin Reason = iota + 1
	ReasonLeave
	ReasonNodeDown
	ReasonNodeUp
	ReasonProcessDown
)

func (r Reason) String() string {
	switch r {
	case ReasonJoin:
		return "join"
	case ReasonLeave:
		return "leave"
	case ReasonNodeDown:
		return "node down"
	case ReasonNodeUp:
		return "node up"
	case ReasonProcessDown:
		return "process down"
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// MemberChange is one member that joined or left, with why.
type MemberChange struct {
	Member Member
	Reason Reason
}

// Change is a group's new member list, in join order, with what changed.
type Change struct {
	Group   string
	Members []Member
	Joined  []MemberChange
	Left    []MemberChange
	View    core.ViewID
}

// Message is one message to a group, reassembled if it was fragmented.
type Message struct {
	Group  string
	Sender Member
	Data   []byte
	View   core.ViewID
	Seq    uint64
}

// Event is a change or a message of one group, in agreed order.
type Event struct {
	Change  *Change
	Message *Message
}

// fragKey names a message being reassembled.
type fragKey struct {
	group  string
	sender Member
}

// State is one node's knowledge of every group.
type State struct {
	self   uint32
	groups map[string][]Member
	// known holds the nodes whose members this node knows: itself, and
	// the nodes of the view whose sync it has applied or that were with it
	// in the previous view.
	known map[uint32]bool
	view  core.ViewID
	frags map[fragKey][]byte
	names map[string]string
}

// New returns the state of node self, which knows of no group yet.
func New(self uint32) *State {
	return &State{self: self, groups: map[string][]Member{}, known: map[uint32]bool{self: true}, frags: map[fragKey][]byte{}, names: map[string]string{}}
}

// Members returns the members of a group, in join order.
func (s *State) Members(group string) []Member { return slices.Clone(s.groups[group]) }

// Groups returns the names of the groups with members, sorted.
func (s *State) Groups() []string {
	var names []string
	for g, ms := range s.groups {
		if len(ms) > 0 {
			names = append(names, g)
		}
	}
	slices.Sort(names)
	return names
}

// LocalMembers returns this node's members of every group.
func (s *State) LocalMembers() map[string][]uint64 {
	out := map[string][]uint64{}
	for g, ms := range s.groups {
		for _, m := range ms {
			if m.Node == s.self {
				out[g] = append(out[g], m.Handle)
			}
		}
	}
	return out
}

// Apply applies one event of the core and returns the group events it
// causes. After a view event, the caller must multicast EncodeSync of
// LocalMembers, so that nodes that joined learn this node's members.
// Malformed payloads are ignored (returned as an error to log).
func (s *State) Apply(ev core.Event) ([]Event, error) {
	if v := ev.View; v != nil {
		return s.applyView(v), nil
	}
	d := ev.Delivery
	if d.Duplicate {
		return nil, nil
	}
	g, err := decodeData(d.Data)
	switch {
	case err == nil:
		return s.data(d, g), nil
	case !errors.Is(err, errNotData):
		return nil, fmt.Errorf("cpg: message %d from node %d: %w", d.Counter, d.Sender.ID, err)
	}
	var env pb.GroupEnvelope
	if err := proto.Unmarshal(d.Data, &env); err != nil {
		return nil, fmt.Errorf("cpg: message %d from node %d: %w", d.Counter, d.Sender.ID, err)
	}
	node := d.Sender.ID
	switch k := env.GetKind().(type) {
	case *pb.GroupEnvelope_Join:
		m := Member{node, k.Join.GetHandle()}
		return s.join(k.Join.GetGroup(), []Member{m}, ReasonJoin), nil
	case *pb.GroupEnvelope_Leave:
		reason := ReasonLeave
		if k.Leave.GetProcessDown() {
			reason = ReasonProcessDown
		}
		return s.leave(k.Leave.GetGroup(), func(m Member) bool { return m == Member{node, k.Leave.GetHandle()} }, reason), nil
	case *pb.GroupEnvelope_Data:
		g := k.Data
		return s.data(d, groupData{group: []byte(g.GetGroup()), handle: g.GetHandle(), data: g.GetData(), fragment: g.GetFragment(), fragments: g.GetFragments()}), nil
	case *pb.GroupEnvelope_Sync:
		if s.known[node] {
			return nil, nil
		}
		s.known[node] = true
		byGroup := map[string][]Member{}
		var order []string
		for _, j := range k.Sync.GetMembers() {
			g := j.GetGroup()
			if _, ok := byGroup[g]; !ok {
				order = append(order, g)
			}
			byGroup[g] = append(byGroup[g], Member{node, j.GetHandle()})
		}
		var out []Event
		for _, g := range order {
			out = append(out, s.join(g, byGroup[g], ReasonNodeUp)...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("cpg: message %d from node %d: empty envelope", d.Counter, d.Sender.ID)
}

func (s *State) applyView(v *core.View) []Event {
	s.view = v.ID
	in := map[uint32]bool{}
	for _, m := range v.Members {
		in[m.ID] = true
	}
	var out []Event
	for _, g := range s.Groups() {
		out = append(out, s.leave(g, func(m Member) bool { return !in[m.Node] }, ReasonNodeDown)...)
	}
	for _, j := range v.Joined {
		// A node that (re)joined may have other members than we last
		// knew; its sync tells.
		if j.ID != s.self {
			s.known[j.ID] = false
		}
	}
	for id := range s.known {
		if !in[id] {
			delete(s.known, id)
		}
	}
	for k := range s.frags {
		if !in[k.sender.Node] {
			delete(s.frags, k)
		}
	}
	return out
}

func (s *State) join(group string, ms []Member, reason Reason) []Event {
	c := &Change{Group: group, View: s.view}
	for _, m := range ms {
		if slices.Contains(s.groups[group], m) {
			continue
		}
		s.groups[group] = append(s.groups[group], m)
		c.Joined = append(c.Joined, MemberChange{m, reason})
	}
	if len(c.Joined) == 0 {
		return nil
	}
	c.Members = slices.Clone(s.groups[group])
	return []Event{{Change: c}}
}

func (s *State) leave(group string, match func(Member) bool, reason Reason) []Event {
	c := &Change{Group: group, View: s.view}
	kept := s.groups[group][:0:0]
	for _, m := range s.groups[group] {
		if match(m) {
			c.Left = append(c.Left, MemberChange{m, reason})
			delete(s.frags, fragKey{group, m})
		} else {
			kept = append(kept, m)
		}
	}
	if len(c.Left) == 0 {
		return nil
	}
	if len(kept) == 0 {
		delete(s.groups, group)
	} else {
		s.groups[group] = kept
	}
	c.Members = slices.Clone(kept)
	return []Event{{Change: c}}
}

func (s *State) data(d *core.Delivery, g groupData) []Event {
	group := s.name(g.group)
	sender := Member{d.Sender.ID, g.handle}
	data := g.data
	if n := g.fragments; n > 0 {
		k := fragKey{group, sender}
		if g.fragment == 0 {
			s.frags[k] = nil
		} else if _, ok := s.frags[k]; !ok {
			return nil // the start was lost with a view change
		}
		s.frags[k] = append(s.frags[k], data...)
		if g.fragment+1 < n {
			return nil
		}
		data = s.frags[k]
		delete(s.frags, k)
	}
	return []Event{{Message: &Message{Group: group, Sender: sender, Data: data, View: d.View, Seq: d.Seq}}}
}

// maxNames bounds the table of group names name reuses.
const maxNames = 4096

// name returns b as a string, reusing the string of a group name seen
// before instead of allocating one per message.
func (s *State) name(b []byte) string {
	if n, ok := s.names[string(b)]; ok {
		return n
	}
	n := string(b)
	if len(s.names) < maxNames {
		s.names[n] = n
	}
	return n
}

// EncodeJoin is the payload that makes handle a member of group.
func EncodeJoin(group string, handle uint64) []byte {
	return encode(&pb.GroupEnvelope{Kind: &pb.GroupEnvelope_Join{Join: &pb.GroupJoin{Group: group, Handle: handle}}})
}

// EncodeLeave is the payload that removes handle from group.
func EncodeLeave(group string, handle uint64, processDown bool) []byte {
	return encode(&pb.GroupEnvelope{Kind: &pb.GroupEnvelope_Leave{Leave: &pb.GroupLeave{Group: group, Handle: handle, ProcessDown: processDown}}})
}

// EncodeData returns the payloads of one message to group: one, or
// fragments of at most fragmentSize bytes, which members reassemble.
func EncodeData(group string, handle uint64, data []byte, fragmentSize int) [][]byte {
	if len(data) <= fragmentSize {
		return [][]byte{encodeData(group, handle, data, 0, 0)}
	}
	n := (len(data) + fragmentSize - 1) / fragmentSize
	out := make([][]byte, 0, n)
	for i := range n {
		part := data[i*fragmentSize : min((i+1)*fragmentSize, len(data))]
		out = append(out, encodeData(group, handle, part, uint32(i), uint32(n)))
	}
	return out
}

// EncodeSync lists a node's local members, for nodes that just joined.
func EncodeSync(local map[string][]uint64) []byte {
	sync := &pb.GroupSync{}
	groups := make([]string, 0, len(local))
	for g := range local {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	for _, g := range groups {
		for _, h := range local[g] {
			sync.Members = append(sync.Members, &pb.GroupJoin{Group: g, Handle: h})
		}
	}
	return encode(&pb.GroupEnvelope{Kind: &pb.GroupEnvelope_Sync{Sync: sync}})
}

func encode(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err) // marshalling a valid message in memory cannot fail
	}
	return b
}
