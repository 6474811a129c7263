package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/scheduler"
	"github.com/vigil-ha/vigil/crmd/transition"
)

// newResourceCommand is `vigil resource`, crmsh's resource level (and
// crm_resource), on the live CIB. Every change is committed through
// vigil-crmd conditional on the version read.
func newResourceCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resource",
		Short: "Resource commands (start, stop, restart, move, ban, clear, cleanup, locate, failcount) on the live cluster, like crm resource",
		Long: `Resource commands on the live cluster, like crm resource.

The global --node flag picks the vigil-crmd to talk to; the node a command
is about (move, ban, cleanup, failcount) is its second argument, as in
crmsh: vigil resource move d1 n2.`,
	}
	metaCmd := func(use, short, role string) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := setTargetRole(cmd.Context(), g, args[0], role); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "resource %s: target-role=%s\n", args[0], role)
				return nil
			},
		}
	}
	var restartTimeout time.Duration
	restart := &cobra.Command{
		Use:   "restart NAME",
		Short: "Stop a resource, wait until it is stopped everywhere, and start it again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, out := args[0], cmd.OutOrStdout()
			if err := setTargetRole(cmd.Context(), g, name, "Stopped"); err != nil {
				return err
			}
			fmt.Fprintf(out, "resource %s: stopping\n", name)
			if err := waitRunning(cmd.Context(), g, name, restartTimeout, func(on []string) bool { return len(on) == 0 }); err != nil {
				return fmt.Errorf("restart %s: not stopped: %w (it stays target-role=Stopped)", name, err)
			}
			if err := setTargetRole(cmd.Context(), g, name, "Started"); err != nil {
				return err
			}
			fmt.Fprintf(out, "resource %s: starting\n", name)
			return nil
		},
	}
	restart.Flags().DurationVar(&restartTimeout, "timeout", 60*time.Second, "how long to wait for the stop")
	var moveLifetime, banLifetime string
	move := &cobra.Command{
		Use:   "move NAME [NODE]",
		Short: "Move a resource to NODE (constraint cli-prefer-NAME), or away from where it runs (cli-ban-NAME-on-NODE)",
		Long: `Move a resource, as crm_resource --move writes it: to NODE with the
location constraint cli-prefer-NAME (score INFINITY, role Started); without
NODE away from the node it runs on with cli-ban-NAME-on-THATNODE (score
-INFINITY). The constraint stays until vigil resource clear NAME, or, with
--lifetime (ISO 8601 like PT1H, or 30min), until that time has passed: a
rule with a date_expression, as crm_resource --lifetime writes it.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			until, err := lifetimeEnd(moveLifetime)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				return banResource(cmd, g, args[0], "", until)
			}
			name, node := args[0], args[1]
			_, err = changeLive(cmd.Context(), g, "resource move "+name, func(c *cib.CIB) error {
				if err := checkResourceNode(c, name, node); err != nil {
					return err
				}
				putLocation(c, cliLocation("cli-prefer-"+name, "cli-prefer-", name, node, "INFINITY", until))
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "resource %s: moving to %s (constraint cli-prefer-%s%s; vigil resource clear %s removes it)\n", name, node, name, untilText(until), name)
			return nil
		},
	}
	move.Flags().StringVar(&moveLifetime, "lifetime", "", "how long the constraint holds (ISO 8601 duration such as PT1H, or 30min)")
	ban := &cobra.Command{
		Use:   "ban NAME [NODE]",
		Short: "Keep a resource off NODE (default: where it runs) with the constraint cli-ban-NAME-on-NODE",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			until, err := lifetimeEnd(banLifetime)
			if err != nil {
				return err
			}
			node := ""
			if len(args) == 2 {
				node = args[1]
			}
			return banResource(cmd, g, args[0], node, until)
		},
	}
	ban.Flags().StringVar(&banLifetime, "lifetime", "", "how long the constraint holds (ISO 8601 duration such as PT1H, or 30min)")
	clear := &cobra.Command{
		Use:   "clear NAME",
		Short: "Remove the constraints move and ban made (cli-prefer-NAME, cli-ban-NAME-on-*)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			var removed []string
			_, err := changeLive(cmd.Context(), g, "resource clear "+name, func(c *cib.CIB) error {
				if c.Configuration.Resource(name) == nil {
					return usagef("no resource %q", name)
				}
				removed = nil
				c.Configuration.Constraints = slices.DeleteFunc(c.Configuration.Constraints, func(k *cib.Constraint) bool {
					id := k.ID()
					if id == "cli-prefer-"+name || strings.HasPrefix(id, "cli-ban-"+name+"-on-") {
						removed = append(removed, id)
						return true
					}
					return false
				})
				if len(removed) == 0 {
					return errNoChange
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(removed) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "resource %s: no constraint of move or ban\n", name)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "resource %s: removed %s\n", name, strings.Join(removed, ", "))
			return nil
		},
	}
	cleanup := &cobra.Command{
		Use:   "cleanup NAME [NODE]",
		Short: "Forget a resource's failures and operation history (on NODE, default every node) so that it is probed again",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, node := args[0], ""
			if len(args) == 2 {
				node = args[1]
			}
			var cleaned []string
			_, err := changeLive(cmd.Context(), g, "resource cleanup "+name, func(c *cib.CIB) error {
				if c.Configuration.Resource(name) == nil {
					return usagef("no resource %q", name)
				}
				if node != "" && c.Status.NodeState(node) == nil {
					return usagef("no node %q in the status", node)
				}
				cleaned = cleanupResource(c, name, node)
				if len(cleaned) == 0 {
					return errNoChange
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(cleaned) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "resource %s: nothing to clean up\n", name)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Cleaned up %s on %s\n", name, strings.Join(cleaned, ", "))
			return nil
		},
	}
	locate := &cobra.Command{
		Use:   "locate NAME",
		Short: "Print where a resource runs (crm_resource --locate)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := queryCIB(cmd.Context(), g)
			if err != nil {
				return err
			}
			on, err := runningOn(c, args[0])
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			writeLocate(cmd.OutOrStdout(), args[0], on)
			return nil
		},
	}
	failcount := &cobra.Command{
		Use:   "failcount NAME [NODE]",
		Short: "Show a resource's fail count per node (crm resource failcount NAME show NODE)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := queryCIB(cmd.Context(), g)
			if err != nil {
				return err
			}
			if c.Configuration.Resource(args[0]) == nil {
				return &exitError{code: 1, err: fmt.Errorf("failcount: no resource %q", args[0])}
			}
			node := ""
			if len(args) == 2 {
				node = args[1]
			}
			writeFailCounts(cmd.OutOrStdout(), c, args[0], node)
			return nil
		},
	}
	cmd.AddCommand(metaCmd("start", "Let a resource run: meta target-role=Started", "Started"),
		metaCmd("stop", "Stop a resource: meta target-role=Stopped", "Stopped"),
		restart, move, ban, clear, cleanup, locate, failcount)
	return cmd
}

// queryCIB reads the cluster's CIB.
func queryCIB(ctx context.Context, g *globalFlags) (*cib.CIB, error) {
	var c *cib.CIB
	err := withCIB(ctx, g, func(ctx context.Context, cl *cibclient.Client) error {
		var err error
		c, err = cl.Query(ctx)
		return err
	})
	if err != nil {
		return nil, crmdError("read the cluster's CIB", err)
	}
	return c, nil
}

// setTargetRole sets the resource's meta attribute target-role, as
// crm resource start|stop does (in its first meta_attributes block, or a
// new one named NAME-meta_attributes).
func setTargetRole(ctx context.Context, g *globalFlags, name, role string) error {
	_, err := changeLive(ctx, g, "resource target-role "+name, func(c *cib.CIB) error {
		r := c.Configuration.Resource(name)
		if r == nil {
			return usagef("no resource %q", name)
		}
		if v, ok := firstSetValue(r.MetaAttributes, "target-role"); ok && v == role {
			return errNoChange
		}
		setNVPair(&r.MetaAttributes, name+"-meta_attributes", "target-role", role)
		return nil
	})
	return err
}

// banResource writes cli-ban-NAME-on-NODE; an empty node is where the
// resource runs now.
func banResource(cmd *cobra.Command, g *globalFlags, name, node string, until time.Time) error {
	_, err := changeLive(cmd.Context(), g, "resource ban "+name, func(c *cib.CIB) error {
		target := node
		if target == "" {
			on, err := runningOn(c, name)
			if err != nil {
				return err
			}
			if len(on) != 1 {
				return usagef("%s runs on %d nodes; name the node to ban it from", name, len(on))
			}
			target = on[0]
		}
		if err := checkResourceNode(c, name, target); err != nil {
			return err
		}
		node = target
		id := "cli-ban-" + name + "-on-" + target
		putLocation(c, cliLocation(id, id+"-", name, target, "-INFINITY", until))
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "resource %s: banned from %s (constraint cli-ban-%s-on-%s%s; vigil resource clear %s removes it)\n", name, node, name, node, untilText(until), name)
	return nil
}

func checkResourceNode(c *cib.CIB, name, node string) error {
	if c.Configuration.Resource(name) == nil {
		return usagef("no resource %q", name)
	}
	if c.Configuration.Node(node) == nil && c.Status.NodeState(node) == nil {
		return usagef("no node %q in the cluster", node)
	}
	return nil
}

// putLocation adds the location constraint, replacing one with its id.
func putLocation(c *cib.CIB, l *cib.Location) {
	for _, k := range c.Configuration.Constraints {
		if k.ID() == l.ID {
			*k = cib.Constraint{Location: l}
			return
		}
	}
	c.Configuration.Constraints = append(c.Configuration.Constraints, &cib.Constraint{Location: l})
}

// runningOn returns the nodes a resource (a primitive, or every primitive
// of a group or clone) runs on, as the scheduler reads the status.
func runningOn(c *cib.CIB, name string) ([]string, error) {
	if c.Configuration.Resource(name) == nil {
		return nil, usagef("no resource %q", name)
	}
	cl := scheduler.Unpack(transition.WithNodes(c), time.Now())
	seen := map[string]bool{}
	var out []string
	var walk func(r *scheduler.Resource)
	walk = func(r *scheduler.Resource) {
		for _, n := range r.Running {
			if !seen[n.Name] {
				seen[n.Name] = true
				out = append(out, n.Name)
			}
		}
		for _, ch := range r.Children {
			walk(ch)
		}
	}
	if r := cl.Resource(name); r != nil {
		walk(r)
	}
	sort.Strings(out)
	return out, nil
}

// writeLocate prints what crm_resource --locate prints.
func writeLocate(w io.Writer, name string, on []string) {
	if len(on) == 0 {
		fmt.Fprintf(w, "resource %s is NOT running\n", name)
		return
	}
	for _, n := range on {
		fmt.Fprintf(w, "resource %s is running on: %s\n", name, n)
	}
}

// failCounts sums the resource's fail-count-NAME#OP_INTERVAL transient
// attributes per node.
func failCounts(c *cib.CIB, name string) map[string]int {
	out := map[string]int{}
	for _, ns := range c.Status.NodeStates {
		for k, v := range ns.Attributes() {
			rest, ok := strings.CutPrefix(k, "fail-count-")
			if !ok || (rest != name && !strings.HasPrefix(rest, name+"#")) {
				continue
			}
			n, _ := strconv.Atoi(v)
			if v == "INFINITY" || v == "+INFINITY" {
				n = 1000000
			}
			out[ns.Uname] += n
		}
	}
	return out
}

// writeFailCounts prints the fail count per node as crm resource
// failcount ... show does (one line per node, 0 where none).
func writeFailCounts(w io.Writer, c *cib.CIB, name, node string) {
	counts := failCounts(c, name)
	var nodes []string
	for _, ns := range c.Status.NodeStates {
		if node == "" || ns.Uname == node {
			nodes = append(nodes, ns.Uname)
		}
	}
	if node != "" && len(nodes) == 0 {
		nodes = []string{node}
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		fmt.Fprintf(w, "scope=status  node=%s  name=fail-count-%s value=%d\n", n, name, counts[n])
	}
}

// cleanupResource removes the resource's fail counts, last-failure
// attributes and operation history (on node, or every node), as
// crm_resource --cleanup does, so that the DC probes it again. It
// returns the nodes where something was removed.
func cleanupResource(c *cib.CIB, name, node string) []string {
	ids := map[string]bool{name: true}
	if r := c.Configuration.Resource(name); r != nil {
		var walk func(r *cib.Resource)
		walk = func(r *cib.Resource) {
			ids[r.ID] = true
			for _, ch := range r.Children {
				walk(ch)
			}
		}
		walk(r)
	}
	var out []string
	for _, ns := range c.Status.NodeStates {
		if node != "" && ns.Uname != node {
			continue
		}
		before := len(failCounts(c, name)) + lrmCount(ns)
		had := hasFailAttrs(ns, ids)
		for id := range ids {
			transition.ClearFailCount(c, ns.ID, ns.Uname, id)
		}
		if ns.LRM != nil {
			ns.LRM.Resources = slices.DeleteFunc(ns.LRM.Resources, func(lr *cib.LRMResource) bool {
				// Clone instances are recorded as child:N.
				base, _, _ := strings.Cut(lr.ID, ":")
				return ids[base]
			})
		}
		if had || lrmCount(ns)+len(failCounts(c, name)) != before {
			out = append(out, ns.Uname)
		}
	}
	return out
}

func lrmCount(ns *cib.NodeState) int {
	if ns.LRM == nil {
		return 0
	}
	return len(ns.LRM.Resources)
}

func hasFailAttrs(ns *cib.NodeState, ids map[string]bool) bool {
	for k := range ns.Attributes() {
		for _, pre := range []string{"fail-count-", "last-failure-"} {
			if rest, ok := strings.CutPrefix(k, pre); ok {
				base, _, _ := strings.Cut(rest, "#")
				if ids[base] {
					return true
				}
			}
		}
	}
	return false
}

// waitRunning polls the live CIB until done holds for the nodes the
// resource runs on, or the timeout passes.
func waitRunning(ctx context.Context, g *globalFlags, name string, timeout time.Duration, done func(on []string) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := queryCIB(ctx, g)
		if err != nil {
			return err
		}
		on, err := runningOn(c, name)
		if err != nil {
			return err
		}
		if done(on) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still running on %s after %v", strings.Join(on, ", "), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// lifetimeEnd is when a --lifetime that starts now ends; zero without one.
func lifetimeEnd(lifetime string) (time.Time, error) {
	if lifetime == "" {
		return time.Time{}, nil
	}
	d, err := cib.ParseDuration(lifetime)
	if err != nil || d <= 0 {
		return time.Time{}, usagef("--lifetime %q: want a positive duration, ISO 8601 (PT1H, P1D) or like 30min", lifetime)
	}
	return time.Now().Add(d).UTC().Truncate(time.Second), nil
}

// cliLocation is the constraint of move or ban: on the node, or, until a
// time, a rule "#uname eq NODE and date lt END" as crm_resource --lifetime
// writes it (ids PREFIX-rule, PREFIX-expr, PREFIX-lifetime; for move the
// prefix is cli-prefer-, and NAME is appended as Pacemaker does).
func cliLocation(id, prefix, rsc, node, score string, until time.Time) *cib.Location {
	l := &cib.Location{ID: id, Rsc: rsc, Role: "Started"}
	if until.IsZero() {
		l.Node, l.Score = node, score
		return l
	}
	name := func(part string) string {
		if strings.HasSuffix(prefix, "cli-prefer-") {
			return prefix + part + "-" + rsc
		}
		return prefix + part
	}
	lifetimeID := name("lifetime")
	if strings.HasSuffix(prefix, "cli-prefer-") {
		lifetimeID = name("lifetime-end")
	}
	l.Rules = []*cib.Rule{{
		ID: name("rule"), Score: score, BooleanOp: "and",
		Conditions: []*cib.Condition{
			{Expression: &cib.Expression{ID: name("expr"), Attribute: "#uname", Operation: "eq", Value: node, Type: "string"}},
			{Date: &cib.DateExpression{ID: lifetimeID, Operation: "lt", End: until.Format("2006-01-02 15:04:05 -07:00")}},
		},
	}}
	return l
}

func untilText(until time.Time) string {
	if until.IsZero() {
		return ""
	}
	return ", until " + until.Format("2006-01-02 15:04:05 -07:00")
}
