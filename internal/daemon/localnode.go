package daemon

import (
	"fmt"
	"net"
	"strings"

	"github.com/vigil-ha/vigil/internal/config"
)

// LocalNode returns the nodelist entry of the machine the daemon runs on:
// the one vigil.local_node names, or else, as corosync does, the one node
// with a ring address that is an address of a local interface.
func LocalNode(cfg *config.Config) (config.Node, error) {
	if len(cfg.Nodes) == 0 {
		return config.Node{}, fmt.Errorf("the nodelist is empty: Vigil needs a nodelist { node { name: ... nodeid: ... ring0_addr: ... } } section")
	}
	if name := cfg.Vigil.LocalNode; name != "" {
		n, ok := cfg.NodeByName(name)
		if !ok {
			return config.Node{}, fmt.Errorf("vigil.local_node %q is not a node of the nodelist", name)
		}
		return n, nil
	}
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return config.Node{}, fmt.Errorf("list local addresses: %w", err)
	}
	local := map[string]bool{}
	for _, a := range ifAddrs {
		if ipn, ok := a.(*net.IPNet); ok {
			local[ipn.IP.String()] = true
		}
	}
	var found []config.Node
	for _, n := range cfg.Nodes {
		for _, addr := range n.Addrs {
			if ip := net.ParseIP(addr); ip != nil && local[ip.String()] {
				found = append(found, n)
				break
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return config.Node{}, fmt.Errorf("no node of the nodelist has an address of this machine; set vigil { local_node: NAME }")
	default:
		names := make([]string, len(found))
		for i, n := range found {
			names[i] = n.Name
		}
		return config.Node{}, fmt.Errorf("nodes %s all have addresses of this machine; set vigil { local_node: NAME }", strings.Join(names, ", "))
	}
}
