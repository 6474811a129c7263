// Command fence-local is a STONITH driver that fences a node of a local
// test cluster (`vigil cluster up`, package internal/localcluster) by
// killing its daemons, found through the cluster directory's cluster.json.
// It is a real driver in the sense that matters to the tests: after a
// successful off, the node's daemons are gone.
//
// It cannot power a node back on: on is not supported, and reboot stops
// the node and leaves it stopped (what pcmk_reboot_action=off does with a
// real device), saying so in the fence history.
package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
	"github.com/vigil-ha/vigil/plugins/sdk"
)

func main() { sdk.ServeStonith(local{}) }

type local struct{}

func (local) StonithInfo() sdk.StonithInfo {
	return sdk.StonithInfo{
		Name:        "fence-local",
		Version:     "1.0.0",
		Description: "Fences a node of a local cluster (vigil cluster up) by killing its daemons.",
		Parameters: []sdk.Parameter{
			{Name: "cluster_dir", Description: "The directory of the local cluster (vigil cluster up --dir).", Required: true},
		},
	}
}

func load(p map[string]string) (*localcluster.Cluster, error) {
	if p["cluster_dir"] == "" {
		return nil, fmt.Errorf("fence-local: required parameter cluster_dir is not set")
	}
	c, err := localcluster.Load(p["cluster_dir"])
	if err != nil {
		return nil, fmt.Errorf("fence-local: %w", err)
	}
	return c, nil
}

func (local) List(_ context.Context, p map[string]string) ([]string, error) {
	c, err := load(p)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name)
	}
	return names, nil
}

// alive returns the daemons of node that run.
func alive(c *localcluster.Cluster, node string) ([]string, error) {
	n, ok := c.Node(node)
	if !ok {
		return nil, fmt.Errorf("fence-local: the cluster in %s has no node %q", c.Dir, node)
	}
	var up []string
	for _, d := range n.Daemons {
		if c.Alive(node, d.Name) {
			up = append(up, d.Name)
		}
	}
	return up, nil
}

func (local) Status(_ context.Context, p map[string]string, target string) (bool, error) {
	c, err := load(p)
	if err != nil {
		return false, err
	}
	up, err := alive(c, target)
	return len(up) > 0, err
}

func (local) Fence(ctx context.Context, p map[string]string, target, action string) (string, error) {
	if action == sdk.FenceOn {
		return "", fmt.Errorf("fence-local cannot power a node on: %w", sdk.ErrUnsupported)
	}
	c, err := load(p)
	if err != nil {
		return "", err
	}
	up, err := alive(c, target)
	if err != nil {
		return "", err
	}
	for _, d := range up {
		// Signal checks that the pid is still that daemon before it kills.
		_ = c.Signal(target, d, syscall.SIGKILL)
	}
	for {
		left, err := alive(c, target)
		if err != nil {
			return "", err
		}
		if len(left) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("fence-local: %s still runs %s: %w", target, strings.Join(left, ", "), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	msg := fmt.Sprintf("fence-local: killed %s on %s", strings.Join(up, ", "), target)
	if len(up) == 0 {
		msg = fmt.Sprintf("fence-local: %s was already off", target)
	}
	if action == sdk.FenceReboot {
		msg += " (reboot: fence-local cannot power nodes on, the node stays off)"
	}
	return msg, nil
}
