// Package votequorum is corosync's votequorum as a deterministic state
// machine: one State per node, fed with the views of its partition, the
// announcements of the members (delivered in agreed order), runtime changes
// and the passing of time; no goroutines, clocks or I/O. It follows
// exec/votequorum.c of corosync 3.1 rule for rule (quorum arithmetic,
// two_node, wait_for_all, last_man_standing, auto_tie_breaker,
// allow_downscale), so that its Status is what corosync-quorumtool -s shows
// in the same situation. docs/quorum.md explains the rules, what is
// exchanged and the decisions taken where corosync was unclear.
package votequorum

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

var (
	// ErrInvalid is returned by SetExpectedVotes and SetVotes for values
	// corosync refuses (CS_ERR_INVALID_PARAM); the error says why.
	ErrInvalid = errors.New("votequorum: invalid value")
	// ErrUnknownNode is returned by SetVotes for a node this node has never
	// heard from (CS_ERR_NAME_NOT_FOUND).
	ErrUnknownNode = errors.New("votequorum: unknown node")
	// ErrDisabled is returned by runtime changes when no quorum provider is
	// configured.
	ErrDisabled = errors.New("votequorum: no quorum provider is configured")
	// ErrIncompatible is returned by SetTwoNode when the change contradicts
	// another setting; corosync logs it and runs on, and so does State.
	ErrIncompatible = errors.New("votequorum: incompatible settings")
)

// NodeInfo is what each node's quorumd announces to the others: corosync's
// votequorum nodeinfo message (its votes, expected votes and flags). It
// must travel through a totally ordered process group, so that every member
// applies the same announcements in the same order, and every member must
// announce itself after each view change (Local).
type NodeInfo struct {
	Votes uint32 `json:"votes"`
	// ExpectedVotes is the expected votes of the sender. A node that is not
	// quorate adopts it from a quorate one.
	ExpectedVotes uint32 `json:"expected_votes"`
	// Quorate is the sender's quorate state (NODE_FLAGS_QUORATE).
	Quorate bool `json:"quorate"`
	// WaitForAllDone is set when the sender is not waiting for all nodes:
	// it has seen them, or it does not have wait_for_all. A quorate node
	// that is not waiting releases the nodes joining it from waiting
	// (corosync's NODE_FLAGS_WFASTATUS, inverted).
	WaitForAllDone bool `json:"wait_for_all_done"`
	// First is set until the sender has been in a view with another node
	// since it started (NODE_FLAGS_FIRST).
	First bool `json:"first,omitempty"`
	// Leaving is set by a node that shuts down cleanly with allow_downscale
	// (NODE_FLAGS_LEAVING): the others lower expected votes.
	Leaving bool `json:"leaving,omitempty"`
}

// Status is what corosync-quorumtool -s shows.
type Status struct {
	Quorate bool
	// ExpectedVotes is this node's expected votes; HighestExpected the
	// highest expected votes among the members; TotalVotes the votes of
	// the members; Quorum the votes needed.
	ExpectedVotes, HighestExpected, TotalVotes, Quorum uint32
	Flags                                              Flags
	Members                                            []MemberStatus // the members of the current view, in node id order
	// Syncing is set from a view change until every member of the new view
	// has announced itself. corosync tells its users (Pacemaker) about
	// quorum only at the end of this synchronisation; quorumtool shows the
	// values as they are computed, as Status does.
	Syncing bool
}

// Flags is corosync-quorumtool's Flags line.
type Flags struct {
	Quorate, TwoNode, WaitForAll, LastManStanding, AutoTieBreaker, AllowDownscale bool
}

// String is the Flags line of corosync-quorumtool, in its order
// ("2Node Quorate WaitForAll LastManStanding AutoTieBreaker
// AllowDownscale"), without the trailing space it prints.
func (f Flags) String() string {
	var out []byte
	add := func(on bool, name string) {
		if !on {
			return
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, name...)
	}
	add(f.TwoNode, "2Node")
	add(f.Quorate, "Quorate")
	add(f.WaitForAll, "WaitForAll")
	add(f.LastManStanding, "LastManStanding")
	add(f.AutoTieBreaker, "AutoTieBreaker")
	add(f.AllowDownscale, "AllowDownscale")
	return string(out)
}

