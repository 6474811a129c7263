package crmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
	crmv1 "github.com/vigil-ha/vigil/proto/vigil/crm/v1"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// follow keeps this crmd a member of the crm group, joining again after
// the messaging daemon restarts. While it is not a member it serves its own
// copy of the CIB to readers and refuses changes.
func (s *Server) follow(ctx context.Context) {
	s.group.Follow(ctx, groupFollower{s})
}

// groupFollower feeds the crm group's events to the replica.
type groupFollower struct{ s *Server }

func (f groupFollower) Joined(ctx context.Context, handle uint64) {
	s := f.s
	out := &outbox{wake: make(chan struct{}, 1)}
	s.mu.Lock()
	s.rep.Joined(handle)
	s.out = out
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("joined the crm group", "handle", handle)
	go func() {
		if err := s.sender(ctx, handle, out); ctx.Err() == nil {
			// A member that cannot send rejoins.
			s.log.Warn("multicast to the crm group failed; joining again", "err", err)
			s.group.Abandon()
		}
	}()
}

func (f groupFollower) Lost(error) {
	s := f.s
	s.mu.Lock()
	s.rep.Left()
	s.out = nil
	s.failWaitersLocked(fmt.Errorf("%w: lost the crm group before the change came back in the group's order; it may or may not have been applied, query the CIB", cibsvc.ErrNotMember))
	s.notifyLocked()
	s.updateDCLocked()
	s.mu.Unlock()
}

func (f groupFollower) Change(_ context.Context, cc *messagingv1.ConfigurationChange) error {
	f.s.applyChange(cc)
	return nil
}

func (f groupFollower) Deliver(_ context.Context, d *messagingv1.Delivery) error {
	f.s.applyDelivery(d)
	return nil
}

// outbox is the messages this member has to multicast, in order. One
// goroutine sends them, so that the chunks of one message are never
// interleaved with another's and the loop reading the group never waits
// for the send queue of the messaging daemon.
type outbox struct {
	queue [][][]byte
	wake  chan struct{}
}

// enqueueLocked queues the payloads of one message; s.mu is held.
func (s *Server) enqueueLocked(payloads [][]byte) {
	if s.out == nil || len(payloads) == 0 {
		return
	}
	s.out.queue = append(s.out.queue, payloads)
	select {
	case s.out.wake <- struct{}{}:
	default:
	}
}

func (s *Server) sender(ctx context.Context, handle uint64, out *outbox) error {
	for {
		s.mu.Lock()
		var next [][]byte
		if len(out.queue) > 0 {
			next = out.queue[0]
			out.queue = out.queue[1:]
		}
		s.mu.Unlock()
		if next == nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-out.wake:
				continue
			}
		}
		for _, p := range next {
			if err := s.group.MulticastAs(ctx, handle, p); err != nil {
				return err
			}
		}
	}
}

// applyChange feeds a configuration change of the group to the replica.
func (s *Server) applyChange(cc *messagingv1.ConfigurationChange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []cibsvc.Member
	for _, m := range cc.GetMembers() {
		ms = append(ms, cibsvc.Member{Node: m.GetNodeId(), Handle: m.GetHandle()})
	}
	dc := s.rep.DC()
	rd := s.rep.ConfigurationChange(cibsvc.ViewKey(cc.GetViewId().GetEpoch(), cc.GetViewId().GetCoordinator()), ms)
	s.log.Info("crm group changed", "members", nodeIDs(ms), "joined", len(cc.GetJoined()), "left", len(cc.GetLeft()))
	if dc != 0 && s.rep.DC() == 0 {
		s.log.Info("the DC left the crm group", "dc", dc)
	}
	s.readyLocked(rd)
	if s.dc != nil {
		s.dc.membersChanged()
	}
	s.updateDCLocked()
}

// applyDelivery feeds one message of the group to the replica, in agreed
// order.
func (s *Server) applyDelivery(d *messagingv1.Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := cibsvc.Member{Node: d.GetSender().GetNodeId(), Handle: d.GetSender().GetHandle()}
	if p := d.GetPayload(); len(p) > 0 && p[0] == frameExec {
		s.deliverExecLocked(from.Node, p[1:])
		return
	}
	wasSynced, dc := s.rep.Synced(), s.rep.DC()
	rd, err := s.rep.Deliver(from, d.GetPayload())
	if err != nil {
		s.log.Warn("crm group message not applied", "from", from.String(), "err", err)
	}
	s.readyLocked(rd)
	if !wasSynced && s.rep.Synced() {
		s.log.Info("CIB synchronised in the crm group", "version", s.rep.CIB().Version.String(), "members", nodeIDs(s.rep.Members()))
	}
	if s.rep.DC() != dc {
		s.log.Info("DC", "dc", s.rep.DC(), "dc_name", s.nodeName(s.rep.DC()))
	}
	s.updateDCLocked()
}

