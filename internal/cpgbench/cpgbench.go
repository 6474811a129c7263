// Package cpgbench measures Vigil's process-group messaging the way
// ../shared/anchors/corosync-cpg measures Corosync's CPG, and prints the
// same result line, so that the two compare directly.
package cpgbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Options describe one case.
type Options struct {
	Cluster *localcluster.Cluster
	// Senders are spread over the nodes, one per node first.
	Senders int
	// Size is the bytes per message, header included (at least 24).
	Size int
	// Count is the messages each sender sends.
	Count int
	// Mode is "tput" or "pingpong".
	Mode string
}

// Result is one case's figures, as the anchor reports them.
type Result struct {
	Case        string
	Nodes       int
	Senders     int
	Mode        string
	Msgs        int
	Size        int
	Time        time.Duration // slowest sender
	TryAgain    uint64
	OrderErrors int
	// Latency percentiles in µs: the worst sender's value of each.
	P50, P99, Max float64
}

// String is the anchor's result line.
func (r Result) String() string {
	secs := r.Time.Seconds()
	rate := float64(r.Msgs) / secs
	return fmt.Sprintf("case=%s nodes=%d senders=%d mode=%s msgs=%d size=%d time=%.3fs rate=%.0f msg/s %.2f MB/s try_again=%d order_errors=%d lat_us p50=%.1f p99=%.1f max=%.1f total_rate=%.0f msg/s",
		r.Case, r.Nodes, r.Senders, r.Mode, r.Msgs, r.Size, secs, rate, rate*float64(r.Size)/1e6, r.TryAgain, r.OrderErrors,
		r.P50, r.P99, r.Max, float64(r.Senders)*rate)
}

// header is magic, sender index, sequence, send time: 24 bytes like the
// anchor's.
const headerSize = 24

const magic = 0x56494749 // "VIGI"

// sendBatch and sendBatchBytes bound the messages a tput sender puts in
// one request.
const (
	sendBatch      = 256
	sendBatchBytes = 64 << 10
)

type sender struct {
	idx    int
	node   *localcluster.Node
	client messagingv1.GroupServiceClient
	stream messagingv1.GroupService_JoinClient
	handle uint64
	cancel context.CancelFunc

	lat         []float64
	orderErrors int
	tryAgain    uint64
	elapsed     time.Duration
	err         error
}

// Run runs one case on the cluster and returns its result.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Size < headerSize {
		return Result{}, fmt.Errorf("--size %d: at least %d bytes (the header)", o.Size, headerSize)
	}
	if o.Mode != "tput" && o.Mode != "pingpong" {
		return Result{}, fmt.Errorf("--mode %q: want tput or pingpong", o.Mode)
	}
	if o.Senders < 1 || o.Count < 1 {
		return Result{}, errors.New("--senders and --count must be at least 1")
	}
	group := fmt.Sprintf("bench-%08x", rand.Uint32())
	var senders []*sender
	defer func() {
		for _, s := range senders {
			s.cancel()
		}
	}()
	for i := range o.Senders {
		n := o.Cluster.Nodes[i%len(o.Cluster.Nodes)]
		conn, err := n.Dial("vigil-messagingd", o.Cluster.AdminFiles())
		if err != nil {
			return Result{}, err
		}
		defer conn.Close()
		sctx, cancel := context.WithCancel(ctx)
		s := &sender{idx: i, node: n, client: messagingv1.NewGroupServiceClient(conn), cancel: cancel}
		senders = append(senders, s)
		if s.stream, err = s.client.Join(sctx, &messagingv1.JoinRequest{Group: group}); err != nil {
			return Result{}, fmt.Errorf("join on %s: %w", n.Name, err)
		}
		first, err := s.stream.Recv()
		if err != nil {
			return Result{}, fmt.Errorf("join on %s: %w", n.Name, err)
		}
		s.handle = first.GetJoined().GetHandle()
	}
	// Like cpgtput -w K: start when every sender sees all K members.
	for _, s := range senders {
		for {
			ev, err := s.stream.Recv()
			if err != nil {
				return Result{}, fmt.Errorf("waiting for %d members on %s: %w", o.Senders, s.node.Name, err)
			}
			if len(ev.GetConfigurationChange().GetMembers()) == o.Senders {
				break
			}
		}
	}
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.err = s.run(ctx, o, group)
		}()
	}
	wg.Wait()
	r := Result{
		Case: fmt.Sprintf("%s-%dx%s", o.Mode, o.Senders, sizeName(o.Size)), Nodes: len(o.Cluster.Nodes),
		Senders: o.Senders, Mode: o.Mode, Msgs: o.Count, Size: o.Size,
	}
	for _, s := range senders {
		if s.err != nil {
			return Result{}, fmt.Errorf("sender on %s: %w", s.node.Name, s.err)
		}
		r.Time = max(r.Time, s.elapsed)
		r.TryAgain += s.tryAgain
		r.OrderErrors += s.orderErrors
		slices.Sort(s.lat)
		m := len(s.lat)
		r.P50 = max(r.P50, s.lat[m/2])
		r.P99 = max(r.P99, s.lat[m*99/100])
		r.Max = max(r.Max, s.lat[m-1])
	}
	return r, nil
}

