package core

import (
	pb "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// deliver hands one ordered message of the current view to clients and
// keeps it until it is stable. Own messages leave the pending queue.
func (n *Node) deliver(o *pb.Ordered) {
	p := o.GetPayload()
	n.delivered = o.GetSeq()
	n.buf[o.GetSeq()] = o
	k := keyOf(p)
	dup := k.counter <= n.highest[k.sender]
	if !dup {
		n.highest[k.sender] = k.counter
	}
	n.ready.Events = append(n.ready.Events, Event{Delivery: &Delivery{
		View: n.view.ID, Seq: o.GetSeq(), Sender: k.sender, Counter: k.counter, Data: p.GetData(), Duplicate: dup,
	}})
	if k.sender == n.self {
		for len(n.pending) > 0 && n.pending[0].GetCounter() <= k.counter {
			n.pending = n.pending[1:]
		}
	}
}

// submitPending sends every own message not yet ordered to the sequencer.
func (n *Node) submitPending() {
	if len(n.pending) == 0 || n.phase != operational {
		return
	}
	n.lastSubmit = n.now
	n.submitted = n.pending[len(n.pending)-1].GetCounter()
	for rest := n.pending; len(rest) > 0; {
		k := n.batchLen(len(rest), func(i int) int { return len(rest[i].GetData()) })
		n.send(n.view.ID.Coordinator, &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Submit{Submit: &pb.Submit{
			View: viewToPB(n.view.ID), Payloads: rest[:k], Oldest: n.pending[0].GetCounter(),
		}}})
		rest = rest[k:]
	}
}

func (n *Node) tickOrdering() {
	if len(n.pending) > 0 && n.now-n.lastSubmit >= uint64(n.cfg.RetransmitTicks) {
		n.submitPending()
	}
	coord := n.view.ID.Coordinator
	if coord != n.self && (n.delivered > n.ackSent || n.now%uint64(n.cfg.RetransmitTicks) == 0) {
		n.ackSent = n.delivered
		n.send(coord, &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Ack{Ack: &pb.Ack{View: viewToPB(n.view.ID), Received: n.delivered}}})
	}
	if len(n.buf) > 0 && n.hasGap() {
		if n.gapSince == 0 {
			n.gapSince = n.now
		} else if n.now-n.gapSince >= uint64(n.cfg.RetransmitTicks) {
			n.gapSince = n.now
			n.send(coord, &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Nack{Nack: &pb.Nack{View: viewToPB(n.view.ID), FromSeq: n.delivered + 1, ToSeq: n.highestReceived()}}})
		}
	} else {
		n.gapSince = 0
	}
	if coord == n.self {
		n.tickSequencer()
	}
}

func (n *Node) hasGap() bool { return n.highestReceived() > n.delivered }

// highestReceived is the highest seq received in this view. buf holds
// every seq from stable+1 to delivered, and more only after a gap, so the
// scan is rare.
func (n *Node) highestReceived() uint64 {
	top := n.delivered
	if len(n.buf) <= int(n.delivered-n.stable) {
		return top
	}
	for s := range n.buf {
		top = max(top, s)
	}
	return top
}

func (n *Node) onSequenced(from NodeRef, s *pb.Sequenced) {
	if n.phase != operational || viewFromPB(s.GetView()) != n.view.ID || from != n.view.ID.Coordinator {
		return
	}
	for _, o := range s.GetMessages() {
		if o.GetSeq() > n.delivered && o.GetPayload() != nil {
			if _, ok := n.buf[o.GetSeq()]; !ok {
				n.buf[o.GetSeq()] = o
			}
		}
	}
	for {
		o, ok := n.buf[n.delivered+1]
		if !ok {
			break
		}
		n.deliver(o)
	}
	if st := min(s.GetStable(), n.delivered); st > n.stable {
		for seq := n.stable + 1; seq <= st; seq++ {
			delete(n.buf, seq)
		}
		n.stable = st
	}
	n.maybeSubmit()
}

// The sequencer: the coordinator of the view orders what members submit.

func (n *Node) onSubmit(from NodeRef, s *pb.Submit) {
	if n.phase != operational || n.view.ID.Coordinator != n.self || viewFromPB(s.GetView()) != n.view.ID || !n.view.Has(from) {
		return
	}
	payloads := s.GetPayloads()
	if len(payloads) == 0 {
		return
	}
	if _, ok := n.nextCounter[from]; !ok {
		// Submits may arrive in any order; each names the sender's oldest
		// undelivered message, where its order in this view starts
		// (docs/messaging-protocol.md, FIFO).
		n.nextCounter[from] = s.GetOldest()
	}
	held := n.held[from]
	if held == nil {
		held = map[uint64]*pb.Payload{}
		n.held[from] = held
	}
	for _, p := range payloads {
		if fromPB(p.GetSender()) != from {
			continue
		}
		c := p.GetCounter()
		if c >= n.nextCounter[from] && c < n.nextCounter[from]+uint64(n.cfg.MaxPending) {
			held[c] = p
		}
	}
	n.sequence()
}

