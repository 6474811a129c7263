package cpgbench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// StabilityResult counts the view changes an idle cluster went through.
type StabilityResult struct {
	Nodes    int
	Duration time.Duration
	Burners  int
	// Changes counts views installed during the run, over all nodes.
	Changes int
	// Smallest is the fewest members any view had.
	Smallest int
}

func (r StabilityResult) String() string {
	return fmt.Sprintf("case=stability nodes=%d duration=%s burners=%d view_changes=%d smallest_view=%d",
		r.Nodes, r.Duration.Round(time.Second), r.Burners, r.Changes, r.Smallest)
}

// Stability watches every node's membership for d while the caller keeps
// the machine busy, and counts the views installed meanwhile: an idle
// cluster must install none (failure detection must not fire because the
// machine is slow).
func Stability(ctx context.Context, c *localcluster.Cluster, d time.Duration, burners int) (StabilityResult, error) {
	r := StabilityResult{Nodes: len(c.Nodes), Duration: d, Burners: burners, Smallest: len(c.Nodes)}
	// The streams end by our cancel, not by a deadline: gRPC sends a
	// deadline to the server, which may end the stream (DeadlineExceeded)
	// a moment before the local context reports it, and the end of the run
	// would look like a failure.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := time.AfterFunc(d, cancel)
	defer stop.Stop()
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(c.Nodes))
	for _, n := range c.Nodes {
		conn, err := n.Dial("vigil-messagingd", c.AdminFiles())
		if err != nil {
			return r, err
		}
		defer conn.Close()
		stream, err := messagingv1.NewMembershipServiceClient(conn).WatchViews(ctx, &messagingv1.WatchViewsRequest{})
		if err != nil {
			return r, err
		}
		if _, err := stream.Recv(); err != nil { // the current view
			return r, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := stream.Recv()
				if err != nil {
					if ctx.Err() == nil {
						errs <- fmt.Errorf("watching %s: %w", n.Name, err)
					}
					return
				}
				mu.Lock()
				r.Changes++
				r.Smallest = min(r.Smallest, len(resp.GetView().GetMembers()))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return r, err
	default:
	}
	return r, nil
}