// MemberStatus is one line of the membership list. Votes and ExpectedVotes
// are 0 for a member that has not announced itself yet.
type MemberStatus struct {
	ID            uint32
	Votes         uint32
	ExpectedVotes uint32
}

type nodeState uint8

const (
	stateMember nodeState = iota + 1
	stateDead
	stateLeaving
)

// nodeFlags are the flags of a nodeinfo message.
type nodeFlags struct {
	quorate, waiting, first, leaving bool
}

// node is what this node knows about one node: corosync's cluster_node.
type node struct {
	id       uint32
	state    nodeState
	votes    uint32
	expected uint32
	flags    nodeFlags
}

// State is one node's votequorum. It is not safe for concurrent use.
type State struct {
	disabled bool
	cfgNodes []NodeConfig

	us    *node
	nodes []*node // every node heard of, by id; includes us

	twoNode        bool
	waitForAll     bool
	waitForAllAuto bool
	// waiting is wait_for_all_status: no quorum until all expected votes
	// are present together. us.flags.waiting is what we announce; corosync
	// keeps the two apart (an announcement of our own overwrites the flag).
	waiting bool

	lms         bool
	lmsWindow   time.Duration
	lmsArmed    bool
	lmsDeadline time.Time

	atb        atbMode
	atbInitial atbMode
	atbList    []uint32
	oddVotes   bool // the nodelist's votes are odd (auto_tie_breaker needs wait_for_all)

	allowDownscale    bool
	evTracking        bool
	evTrackingBarrier uint32 // highest expected votes seen (ev_tracking_barrier)
	evBarrier         uint32 // floor of downscaling (ev_barrier)

	quorum  uint32
	quorate bool
	// lowest and highest are the lowest and highest member ids of the last
	// quorate partition, -1 until one was quorate (auto_tie_breaker).
	lowest, highest int64

	viewed   bool
	members  []uint32 // the current view (quorum_members)
	previous []uint32 // the view before (previous_quorum_members)
	syncing  bool
	heard    map[uint32]bool // members heard from since the view changed
}

// New returns the votequorum of node local after start, before any view:
// it sees only itself. It applies corosync's start-up rules to cfg:
// wait_for_all following two_node when not set, two_node switched off by
// auto_tie_breaker, auto_tie_breaker switched off in an odd cluster without
// wait_for_all (Config.Validate refuses the variant corosync refuses; New
// switches auto_tie_breaker off there too).
func New(cfg Config, local uint32) *State {
	s := &State{
		disabled: cfg.Disabled,
		cfgNodes: slices.Clone(cfg.Nodes),
		lowest:   -1,
		highest:  -1,
	}
	s.us = s.add(local)
	s.us.state = stateMember
	s.us.votes = 1
	s.us.flags.first = true
	if s.disabled {
		s.quorate = true
		return s
	}

	s.twoNode = cfg.TwoNode
	s.waitForAll = cfg.WaitForAll
	s.waitForAllAuto = cfg.WaitForAllAuto
	s.lms = cfg.LastManStanding
	s.lmsWindow = cfg.LastManStandingWindow
	s.allowDownscale = cfg.AllowDownscale
	s.evTracking = cfg.AllowDownscale
	if cfg.AutoTieBreaker {
		s.atb, s.atbList = parseATB(cfg.AutoTieBreakerNode)
	}
	s.atbInitial = s.atb
	s.oddVotes = cfg.nodelistVotes()%2 == 1
	if s.evTracking {
		s.evTrackingBarrier = cfg.EVTrackingBarrier
	}
	if refused, _ := s.applyModes(); refused {
		// corosync refuses to start here (Config.Validate says so); a
		// caller that went on gets auto_tie_breaker switched off, as
		// without last_man_standing.
		s.atb = atbNone
	}

	expected := cfg.ExpectedVotes
	if s.evTracking {
		// corosync: with expected votes tracking the stored barrier
		// replaces quorum.expected_votes (a fresh node has none).
		expected = s.evTrackingBarrier
	}
	if i := slices.IndexFunc(cfg.Nodes, func(n NodeConfig) bool { return n.ID == local }); i >= 0 {
		s.us.votes = cfg.Nodes[i].Votes
		s.us.expected = cfg.nodelistVotes()
	} else if expected == 0 {
		// corosync refuses to start when the local node is not in the
		// nodelist and quorum.expected_votes is not set; Vigil's daemons
		// refuse a node outside the nodelist before this.
		expected = cfg.ExpectedVotes
		if expected == 0 {
			expected = cfg.nodelistVotes()
		}
	}
	if expected != 0 {
		s.us.expected = expected
	}
	s.evBarrier = s.us.expected
	if s.waitForAll {
		s.setWaiting(true)
	}
	s.recalculate(false, false)
	return s
}