// sequence orders held messages in each sender's counter order while fewer
// than MaxUnstable messages wait for stability.
func (n *Node) sequence() {
	var batch []*pb.Ordered
	for _, m := range n.view.Members {
		held := n.held[m]
		for len(held) > 0 && n.seqNext-1-n.stable < uint64(n.cfg.MaxUnstable) && n.unstableBytes < n.cfg.MaxUnstableBytes {
			p, ok := held[n.nextCounter[m]]
			if !ok {
				break
			}
			delete(held, n.nextCounter[m])
			n.nextCounter[m]++
			batch = append(batch, &pb.Ordered{Seq: n.seqNext, Payload: p})
			n.seqNext++
			n.unstableBytes += len(p.GetData())
		}
	}
	if len(batch) > 0 {
		n.sendSequenced(n.view.Members, batch)
	}
}

// batchLen returns how many of the next count items, of the given sizes,
// go in one message: at least one, at most MaxBatch and MaxBatchBytes.
func (n *Node) batchLen(count int, size func(int) int) int {
	k, bytes := 0, 0
	for k < count && k < n.cfg.MaxBatch {
		bytes += size(k)
		if k > 0 && bytes > n.cfg.MaxBatchBytes {
			break
		}
		k++
	}
	return k
}

func (n *Node) sendSequenced(to []NodeRef, msgs []*pb.Ordered) {
	for first := true; first || len(msgs) > 0; first = false {
		k := n.batchLen(len(msgs), func(i int) int { return len(msgs[i].GetPayload().GetData()) })
		part := msgs[:k]
		msgs = msgs[k:]
		n.stableSent = n.stable
		n.broadcast(to, func() *pb.ProtocolMessage {
			return &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Sequenced{Sequenced: &pb.Sequenced{View: viewToPB(n.view.ID), Messages: part, Stable: n.stable}}}
		})
	}
}

func (n *Node) onAck(from NodeRef, a *pb.Ack) {
	if n.phase != operational || n.view.ID.Coordinator != n.self || viewFromPB(a.GetView()) != n.view.ID || !n.view.Has(from) {
		return
	}
	if a.GetReceived() > n.acks[from] && a.GetReceived() < n.seqNext {
		n.acks[from] = a.GetReceived()
	}
}

func (n *Node) onNack(from NodeRef, k *pb.Nack) {
	if n.phase != operational || n.view.ID.Coordinator != n.self || viewFromPB(k.GetView()) != n.view.ID || !n.view.Has(from) {
		return
	}
	n.resend(from, k.GetFromSeq(), k.GetToSeq())
}

func (n *Node) resend(to NodeRef, from, upto uint64) {
	var msgs []*pb.Ordered
	for seq := max(from, n.stable+1); seq <= upto && seq < n.seqNext && len(msgs) < n.cfg.MaxBatch; seq++ {
		if o, ok := n.buf[seq]; ok {
			msgs = append(msgs, o)
		}
	}
	if len(msgs) > 0 {
		n.sendSequenced([]NodeRef{to}, msgs)
	}
}

func (n *Node) tickSequencer() {
	// Stability: the lowest seq every member has received.
	st := n.delivered
	laggard := n.self
	for _, m := range n.view.Members {
		if m != n.self && n.acks[m] < st {
			st, laggard = n.acks[m], m
		}
	}
	if st > n.stable {
		for seq := n.stable + 1; seq <= st; seq++ {
			n.unstableBytes -= len(n.buf[seq].GetPayload().GetData())
			delete(n.buf, seq)
		}
		n.stable = st
		n.sequence()
	}
	if n.stable != n.stableSent {
		n.sendSequenced(n.view.Members, nil)
	}
	// Members that lack the newest messages get them again: a lost tail
	// leaves no gap a member could notice.
	// Only messages ordered a whole interval ago are resent, so that acks
	// on their way do not cause needless copies.
	if n.now-n.lastResend >= uint64(n.cfg.RetransmitTicks) {
		n.lastResend = n.now
		for _, m := range n.view.Members {
			if m != n.self && n.acks[m]+1 < n.resendMark {
				n.resend(m, n.acks[m]+1, n.resendMark-1)
			}
		}
		n.resendMark = n.seqNext
	}
	// Flow control: a member that keeps the sequencer full is removed.
	full := n.seqNext-1-n.stable >= uint64(n.cfg.MaxUnstable) || n.unstableBytes >= n.cfg.MaxUnstableBytes
	if full && laggard != n.self {
		if n.lagSince == 0 {
			n.lagSince = n.now
		} else if n.now-n.lagSince > uint64(n.cfg.LagTicks) {
			n.log.Warn("member falls behind and holds back the whole view; removing it", "node", laggard,
				"received", n.acks[laggard], "ordered", n.seqNext-1)
			n.block(laggard.ID, uint64(n.cfg.StableTicks))
			n.lagSince = 0
		}
	} else {
		n.lagSince = 0
	}
}
