package core

import (
	"slices"

	pb "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// target is the view this node believes should be installed: itself, then
// every node it hears that hears it and every node already taken, so that
// all members of a view hear each other. Members of the current view are
// taken first (in id order), then the others (in id order): a newcomer
// that does not hear every member yet never displaces one. Members of the
// current view stay while they are heard; other nodes come in only after
// StableTicks of gap-free hearing and when not blocked.
func (n *Node) target() []NodeRef {
	members := []NodeRef{n.self}
	ids := slices.Clone(n.cfg.Nodes)
	slices.SortFunc(ids, func(a, b uint32) int {
		// Current members first, then by id.
		am, bm := n.inView(a), n.inView(b)
		switch {
		case am && !bm:
			return -1
		case bm && !am:
			return 1
		}
		return int(int64(a) - int64(b))
	})
	for _, id := range ids {
		p := n.peers[id]
		if p == nil || !n.alive(p) || p.blocked > n.now || !p.hears[n.self] {
			continue
		}
		if !n.view.Has(p.ref) && n.now-p.heardSince < uint64(n.cfg.StableTicks) {
			continue
		}
		mutual := true
		for _, m := range members {
			if m == n.self {
				continue
			}
			q := n.peers[m.ID]
			if !p.hears[m] || !q.hears[p.ref] {
				mutual = false
				break
			}
		}
		if mutual {
			members = append(members, p.ref)
		}
	}
	sortRefs(members)
	return members
}

// inView reports whether the node's current run (its newest incarnation
// heard) is a member of this node's view.
func (n *Node) inView(id uint32) bool {
	p := n.peers[id]
	return p != nil && n.view.Has(p.ref)
}

// dropped returns the members of this node's view that it would keep (its
// own target has them) but that the proposed members leave out.
func (n *Node) dropped(proposed []NodeRef) []uint32 {
	var out []uint32
	for _, m := range n.target() {
		if m != n.self && n.view.Has(m) && !slices.Contains(proposed, m) {
			out = append(out, m.ID)
		}
	}
	return out
}

func (n *Node) tickMembership() {
	want := n.target()
	switch {
	case n.coord != nil:
		c := n.coord
		if !slices.Equal(c.members, want) {
			n.propose(want)
			return
		}
		if n.now-c.since > uint64(n.cfg.ConsensusTicks) {
			// Members that did not report are dropped for a while.
			for _, m := range c.members {
				if _, ok := c.reports[m]; !ok && m != n.self {
					n.log.Warn("member did not answer a view change; leaving it out", "node", m, "proposal", c.id)
					n.block(m.ID, uint64(n.cfg.StableTicks))
				}
			}
			n.propose(n.target())
		}
	case n.phase == gathering:
		coord := n.part.id.Coordinator
		p := n.peers[coord.ID]
		if coord != n.self && (p == nil || !n.alive(p) || n.now-n.part.since > 2*uint64(n.cfg.ConsensusTicks)) {
			n.log.Info("view change abandoned: its coordinator is gone or silent", "proposal", n.part.id)
			n.phase = operational
			n.part = nil
			n.waitSince = 0
		}
	default:
		if slices.Equal(want, n.view.Members) && !n.diverged() {
			n.waitSince = 0
			return
		}
		if want[0] == n.self {
			if n.now >= n.holdUntil {
				n.propose(want)
			}
			return
		}
		if n.waitSince == 0 {
			n.waitSince = n.now
		} else if p := n.peers[want[0].ID]; n.now-n.waitSince > uint64(n.cfg.ConsensusTicks) &&
			(p == nil || n.now-p.proposed > uint64(n.cfg.ConsensusTicks)) {
			// The node that should coordinate does not: run the change
			// without it for a while.
			n.log.Warn("expected coordinator does not start the view change; leaving it out", "node", want[0])
			n.block(want[0].ID, uint64(n.cfg.StableTicks))
			n.waitSince = 0
		}
	}
}

// diverged reports whether a member of the view is not in it: it reports a
// later view, or another view for longer than a view change takes (it
// missed the install). Members then need a new view even if the set of
// nodes is right.
func (n *Node) diverged() bool {
	for _, m := range n.view.Members {
		p := n.peers[m.ID]
		if m == n.self || p == nil || p.ref != m || p.viewOff == 0 {
			continue
		}
		if p.view.Compare(n.view.ID) > 0 || n.now-p.viewOff > uint64(n.cfg.ConsensusTicks) {
			return true
		}
	}
	return false
}

func (n *Node) block(id uint32, ticks uint64) {
	if p := n.peers[id]; p != nil {
		p.blocked = n.now + ticks
	}
}

// propose starts a view change coordinated by this node.
func (n *Node) propose(members []NodeRef) {
	n.maxEpoch = max(n.maxEpoch, n.view.ID.Epoch) + 1
	id := ViewID{Epoch: n.maxEpoch, Coordinator: n.self}
	n.coord = &coordination{id: id, members: members, reports: map[NodeRef]*pb.Report{}, since: n.now}
	n.waitSince = 0
	n.broadcast(members, func() *pb.ProtocolMessage {
		return &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Propose{Propose: &pb.Propose{Proposal: viewToPB(id), Members: refsToPB(members)}}}
	})
}

