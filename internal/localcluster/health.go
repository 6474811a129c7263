package localcluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/vigil-ha/vigil/internal/pki"
	"github.com/vigil-ha/vigil/internal/rpcclient"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Dial connects to a daemon of node n with the identity in files.
func (n *Node) Dial(daemon string, files pki.Files) (*grpc.ClientConn, error) {
	d, ok := n.Daemon(daemon)
	if !ok {
		return nil, fmt.Errorf("localcluster: node %s has no daemon %s", n.Name, daemon)
	}
	return rpcclient.Dial(d.Address, n.Name, files)
}

// DaemonHealth is the answer of one daemon's health service.
type DaemonHealth struct {
	Node    string
	Daemon  *Daemon
	Running bool
	Status  healthpb.HealthCheckResponse_ServingStatus
	Err     error
}

// Health asks every daemon's health service, as the admin.
func (c *Cluster) Health(ctx context.Context) []DaemonHealth {
	var out []DaemonHealth
	for _, n := range c.Nodes {
		for _, d := range n.Daemons {
			h := DaemonHealth{Node: n.Name, Daemon: d, Running: c.alive(d)}
			h.Status, h.Err = c.check(ctx, n, d)
			out = append(out, h)
		}
	}
	return out
}

func (c *Cluster) check(ctx context.Context, n *Node, d *Daemon) (healthpb.HealthCheckResponse_ServingStatus, error) {
	conn, err := n.Dial(d.Name, c.AdminFiles())
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	return resp.GetStatus(), nil
}

// WaitHealthy waits until every daemon reports SERVING, or fails at once
// when a daemon process has exited, or when ctx ends.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	for {
		var pending, dead []string
		for _, h := range c.Health(ctx) {
			name := h.Node + "/" + h.Daemon.Name
			switch {
			case !h.Running:
				dead = append(dead, name)
			case h.Status != healthpb.HealthCheckResponse_SERVING:
				pending = append(pending, fmt.Sprintf("%s (%v)", name, errOr(h.Err, h.Status.String())))
			}
		}
		if len(dead) > 0 {
			return fmt.Errorf("daemons exited: %s", strings.Join(dead, ", "))
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not SERVING in time: %s: %w", strings.Join(pending, ", "), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// WaitForView waits until every node of the cluster has all of them in its
// view: a case measured during a view change would be invalid.
func (c *Cluster) WaitForView(ctx context.Context) error {
	for {
		complete := true
		for _, n := range c.Nodes {
			ok, err := c.fullView(ctx, n)
			if err != nil || !ok {
				complete = false
				break
			}
		}
		if complete {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the nodes did not form one view of %d: %w", len(c.Nodes), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) fullView(ctx context.Context, n *Node) (bool, error) {
	conn, err := n.Dial("vigil-messagingd", c.AdminFiles())
	if err != nil {
		return false, err
	}
	defer conn.Close()
	resp, err := messagingv1.NewMembershipServiceClient(conn).GetView(ctx, &messagingv1.GetViewRequest{})
	if err != nil {
		return false, err
	}
	return len(resp.GetView().GetMembers()) == len(c.Nodes), nil
}
