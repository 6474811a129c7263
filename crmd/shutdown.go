package crmd

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
	"github.com/vigil-ha/vigil/crmd/scheduler"
	"github.com/vigil-ha/vigil/crmd/transition"
)

// Shutdown timings.
const (
	// defaultShutdownEscalation bounds how long a stopping crmd waits
	// for its resources to move away when the property
	// shutdown-escalation is not set. Pacemaker's default is 20 minutes;
	// Vigil's is short enough for systemd's stop timeout.
	defaultShutdownEscalation = 30 * time.Second
	// startedElsewhereWait bounds how long a stopping crmd whose
	// resources stopped waits for them to be started elsewhere before it
	// leaves (a courtesy: the DC starts them anyway).
	startedElsewhereWait = 10 * time.Second
)

// drain is what vigil-crmd does on SIGTERM before it stops: it sets the
// transient attribute shutdown of its node, as Pacemaker's controller
// does, so that the DC moves the node's resources away, and waits until
// none runs here any more (and, briefly, until they run elsewhere). The
// wait is bounded by shutdown-escalation, and ends at once when nothing
// runs here or when this crmd is not in the crm group (the cluster is
// stopping under it, or cannot hear it).
func (s *Server) drain(ctx context.Context) {
	start := time.Now()
	here := s.runningHere()
	if len(here) == 0 {
		s.log.Info("stopping: no resource runs on this node")
		return
	}
	timeout := s.shutdownEscalation()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s.log.Info("stopping: moving this node's resources away first", "resources", here, "timeout", timeout)
	id := strconv.FormatUint(uint64(s.node.ID), 10)
	err := s.updateStatus(ctx, func(c *cib.CIB) {
		transition.SetTransient(c, id, s.node.Name, "shutdown", strconv.FormatInt(time.Now().Unix(), 10))
	})
	if err != nil {
		s.log.Warn("stopping without moving the resources away: the shutdown attribute could not be written", "err", err)
		return
	}
	moved := func() bool { return len(s.runningHere()) == 0 }
	if !s.waitCIB(ctx, moved) {
		s.log.Warn("stopping with resources still running here", "resources", s.runningHere(), "waited", time.Since(start).Round(time.Millisecond))
		return
	}
	s.log.Info("this node's resources are stopped", "waited", time.Since(start).Round(time.Millisecond))
	s.mu.Lock()
	alone := len(s.rep.Members()) <= 1
	s.mu.Unlock()
	if alone {
		return // the whole cluster is stopping: nowhere else to run them
	}
	wctx, wcancel := context.WithTimeout(ctx, startedElsewhereWait)
	defer wcancel()
	if s.waitCIB(wctx, func() bool { return s.runningElsewhere(here) }) {
		s.log.Info("this node's resources run elsewhere", "resources", here, "waited", time.Since(start).Round(time.Millisecond))
	}
}

// waitCIB waits until done holds, checking at every change of the
// replica; false when ctx ended first or this crmd left the crm group.
func (s *Server) waitCIB(ctx context.Context, done func() bool) bool {
	for {
		s.mu.Lock()
		changed := s.changed
		lost := errors.Is(s.rep.Ready(), cibsvc.ErrNotMember)
		s.mu.Unlock()
		if done() {
			return true
		}
		if lost {
			s.log.Warn("not in the crm group: not waiting for the resources to move")
			return false
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
			// Leaving the group is not always a change of the replica.
		}
	}
}

// runningState is the scheduler's reading of the current CIB.
func (s *Server) runningState() *scheduler.Cluster {
	s.mu.Lock()
	c := s.rep.CIB()
	s.mu.Unlock()
	return scheduler.Unpack(transition.WithNodes(c), time.Now())
}

// runningHere lists the resources the status says run on this node.
func (s *Server) runningHere() []string {
	var out []string
	for _, r := range s.runningState().Primitives() {
		if slices.ContainsFunc(r.Running, func(n *scheduler.Node) bool { return n.Name == s.node.Name }) {
			out = append(out, r.ID)
		}
	}
	return out
}

// runningElsewhere reports whether each of ids runs on another node.
func (s *Server) runningElsewhere(ids []string) bool {
	cl := s.runningState()
	for _, id := range ids {
		r := cl.Resource(id)
		if r == nil {
			return false
		}
		// A start still pending elsewhere is not running there yet.
		task, on := r.Pending()
		if !slices.ContainsFunc(r.Running, func(n *scheduler.Node) bool {
			return n.Name != s.node.Name && (task != "start" || on != n)
		}) {
			return false
		}
	}
	return true
}

func (s *Server) shutdownEscalation() time.Duration {
	s.mu.Lock()
	c := s.rep.CIB()
	s.mu.Unlock()
	if v, ok := c.Configuration.Property("shutdown-escalation"); ok {
		if d, err := cib.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return defaultShutdownEscalation
}

// resetOwnStatus erases this node's operation history and transient
// attributes from the status once the crmd is first in the crm group, as
// Pacemaker erases a joining node's status: what the CIB saved about this
// node is stale (the crmd restarted; a shutdown attribute of the last stop
// must not stay), and the DC probes the node again to learn what runs
// here. Where another DC already dropped it (it saw a new crmd join), this
// is a no-op; where this crmd is the DC of its own new view, it is what
// keeps it from acting on its own stale history.
func (s *Server) resetOwnStatus(ctx context.Context) {
	defer func() {
		s.mu.Lock()
		s.ownReset = true
		s.mu.Unlock()
	}()
	for ctx.Err() == nil {
		s.mu.Lock()
		ready := s.rep.Ready() == nil
		c := s.rep.CIB()
		changed := s.changed
		s.mu.Unlock()
		if ready {
			ns := c.Status.NodeState(s.node.Name)
			if ns == nil || (ns.LRM == nil && ns.TransientAttributes == nil) {
				return
			}
			err := s.updateStatus(ctx, func(c *cib.CIB) {
				if ns := c.Status.NodeState(s.node.Name); ns != nil {
					ns.LRM, ns.TransientAttributes = nil, nil
				}
			})
			if err == nil {
				s.log.Info("erased this node's saved operation history and transient attributes; the DC probes it again")
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-time.After(time.Second):
		}
	}
}