func (n *Node) onPropose(from NodeRef, p *pb.Propose) {
	id := viewFromPB(p.GetProposal())
	members := refsFromPB(p.GetMembers())
	if id.Coordinator != from || !slices.Contains(members, n.self) || id.Compare(n.view.ID) <= 0 {
		return
	}
	n.maxEpoch = max(n.maxEpoch, id.Epoch)
	if p := n.peers[from.ID]; p != nil {
		p.proposed = n.now
	}
	if n.part != nil && id.Compare(n.part.id) < 0 {
		return // already in a later proposal
	}
	if n.coord != nil && id.Compare(n.coord.id) > 0 {
		n.coord = nil // a later proposal supersedes ours
	}
	var notHeard []uint32
	for _, m := range members {
		if m == n.self {
			continue
		}
		q := n.peers[m.ID]
		if q == nil || q.ref != m || !n.alive(q) {
			notHeard = append(notHeard, m.ID)
		}
	}
	if len(notHeard) > 0 {
		n.send(from, &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Report{Report: &pb.Report{Proposal: p.GetProposal(), NotHeard: notHeard}}})
		return
	}
	if keep := n.dropped(members); len(keep) > 0 && n.phase == operational {
		// The proposal would split this node's working view: refuse, and
		// let the coordinator try again once it hears them too or this
		// node stops hearing them.
		n.send(from, &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Report{Report: &pb.Report{Proposal: p.GetProposal(), Keep: keep}}})
		return
	}
	n.phase = gathering
	n.part = &participation{id: id, members: members, since: n.now}
	n.waitSince = 0
	r := &pb.Report{
		Proposal:   p.GetProposal(),
		Accept:     true,
		OldView:    viewToPB(n.view.ID),
		OldMembers: refsToPB(n.view.Members),
		Delivered:  n.delivered,
	}
	for _, seq := range sortedSeqs(n.buf) {
		r.Received = append(r.Received, n.buf[seq])
	}
	n.send(from, &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Report{Report: r}})
}

func (n *Node) onReport(from NodeRef, r *pb.Report) {
	c := n.coord
	if c == nil || viewFromPB(r.GetProposal()) != c.id || !slices.Contains(c.members, from) {
		return
	}
	if !r.GetAccept() && len(r.GetKeep()) > 0 {
		// from still counts on members this proposal leaves out: give
		// up and propose again a heartbeat later, when either side's
		// hearing may have changed. Members that accepted are released by
		// that later proposal.
		n.log.Debug("view change refused: it would leave out members another node still hears", "proposal", c.id, "by", from, "keep", r.GetKeep())
		n.coord = nil
		n.holdUntil = n.now + uint64(n.cfg.HeartbeatTicks)
		if n.part != nil && n.part.id == c.id {
			// This node took part in its own proposal: back to its view.
			n.phase = operational
			n.part = nil
		}
		return
	}
	if !r.GetAccept() {
		// from does not hear some members: of each such pair, leave out
		// the higher id (never this coordinator), then try again.
		for _, id := range r.GetNotHeard() {
			drop := max(id, from.ID)
			if drop == n.self.ID {
				drop = from.ID
			}
			n.block(drop, uint64(n.cfg.StableTicks))
		}
		n.propose(n.target())
		return
	}
	c.reports[from] = r
	if len(c.reports) < len(c.members) {
		return
	}
	inst := buildInstall(c)
	n.coord = nil
	n.broadcast(c.members, func() *pb.ProtocolMessage {
		return &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Install{Install: inst}}
	})
}

