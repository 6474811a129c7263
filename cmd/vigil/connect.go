package main

import (
	"errors"
	"fmt"

	"google.golang.org/grpc"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/localcluster"
	"github.com/vigil-ha/vigil/internal/rpcclient"
)

// dial connects to a daemon ("vigil-messagingd", ...) of the cluster the
// global flags name: with --dir, a node (--node, default the first) of
// that local cluster as its admin; otherwise the daemon of this machine as
// /etc/vigil/vigil.conf describes it, with this node's certificate, the way
// crm runs as root on a cluster node.
func (g *globalFlags) dial(daemonName string) (*grpc.ClientConn, error) {
	if g.dir != "" {
		c, err := localcluster.Load(g.dir)
		if err != nil {
			return nil, err
		}
		n := c.Nodes[0]
		if g.node != "" {
			var ok bool
			if n, ok = c.Node(g.node); !ok {
				return nil, fmt.Errorf("--node %q: the cluster in %s has no such node", g.node, g.dir)
			}
		}
		return n.Dial(daemonName, c.AdminFiles())
	}
	cfg, err := config.Load(g.configPath())
	if err != nil {
		return nil, err
	}
	node, err := daemon.LocalNode(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.File, err)
	}
	addr, err := listenAddress(cfg, daemonName)
	if err != nil {
		return nil, err
	}
	return rpcclient.Dial(addr, node.Name, daemon.TLSFiles(cfg, node))
}

func (g *globalFlags) configPath() string {
	if g.config != "" {
		return g.config
	}
	return daemon.DefaultConfigPath
}

func listenAddress(cfg *config.Config, daemonName string) (string, error) {
	switch daemonName {
	case "vigil-messagingd":
		return cfg.Vigil.MessagingListen, nil
	case "vigil-quorumd":
		return cfg.Vigil.QuorumListen, nil
	case "vigil-crmd":
		return cfg.Vigil.CRMListen, nil
	case "vigil-lrmd":
		return cfg.Vigil.LRMListen, nil
	case "vigil-fenced":
		return cfg.Vigil.FenceListen, nil
	}
	return "", errors.New("unknown daemon " + daemonName)
}
