package localcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Link faults for tests and benchmarks: every node has its own loopback
// address, so nftables rules that drop packets from one node's address to
// another's cut that direction of every link between them, the way a
// failed switch port or firewall would, while clients on 127.0.0.1 still
// reach every daemon. Linux only, root only (ErrNotRoot otherwise). Each
// cluster has its own table, removed by Heal and by Down.

// ErrNotRoot is returned by the link faults when not run as root.
var ErrNotRoot = fmt.Errorf("localcluster: cutting links needs root (nftables)")

func (c *Cluster) nftTable() string {
	sum := sha256.Sum256([]byte(c.Dir))
	return "vigil_" + hex.EncodeToString(sum[:6])
}

func nft(args ...string) error {
	out, err := exec.Command("nft", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("localcluster: nft %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Cut drops every packet from node from to node to (one direction).
func (c *Cluster) Cut(from, to string) error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	a, ok := c.Node(from)
	if !ok {
		return fmt.Errorf("localcluster: no node %q", from)
	}
	b, ok := c.Node(to)
	if !ok {
		return fmt.Errorf("localcluster: no node %q", to)
	}
	t := c.nftTable()
	if err := nft("add", "table", "inet", t); err != nil {
		return err
	}
	if err := nft("add", "chain", "inet", t, "out", "{ type filter hook output priority 0 ; policy accept ; }"); err != nil {
		return err
	}
	return nft("add", "rule", "inet", t, "out", "ip", "saddr", a.Address, "ip", "daddr", b.Address, "drop")
}

// Partition cuts both directions between every pair of nodes in different
// sides.
func (c *Cluster) Partition(sides ...[]string) error {
	for i, side := range sides {
		for j, other := range sides {
			if i == j {
				continue
			}
			for _, a := range side {
				for _, b := range other {
					if err := c.Cut(a, b); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// Heal removes every cut of this cluster.
func (c *Cluster) Heal() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	t := c.nftTable()
	if exec.Command("nft", "list", "table", "inet", t).Run() != nil {
		return nil // no cut was made
	}
	return nft("delete", "table", "inet", t)
}