// buildInstall computes, for every old view the members come from, the
// messages its members must deliver in it before the new view: the
// messages of that view its members hold, in its order, from the lowest
// any of them has not delivered up to the first that none of them holds.
// Nothing after that gap was delivered by any of them (each delivers
// without gaps and reports all it holds), so all of them stop at the same
// place, which is a prefix of the order the sequencer of that view gave to
// everyone. Their own messages left out are submitted again in the new
// view (docs/messaging-protocol.md, "Flush").
func buildInstall(c *coordination) *pb.Install {
	groups := map[ViewID][]*pb.Report{}
	var olds []ViewID
	for _, m := range c.members {
		r := c.reports[m]
		id := viewFromPB(r.GetOldView())
		if _, ok := groups[id]; !ok {
			olds = append(olds, id)
		}
		groups[id] = append(groups[id], r)
	}
	slices.SortFunc(olds, ViewID.Compare)
	inst := &pb.Install{View: viewToPB(c.id), Members: refsToPB(c.members)}
	for _, old := range olds {
		reports := groups[old]
		bySeq := map[uint64]*pb.Ordered{}
		next := reports[0].GetDelivered()
		for _, r := range reports {
			next = min(next, r.GetDelivered())
			for _, o := range r.GetReceived() {
				bySeq[o.GetSeq()] = o
			}
		}
		f := &pb.Flush{OldView: viewToPB(old)}
		for next++; bySeq[next] != nil; next++ {
			f.Messages = append(f.Messages, bySeq[next])
		}
		inst.Flushes = append(inst.Flushes, f)
	}
	return inst
}

func (n *Node) onInstall(from NodeRef, inst *pb.Install) {
	id := viewFromPB(inst.GetView())
	if n.part == nil || n.part.id != id || id.Coordinator != from {
		return
	}
	for _, f := range inst.GetFlushes() {
		if viewFromPB(f.GetOldView()) != n.view.ID {
			continue
		}
		for _, o := range f.GetMessages() {
			if o.GetSeq() == n.delivered+1 && o.GetPayload() != nil {
				n.deliver(o)
			}
		}
	}
	members := refsFromPB(inst.GetMembers())
	sortRefs(members)
	n.install(View{ID: id, Members: members})
}

// install makes v the current view and resets the ordering state; the
// caller has delivered everything of the previous view.
func (n *Node) install(v View) {
	for _, m := range v.Members {
		if !n.view.Has(m) {
			v.Joined = append(v.Joined, m)
		}
	}
	for _, m := range n.view.Members {
		if !v.Has(m) {
			v.Left = append(v.Left, m)
		}
	}
	n.view = v
	n.maxEpoch = max(n.maxEpoch, v.ID.Epoch)
	n.phase = operational
	n.part = nil
	n.waitSince = 0
	n.buf = map[uint64]*pb.Ordered{}
	n.delivered, n.stable, n.ackSent, n.gapSince = 0, 0, 0, 0
	n.lastSubmit, n.submitted = 0, 0
	if v.ID.Coordinator == n.self {
		n.seqNext = 1
		n.unstableBytes = 0
		n.nextCounter = map[NodeRef]uint64{}
		n.held = map[NodeRef]map[uint64]*pb.Payload{}
		n.acks = map[NodeRef]uint64{}
		n.stableSent, n.lagSince, n.lastResend, n.resendMark = 0, 0, 0, 1
	} else {
		n.nextCounter, n.held, n.acks = nil, nil, nil
	}
	for _, p := range n.peers {
		if v.Has(p.ref) {
			p.blocked = 0
		}
		p.viewOff = 0
		if p.view != v.ID {
			p.viewOff = n.now
		}
	}
	vc := v
	n.ready.Events = append(n.ready.Events, Event{View: &vc})
	n.log.Info("view installed", "view", v.String())
	// Own messages still pending go to the new sequencer at once.
	n.submitPending()
}

func sortedSeqs(m map[uint64]*pb.Ordered) []uint64 {
	seqs := make([]uint64, 0, len(m))
	for s := range m {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	return seqs
}