// applyModes applies corosync's rules between two_node, wait_for_all and
// auto_tie_breaker, at start and when two_node changes at run time.
// refused reports the combination corosync refuses to start with, where it
// stops applying the configuration (auto_tie_breaker stays on).
func (s *State) applyModes() (refused bool, err error) {
	s.atb = s.atbInitial
	if s.waitForAllAuto {
		// corosync 3: wait_for_all follows two_node when not written, and
		// it follows the two_node of the file, before auto_tie_breaker
		// switches two_node off.
		s.waitForAll = s.twoNode
	}
	var errs []error
	if s.twoNode && s.atb != atbNone {
		s.twoNode = false
		errs = append(errs, fmt.Errorf("%w: two_node and auto_tie_breaker cannot be combined: two_node is disabled", ErrIncompatible))
	}
	if s.atb != atbNone && s.oddVotes && !s.waitForAll {
		if s.lms {
			return true, errors.Join(append(errs, fmt.Errorf("%w: auto_tie_breaker and last_man_standing are not available in a cluster with an odd number of votes without wait_for_all", ErrIncompatible))...)
		}
		s.atb = atbNone
		errs = append(errs, fmt.Errorf("%w: auto_tie_breaker needs wait_for_all in a cluster with an odd number of votes: auto_tie_breaker is disabled", ErrIncompatible))
	}
	return false, errors.Join(errs...)
}

// Local returns what this node must announce to the members of its
// partition: after New, after every view change and after its own settings
// changed (SetTwoNode).
func (s *State) Local() NodeInfo {
	return NodeInfo{
		Votes:          s.us.votes,
		ExpectedVotes:  s.us.expected,
		Quorate:        s.us.flags.quorate,
		WaitForAllDone: !s.us.flags.waiting,
		First:          s.us.flags.first,
		Leaving:        s.us.flags.leaving,
	}
}

// Leave returns what this node announces when it shuts down cleanly, and
// whether to announce it at all: only with allow_downscale, so that the
// others lower their expected votes (corosync does it on a clean
// shutdown).
func (s *State) Leave() (NodeInfo, bool) {
	if s.disabled || !s.allowDownscale {
		return NodeInfo{}, false
	}
	s.us.flags.leaving = true
	return s.Local(), true
}

// ViewChanged installs the members of a new view (agreed by all of them) at
// time now; the local node is added if missing. It is corosync's sync_init:
// members that left are dead, and last_man_standing's window starts again
// when nodes left. It then counts this node's own announcement as delivered
// (the caller must still send Local, which the others need); the others'
// arrive through NodeInfoReceived.
func (s *State) ViewChanged(members []uint32, now time.Time) {
	members = slices.Clone(members)
	if !slices.Contains(members, s.us.id) {
		members = append(members, s.us.id)
	}
	slices.Sort(members)
	members = slices.Compact(members)
	if s.disabled {
		s.viewed, s.members = true, members
		return
	}
	if len(members) > 1 {
		s.us.flags.first = false
	}
	left := false
	for _, id := range s.members {
		if !slices.Contains(members, id) {
			left = true
			if n := s.find(id); n != nil {
				n.state = stateDead
			}
		}
	}
	if s.lms {
		n := uint32(len(members))
		if (n >= s.quorum && left) || (n <= s.quorum && s.atb != atbNone && s.lowestPresent()) {
			s.lmsArmed = true
			s.lmsDeadline = now.Add(s.lmsWindow)
		}
	}
	s.previous, s.members, s.viewed = s.members, members, true
	s.syncing = true
	s.heard = map[uint32]bool{}
	s.announced(s.us.id, s.us.votes, s.us.expected, s.us.flags)
}

