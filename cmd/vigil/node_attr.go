package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// newNodeAttrCommands are crmsh's `node attribute` (permanent, in the
// nodes section, like crm_attribute -l forever) and `node status-attr`
// (transient, in the node's status, like crm_attribute -l reboot: gone
// when the node's crmd restarts). Location rules read both.
func newNodeAttrCommands(g *globalFlags) []*cobra.Command {
	var out []*cobra.Command
	for _, kind := range []struct {
		use, short string
		transient  bool
	}{
		{"attribute", "Set, delete or show a permanent node attribute (crm node attribute; crm_attribute -l forever)", false},
		{"status-attr", "Set, delete or show a transient node attribute, gone when the node's crmd restarts (crm node status-attr; crm_attribute -l reboot)", true},
	} {
		out = append(out, &cobra.Command{
			Use:   kind.use + " NODE set NAME VALUE | delete NAME | show NAME",
			Short: kind.short,
			Args:  cobra.RangeArgs(3, 4),
			RunE: func(cmd *cobra.Command, args []string) error {
				node, verb, name := args[0], args[1], args[2]
				switch {
				case verb == "set" && len(args) == 4:
					return changeNodeAttr(cmd.Context(), g, cmd.OutOrStdout(), kind.use, kind.transient, node, name, args[3], false)
				case verb == "delete" && len(args) == 3:
					return changeNodeAttr(cmd.Context(), g, cmd.OutOrStdout(), kind.use, kind.transient, node, name, "", true)
				case verb == "show" && len(args) == 3:
					c, err := queryCIB(cmd.Context(), g)
					if err != nil {
						return crmdError("node "+kind.use, err)
					}
					v, ok, err := nodeAttr(c, kind.transient, node, name)
					if err != nil {
						return &exitError{code: 1, err: err}
					}
					if !ok {
						return &exitError{code: 1, err: fmt.Errorf("node %s has no %s %q", node, kind.use, name)}
					}
					fmt.Fprintf(cmd.OutOrStdout(), "scope=%s  name=%s value=%s\n", scopeName(kind.transient), name, v)
					return nil
				}
				return usagef("want: vigil node %s NODE set NAME VALUE | delete NAME | show NAME", kind.use)
			},
		})
	}
	return out
}

func scopeName(transient bool) string {
	if transient {
		return "status"
	}
	return "nodes"
}

func changeNodeAttr(ctx context.Context, g *globalFlags, out io.Writer, what string, transient bool, node, name, value string, del bool) error {
	_, err := changeLive(ctx, g, "node "+what+" "+node, func(c *cib.CIB) error {
		if del {
			return deleteNodeAttr(c, transient, node, name)
		}
		if transient {
			return setStatusAttr(c, node, name, value)
		}
		return setNodeAttr(c, node, name, value)
	})
	if err != nil {
		return err
	}
	if del {
		fmt.Fprintf(out, "node %s: deleted %s\n", node, name)
	} else {
		fmt.Fprintf(out, "node %s: %s=%s\n", node, name, value)
	}
	return nil
}

// setStatusAttr sets a transient attribute in the node's
// transient_attributes (the set status-ID, as Pacemaker's attribute
// manager writes it).
func setStatusAttr(c *cib.CIB, uname, name, value string) error {
	ns := c.Status.NodeState(uname)
	if ns == nil {
		return usagef("no node %q in the cluster", uname)
	}
	if cur, ok := transientValue(ns, name); ok && cur == value {
		return errNoChange
	}
	if ns.TransientAttributes == nil {
		ns.TransientAttributes = &cib.TransientAttributes{ID: ns.ID}
	}
	setNVPair(&ns.TransientAttributes.Sets, "status-"+ns.ID, name, value)
	return nil
}

func transientValue(ns *cib.NodeState, name string) (string, bool) {
	if ns.TransientAttributes == nil {
		return "", false
	}
	return firstSetValue(ns.TransientAttributes.Sets, name)
}

// nodeAttr reads a node attribute; ok is false when it is not set.
func nodeAttr(c *cib.CIB, transient bool, uname, name string) (string, bool, error) {
	if transient {
		ns := c.Status.NodeState(uname)
		if ns == nil {
			return "", false, fmt.Errorf("no node %q in the cluster", uname)
		}
		v, ok := transientValue(ns, name)
		return v, ok, nil
	}
	n := c.Configuration.Node(uname)
	if n == nil {
		if c.Status.NodeState(uname) == nil {
			return "", false, fmt.Errorf("no node %q in the cluster", uname)
		}
		return "", false, nil
	}
	v, ok := firstSetValue(n.InstanceAttributes, name)
	return v, ok, nil
}

// deleteNodeAttr removes every nvpair NAME of the node's permanent or
// transient attributes.
func deleteNodeAttr(c *cib.CIB, transient bool, uname, name string) error {
	var sets []*cib.NVSet
	if transient {
		ns := c.Status.NodeState(uname)
		if ns == nil {
			return usagef("no node %q in the cluster", uname)
		}
		if ns.TransientAttributes != nil {
			sets = ns.TransientAttributes.Sets
		}
	} else {
		n := c.Configuration.Node(uname)
		if n == nil && c.Status.NodeState(uname) == nil {
			return usagef("no node %q in the cluster", uname)
		}
		if n != nil {
			sets = n.InstanceAttributes
		}
	}
	removed := false
	for _, s := range sets {
		kept := s.Pairs[:0]
		for _, p := range s.Pairs {
			if p.Name == name {
				removed = true
				continue
			}
			kept = append(kept, p)
		}
		s.Pairs = kept
	}
	if !removed {
		return errNoChange
	}
	return nil
}
