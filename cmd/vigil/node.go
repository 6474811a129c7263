package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// nodeAttrCommands are `crm node standby|online|maintenance|ready`: the
// node attribute each sets, to what.
var nodeAttrCommands = []struct {
	use, short, attr, value string
}{
	{"standby", "Put a node in standby: its resources move away (crm node standby)", "standby", "on"},
	{"online", "Take a node out of standby (crm node online)", "standby", "off"},
	{"maintenance", "Put a node in maintenance: its resources are left alone, unmonitored (crm node maintenance)", "maintenance", "on"},
	{"ready", "Take a node out of maintenance (crm node ready)", "maintenance", "off"},
}

// newNodeCommand is `vigil node`, crmsh's node level, on the live CIB.
func newNodeCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Node commands (standby, online, maintenance, ready, attribute, status-attr) on the live cluster, like crm node",
	}
	for _, nc := range nodeAttrCommands {
		cmd.AddCommand(&cobra.Command{
			Use:   nc.use + " NAME",
			Short: nc.short,
			Long: nc.short + `.

It sets the node attribute ` + nc.attr + `=` + nc.value + ` in the node's
instance_attributes of the nodes section (nodes-ID-` + nc.attr + `), as crmsh
does, through vigil-crmd, conditional on the version read. The global
--node flag picks the crmd to talk to, NAME the node to change.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				name := args[0]
				_, err := changeLive(cmd.Context(), g, "node "+nc.use+" "+name, func(c *cib.CIB) error {
					return setNodeAttr(c, name, nc.attr, nc.value)
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "node %s: %s=%s\n", name, nc.attr, nc.value)
				return nil
			},
		})
	}
	cmd.AddCommand(newNodeAttrCommands(g)...)
	return cmd
}

// setNodeAttr sets a permanent node attribute of the node named uname.
// Vigil's DC keeps the nodes in the status section only, so the node's
// <node> element is created (with the id of its node_state) when the
// configuration has none.
func setNodeAttr(c *cib.CIB, uname, name, value string) error {
	n := c.Configuration.Node(uname)
	if n == nil {
		ns := c.Status.NodeState(uname)
		if ns == nil {
			return usagef("no node %q in the cluster", uname)
		}
		n = &cib.Node{ID: ns.ID, Uname: uname, Type: "member"}
		c.Configuration.Nodes = append(c.Configuration.Nodes, n)
	}
	if cur, ok := firstSetValue(n.InstanceAttributes, name); ok && cur == value {
		return errNoChange
	}
	setNVPair(&n.InstanceAttributes, "nodes-"+n.ID, name, value)
	return nil
}

func firstSetValue(sets []*cib.NVSet, name string) (string, bool) {
	for _, s := range sets {
		if v, ok := s.Get(name); ok {
			return v, true
		}
	}
	return "", false
}
