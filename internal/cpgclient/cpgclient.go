// Package cpgclient keeps a daemon a member of one process group of its
// node's vigil-messagingd, as Corosync's libcpg does for Pacemaker's
// daemons: it joins, hands the group's events to the daemon in agreed
// order from one goroutine, rejoins after the messaging daemon restarts,
// and multicasts with the retry that a full send queue asks for.
//
// vigil-quorumd, vigil-fenced and vigil-crmd each follow their own group
// through it.
package cpgclient

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Handler receives the events of one membership of the group. Its methods
// are called from Follow's goroutine, one at a time; an error from Change
// or Deliver ends the membership (Follow rejoins).
type Handler interface {
	// Joined starts a membership: handle is this process's member handle.
	Joined(ctx context.Context, handle uint64)
	// Change is a configuration change of the group.
	Change(ctx context.Context, cc *messagingv1.ConfigurationChange) error
	// Deliver is one message, in agreed order.
	Deliver(ctx context.Context, d *messagingv1.Delivery) error
	// Lost ends a membership, before Follow tries again.
	Lost(err error)
}

// Ticker is a Handler that also wants a clock tick between events (on the
// same goroutine, so it needs no lock against them).
type Ticker interface {
	Tick(now time.Time)
}

// Options configure Follow.
type Options struct {
	// Retry is the longest pause before joining again; one second when
	// zero.
	Retry time.Duration
	// Tick is the period of Ticker.Tick; no ticks when zero.
	Tick   time.Duration
	Logger *slog.Logger
}

// Member is a follower of one group.
type Member struct {
	client messagingv1.GroupServiceClient
	group  string
	opts   Options

	mu      sync.Mutex
	handle  uint64             // 0 while not a member
	abandon context.CancelFunc // ends the current membership
}

// New returns a follower of group through client.
func New(client messagingv1.GroupServiceClient, group string, opts Options) *Member {
	if opts.Retry == 0 {
		opts.Retry = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Member{client: client, group: group, opts: opts}
}

// Handle is this process's member handle, or 0 while it is not a member.
func (m *Member) Handle() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.handle
}

// ErrNotMember is returned by Multicast while the process is not a member
// of the group.
var ErrNotMember = errors.New("cpgclient: not a member of the group")

// Follow joins the group and hands its events to h until ctx ends,
// joining again after every loss.
func (m *Member) Follow(ctx context.Context, h Handler) {
	// The pause before joining again grows from a tenth of Retry to Retry
	// while joins keep failing: a messaging daemon that restarted is
	// rejoined at once, one that refuses is not hammered.
	pause := m.opts.Retry / 10
	for ctx.Err() == nil {
		began := time.Now()
		err := m.session(ctx, h)
		m.mu.Lock()
		m.handle = 0
		m.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > m.opts.Retry {
			pause = m.opts.Retry / 10
		}
		m.opts.Logger.Warn("lost the process group; joining again", "group", m.group, "err", err, "retry", pause)
		h.Lost(err)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, m.opts.Retry)
	}
}

// Abandon ends the current membership, as if the stream had broken: the
// handler is told Lost and Follow joins again. A handler calls it when it
// cannot go on in this membership (its messages could not be sent).
func (m *Member) Abandon() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.abandon != nil {
		m.abandon()
	}
}

func (m *Member) session(ctx context.Context, h Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.mu.Lock()
	m.abandon = cancel
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.abandon = nil
		m.mu.Unlock()
	}()
	// Wait for the messaging daemon's connection rather than fail at once:
	// a daemon started before it would otherwise sit out a whole pause.
	stream, err := m.client.Join(ctx, &messagingv1.JoinRequest{Group: m.group}, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	handle := first.GetJoined().GetHandle()
	if handle == 0 {
		return errors.New("cpgclient: the messaging daemon did not answer the join with a handle")
	}
	m.mu.Lock()
	m.handle = handle
	m.mu.Unlock()
	h.Joined(ctx, handle)

	events := make(chan *messagingv1.JoinResponse)
	recvErr := make(chan error, 1)
	go func() {
		for {
			ev, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	var tick <-chan time.Time
	ticker, isTicker := h.(Ticker)
	if isTicker && m.opts.Tick > 0 {
		t := time.NewTicker(m.opts.Tick)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			// The receiving goroutine may have seen the end first and
			// left without a word.
			return ctx.Err()
		case err := <-recvErr:
			return err
		case now := <-tick:
			ticker.Tick(now)
		case ev := <-events:
			if cc := ev.GetConfigurationChange(); cc != nil {
				if err := h.Change(ctx, cc); err != nil {
					return err
				}
			}
			if d := ev.GetDelivery(); d != nil {
				if err := h.Deliver(ctx, d); err != nil {
					return err
				}
			}
			for _, d := range ev.GetDeliveries().GetDeliveries() {
				if err := h.Deliver(ctx, d); err != nil {
					return err
				}
			}
		}
	}
}

// Multicast sends payload to the group, waiting while the send queue is
// full (RESOURCE_EXHAUSTED, corosync's CS_ERR_TRY_AGAIN) until ctx ends.
func (m *Member) Multicast(ctx context.Context, payload []byte) error {
	handle := m.Handle()
	if handle == 0 {
		return ErrNotMember
	}
	return m.MulticastAs(ctx, handle, payload)
}

// MulticastAs is Multicast as the member handle, for a handler that must
// send within the membership it was told about (a handle of an earlier
// membership is refused by the messaging daemon).
func (m *Member) MulticastAs(ctx context.Context, handle uint64, payload []byte) error {
	for {
		_, err := m.client.Multicast(ctx, &messagingv1.MulticastRequest{Group: m.group, Handle: handle, Payload: payload})
		if status.Code(err) != codes.ResourceExhausted {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