func sizeName(size int) string {
	if size%1024 == 0 {
		return fmt.Sprintf("%dk", size/1024)
	}
	return fmt.Sprint(size)
}

func (s *sender) payload(seq int, size int) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b[0:], magic)
	binary.LittleEndian.PutUint32(b[4:], uint32(s.idx))
	binary.LittleEndian.PutUint64(b[8:], uint64(seq))
	binary.LittleEndian.PutUint64(b[16:], uint64(time.Now().UnixNano()))
	return b
}

// run sends and, on the same member's stream, waits for its own messages
// (and reads everyone else's, as a member must).
func (s *sender) run(ctx context.Context, o Options, group string) error {
	start := time.Now()
	own := 0
	// receive reads deliveries until the own message seq arrived.
	receive := func(until int) error {
		for own < until {
			ev, err := s.stream.Recv()
			if err != nil {
				return err
			}
			ds := ev.GetDeliveries().GetDeliveries()
			if d := ev.GetDelivery(); d != nil {
				ds = append(ds, d)
			}
			now := time.Now()
			for _, d := range ds {
				if d.GetSender().GetHandle() != s.handle || d.GetSender().GetNodeId() != s.node.ID {
					continue
				}
				p := d.GetPayload()
				if len(p) < headerSize || binary.LittleEndian.Uint32(p) != magic {
					return fmt.Errorf("delivery with a foreign payload")
				}
				if seq := int(binary.LittleEndian.Uint64(p[8:])); seq != own {
					s.orderErrors++
				}
				sent := time.Unix(0, int64(binary.LittleEndian.Uint64(p[16:])))
				s.lat = append(s.lat, float64(now.Sub(sent).Nanoseconds())/1e3)
				own++
			}
		}
		return nil
	}
	// Both modes send on one MulticastStream, like cpg_mcast_joined's
	// one-way IPC: pingpong sends the next message once the previous one
	// came back.
	send, err := s.client.MulticastStream(ctx)
	if err != nil {
		return err
	}
	if o.Mode == "pingpong" {
		for seq := range o.Count {
			if err := send.Send(&messagingv1.MulticastStreamRequest{Group: group, Handle: s.handle, Payload: s.payload(seq, o.Size)}); err != nil {
				return err
			}
			if err := receive(seq + 1); err != nil {
				return err
			}
		}
		s.elapsed = time.Since(start)
		resp, err := send.CloseAndRecv()
		s.tryAgain = resp.GetTryAgain()
		return err
	}
	sendErr := make(chan error, 1)
	go func() {
		// A producer as fast as flow control allows always has messages
		// queued: they go in requests of sendBatch, as a client library
		// batches what is queued behind a send in progress.
		for seq := 0; seq < o.Count; {
			req := &messagingv1.MulticastStreamRequest{Group: group, Handle: s.handle}
			for bytes := 0; seq < o.Count && len(req.Payloads) < sendBatch && bytes < sendBatchBytes; seq++ {
				req.Payloads = append(req.Payloads, s.payload(seq, o.Size))
				bytes += o.Size
			}
			if err := send.Send(req); err != nil {
				sendErr <- err
				return
			}
		}
		resp, err := send.CloseAndRecv()
		if err == nil {
			s.tryAgain = resp.GetTryAgain()
		}
		sendErr <- err
	}()
	if err := receive(o.Count); err != nil {
		return err
	}
	s.elapsed = time.Since(start)
	return <-sendErr
}