// NodeInfoReceived applies the announcement of node id, delivered in agreed
// order. Announcements of nodes outside the current view are ignored (under
// virtual synchrony there are none).
func (s *State) NodeInfoReceived(id uint32, info NodeInfo, _ time.Time) {
	if s.disabled || !slices.Contains(s.members, id) {
		return
	}
	s.announced(id, info.Votes, info.ExpectedVotes, nodeFlags{
		quorate: info.Quorate,
		waiting: !info.WaitForAllDone,
		first:   info.First,
		leaving: info.Leaving,
	})
}

// announced is corosync's nodeinfo handler, followed by the end of the
// synchronisation once every member has been heard.
func (s *State) announced(id, votes, expected uint32, flags nodeFlags) {
	n := s.find(id)
	fresh := n == nil
	if fresh {
		n = s.add(id)
	}
	old := *n
	if fresh {
		old.state = stateDead
	}
	n.flags = flags
	n.votes = votes
	n.state = stateMember
	allowDecrease, byNodes := false, false
	if flags.leaving {
		n.state = stateLeaving
		allowDecrease, byNodes = true, true
	}
	if !s.quorate && flags.quorate {
		// Joining a quorate partition: take its expected votes.
		allowDecrease = true
		s.us.expected = expected
	}
	if flags.quorate || s.evTracking {
		n.expected = expected
	} else {
		n.expected = s.us.expected
	}
	if s.lms && n.votes > 1 {
		// corosync: last_man_standing needs every node to have 1 vote.
		s.lms = false
		s.lmsArmed = false
	}
	if fresh || n == s.us || flags.first || old != *n {
		s.recalculate(allowDecrease, byNodes)
	}
	if s.waitForAll && !flags.waiting && flags.quorate {
		// A quorate node that is not waiting has seen all nodes for us.
		s.setWaiting(false)
	}
	if s.syncing {
		s.heard[id] = true
		if !slices.ContainsFunc(s.members, func(m uint32) bool { return !s.heard[m] }) {
			// corosync's sync_activate.
			s.syncing = false
			s.recalculate(false, false)
		}
	}
}

// SetExpectedVotes applies `corosync-quorumtool -e n`. It must be delivered
// in agreed order to every member of the partition, which all check it the
// same way: n may not be lower than the votes present, and a quorate
// partition may not lose quorum by it. Expected votes may go down, and
// quorum with them.
func (s *State) SetExpectedVotes(n uint32, _ time.Time) error {
	if s.disabled {
		return ErrDisabled
	}
	if n == 0 {
		return fmt.Errorf("%w: expected votes must be at least 1", ErrInvalid)
	}
	// corosync checks without allow_downscale's floor.
	q, total := s.calculate(true, n, false)
	if n < total {
		return fmt.Errorf("%w: expected votes %d is lower than the %d votes present", ErrInvalid, n, total)
	}
	if s.quorate && q > total {
		return fmt.Errorf("%w: expected votes %d would need a quorum of %d with %d votes present: the partition would lose quorum", ErrInvalid, n, q, total)
	}
	s.setMembersExpected(n)
	s.evBarrier = n
	if s.evTracking {
		s.us.expected = max(s.us.expected, s.evTrackingBarrier)
	}
	s.recalculate(true, false)
	return nil
}