func nodeIDs(ms []cibsvc.Member) []uint32 {
	out := make([]uint32, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Node)
	}
	return out
}

// readyLocked carries out a Ready in the order it requires; s.mu is held.
func (s *Server) readyLocked(rd cibsvc.Ready) {
	if rd.Save != nil {
		if err := s.store.Save(rd.Save); err != nil {
			// A node that cannot keep what it acknowledges must not go on.
			s.fail(fmt.Errorf("saving CIB %s in %s: %w", rd.Save.Version, s.store.Dir(), err))
			return
		}
	}
	for _, r := range rd.Results {
		delete(s.dcWrites, r.Req)
		if w, ok := s.waiters[r.Req]; ok {
			w <- r
			delete(s.waiters, r.Req)
		}
	}
	self, _ := s.rep.Self()
	news := false
	for _, a := range rd.Applied {
		s.log.Info("CIB changed", "version", a.Version.String(), "origin", a.Origin.Node, "what", a.What)
		s.publishLocked(&crmv1.WatchResponse{Version: versionPB(a.Version), OriginNode: a.Origin.Node, What: a.What})
		// The DC's own writes are applied before they are answered (the
		// answer waits for the other members): told apart by request.
		news = news || a.Origin != self || a.Req == 0 || !s.dcWrites[a.Req]
	}
	if news && s.dc != nil {
		s.dc.cibChanged()
	}
	// Send holds the payloads (chunks) of at most one message.
	s.enqueueLocked(rd.Send)
	s.notifyLocked()
}

// failWaitersLocked answers every change still waiting with err.
func (s *Server) failWaitersLocked(err error) {
	for req, w := range s.waiters {
		w <- cibsvc.Result{Req: req, Err: err}
		delete(s.waiters, req)
	}
	clear(s.dcWrites)
}

// notifyLocked wakes everyone waiting for the replica's state to change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// maxWait bounds how long a change waits for the group when the client set
// no deadline.
const maxWait = 30 * time.Second

// submit sends a change through the group and waits until this node
// applied it in the group's order. A change refused because it arrived
// while members were synchronising is sent again.
func (s *Server) submit(ctx context.Context, change cibsvc.Change) (cib.Version, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxWait)
		defer cancel()
	}
	for {
		s.mu.Lock()
		err := s.rep.Ready()
		if errors.Is(err, cibsvc.ErrNotMember) {
			s.mu.Unlock()
			return cib.Version{}, fmt.Errorf("%w: this crmd cannot reach its messaging daemon", err)
		}
		if err != nil {
			changed := s.changed
			s.mu.Unlock()
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return cib.Version{}, fmt.Errorf("%w: still synchronising when the request's time ran out", cibsvc.ErrSyncing)
			}
		}
		// Check the change outside the lock: on a big CIB it takes a
		// while, and the loop that follows the group needs the lock.
		cur := s.rep.CIB()
		s.mu.Unlock()
		if _, err := cibsvc.Apply(cur, change); err != nil {
			return cib.Version{}, err
		}
		s.mu.Lock()
		s.nextReq++
		req := s.nextReq
		payloads, err := s.rep.Encode(req, change)
		if err != nil {
			s.mu.Unlock()
			continue // the group changed meanwhile: wait again
		}
		w := make(chan cibsvc.Result, 1)
		s.waiters[req] = w
		if ctx.Value(dcWriteKey{}) != nil {
			s.dcWrites[req] = true
		}
		s.enqueueLocked(payloads)
		s.mu.Unlock()
		select {
		case r := <-w:
			if errors.Is(r.Err, cibsvc.ErrSyncing) {
				continue
			}
			return r.Version, r.Err
		case <-ctx.Done():
			s.mu.Lock()
			delete(s.waiters, req)
			delete(s.dcWrites, req)
			s.mu.Unlock()
			return cib.Version{}, fmt.Errorf("%w: the change was sent but had not come back in the group's order when the request's time ran out; it may still be applied, query the CIB", context.DeadlineExceeded)
		}
	}
}
