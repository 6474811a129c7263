package votequorum

import (
	"cmp"
	"slices"
)

// The rules of exec/votequorum.c: recalculate_quorum, calculate_quorum,
// are_we_quorate and the auto_tie_breaker checks.

// recalculate is corosync's recalculate_quorum: expected votes never below
// the votes present, the quorum, and whether this partition has it.
// allowDecrease lets the quorum go down; byNodes sets everyone's expected
// votes to the number of members (last_man_standing, a node leaving with
// allow_downscale).
func (s *State) recalculate(allowDecrease, byNodes bool) {
	var total, count uint32
	for _, n := range s.nodes {
		if n.state == stateMember {
			total += n.votes
			count++
		}
	}
	if !byNodes {
		count = 0
	}
	if total > s.us.expected {
		s.us.expected = total
	}
	if s.evTracking && s.us.expected > s.evTrackingBarrier {
		s.evTrackingBarrier = s.us.expected
	}
	s.quorum, total = s.calculate(allowDecrease, count, s.allowDownscale)
	s.setMembersExpected(count)
	s.decide(total)
}

// calculate is corosync's calculate_quorum: the quorum (and the votes
// present) from the highest expected votes of the members, or from
// maxExpected when it is not 0. It changes nothing.
func (s *State) calculate(allowDecrease bool, maxExpected uint32, downscale bool) (quorum, total uint32) {
	if downscale && allowDecrease && maxExpected != 0 {
		maxExpected = max(s.evBarrier, maxExpected)
	}
	var highest, count uint32
	for _, n := range s.nodes {
		if n.state == stateMember {
			highest = max(highest, n.expected)
			total += n.votes
			count++
		}
	}
	if maxExpected > 0 {
		highest = maxExpected
	}
	// The OpenVMS rule: more than half of the expected votes, and of the
	// votes present.
	quorum = max((highest+2)/2, (total+2)/2)
	if !allowDecrease {
		quorum = max(s.quorum, quorum)
	}
	// two_node: either node alone keeps quorum; fencing decides. It holds
	// whenever at most two nodes are members, whatever the nodelist says.
	if s.twoNode && count <= 2 {
		quorum = 1
	}
	return quorum, total
}

// decide is corosync's are_we_quorate.
func (s *State) decide(total uint32) {
	if s.waitForAll && s.waiting {
		if total != s.us.expected {
			s.quorate = false
			return
		}
		s.setWaiting(false)
	}
	quorate := s.quorum <= total
	if quorate {
		s.lowest, s.highest = int64(s.us.id), int64(s.us.id)
		for _, n := range s.nodes {
			if n.state == stateMember {
				s.lowest = min(s.lowest, int64(n.id))
				s.highest = max(s.highest, int64(n.id))
			}
		}
	}
	if s.atb != atbNone &&
		total == s.us.expected/2 && // an even split (or one vote short of it)
		len(s.previous)-len(s.members) < int(s.quorum) && // the other side cannot have quorum
		s.tieBreakerPresent() {
		quorate = true
	}
	s.quorate = quorate
	s.us.flags.quorate = quorate
	if s.waitForAll {
		// Losing quorum makes the node wait for all nodes again.
		s.setWaiting(!quorate)
	}
}

// tieBreakerPresent is corosync's check_auto_tie_breaker.
func (s *State) tieBreakerPresent() bool {
	switch s.atb {
	case atbLowest:
		return s.lowestPresent()
	case atbHighest:
		return s.present(s.highest)
	}
	// The first listed node in this view decides, unless a node listed
	// before it was in the previous view: that one may be on the other
	// side.
	for i, id := range s.atbList {
		if slices.Contains(s.members, id) {
			for _, before := range s.atbList[:i] {
				if slices.Contains(s.previous, before) {
					return false
				}
			}
			return true
		}
	}
	return false
}

func (s *State) lowestPresent() bool { return s.present(s.lowest) }

// present reports whether id is a member that has announced itself.
func (s *State) present(id int64) bool {
	if id < 0 {
		return false
	}
	n := s.find(uint32(id))
	return n != nil && n.state == stateMember
}

// setMembersExpected sets every member's expected votes to n, unless n is
// 0 (corosync's update_node_expected_votes).
func (s *State) setMembersExpected(n uint32) {
	if n == 0 {
		return
	}
	for _, m := range s.nodes {
		if m.state == stateMember {
			m.expected = n
		}
	}
}

func (s *State) setWaiting(on bool) {
	s.waiting = on
	s.us.flags.waiting = on
}

func (s *State) find(id uint32) *node {
	i, ok := slices.BinarySearchFunc(s.nodes, id, func(n *node, id uint32) int { return cmpID(n.id, id) })
	if !ok {
		return nil
	}
	return s.nodes[i]
}

// add adds node id, dead until it announces itself; it must be new.
func (s *State) add(id uint32) *node {
	i, _ := slices.BinarySearchFunc(s.nodes, id, func(n *node, id uint32) int { return cmpID(n.id, id) })
	n := &node{id: id, state: stateDead}
	s.nodes = slices.Insert(s.nodes, i, n)
	return n
}

func cmpID(a, b uint32) int { return cmp.Compare(a, b) }