// SetVotes applies `corosync-quorumtool -v votes -n id`, delivered in agreed
// order to every member of the partition. The node must be known (a member,
// or one seen before); the votes may not leave a quorum above the votes
// present or below half of them.
func (s *State) SetVotes(id, votes uint32, _ time.Time) error {
	if s.disabled {
		return ErrDisabled
	}
	n := s.find(id)
	if n == nil {
		return fmt.Errorf("%w: node %d has not been seen", ErrUnknownNode, id)
	}
	saved := n.votes
	n.votes = votes
	q, total := s.calculate(true, 0, s.allowDownscale)
	n.votes = saved
	if q < total/2 || q > total {
		return fmt.Errorf("%w: with %d votes for node %d the quorum would be %d of %d votes present", ErrInvalid, votes, id, q, total)
	}
	n.votes = votes
	s.recalculate(true, false)
	return nil
}

// SetTwoNode switches two_node at run time on this node (corosync re-reads
// it on a configuration reload; give every node the same change).
// wait_for_all follows it when the file did not set wait_for_all, without
// making the node wait. An error means the change contradicts another
// setting; the state then holds what corosync runs with (two_node stays off
// next to auto_tie_breaker). The caller must announce Local afterwards.
func (s *State) SetTwoNode(on bool, _ time.Time) error {
	if s.disabled {
		return ErrDisabled
	}
	s.twoNode = on
	refused, err := s.applyModes()
	if !refused && !s.waitForAll && s.waitForAllAuto && s.waiting {
		// corosync: wait_for_all switched off with two_node stops waiting.
		s.setWaiting(false)
	}
	s.recalculate(false, false)
	return err
}

// CancelWaitForAll stops waiting for all nodes, as corosync 3.1 does when
// quorum.cancel_wait_for_all is set in cmap: delivered in agreed order to
// every member of the partition, which then decide on the usual rules.
func (s *State) CancelWaitForAll(_ time.Time) error {
	if s.disabled {
		return ErrDisabled
	}
	s.setWaiting(false)
	s.recalculate(false, false)
	return nil
}

// Tick lets time pass: last_man_standing's window expires at the first
// tick at or after it, and if the partition is then quorate, expected votes
// come down to the members present.
func (s *State) Tick(now time.Time) {
	if !s.lmsArmed || now.Before(s.lmsDeadline) {
		return
	}
	s.lmsArmed = false
	if s.quorate {
		s.recalculate(true, true)
	}
}

// EVTrackingBarrier returns the highest expected votes seen with expected
// votes tracking (allow_downscale), for the caller to store and pass back
// in Config.EVTrackingBarrier after a restart; 0 without tracking.
func (s *State) EVTrackingBarrier() uint32 { return s.evTrackingBarrier }

// Status returns the current result, as corosync-quorumtool -s shows it.
func (s *State) Status() Status {
	members := s.members
	if !s.viewed {
		members = []uint32{s.us.id}
	}
	st := Status{Quorate: s.quorate, Syncing: s.syncing}
	if s.disabled {
		st.Flags.Quorate = true
		for _, id := range members {
			m := MemberStatus{ID: id}
			if i := slices.IndexFunc(s.cfgNodes, func(n NodeConfig) bool { return n.ID == id }); i >= 0 {
				m.Votes = s.cfgNodes[i].Votes
			}
			st.Members = append(st.Members, m)
		}
		return st
	}
	st.ExpectedVotes = s.us.expected
	st.Quorum = s.quorum
	for _, n := range s.nodes {
		if n.state == stateMember {
			st.HighestExpected = max(st.HighestExpected, n.expected)
			st.TotalVotes += n.votes
		}
	}
	st.Flags = Flags{
		Quorate:         s.quorate,
		TwoNode:         s.twoNode,
		WaitForAll:      s.waitForAll,
		LastManStanding: s.lms,
		AutoTieBreaker:  s.atb != atbNone,
		AllowDownscale:  s.allowDownscale,
	}
	for _, id := range members {
		m := MemberStatus{ID: id}
		if n := s.find(id); n != nil {
			m.Votes, m.ExpectedVotes = n.votes, n.expected
		}
		st.Members = append(st.Members, m)
	}
	return st
}
