package main

import (
	"context"
	"fmt"
	"io"
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

// newStatusCommand is `vigil status`: crm_mon -1 from the live CIB.
func newStatusCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's state once, like crm_mon -1",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var c *cib.CIB
			var st cibclient.Status
			err := withCIB(cmd.Context(), g, func(ctx context.Context, cl *cibclient.Client) error {
				var err error
				if st, err = cl.Status(ctx); err != nil {
					return err
				}
				c, err = cl.Query(ctx)
				return err
			})
			if err != nil {
				return crmdError("ask vigil-crmd for the cluster's state", err)
			}
			local := ""
			for _, n := range c.Status.NodeStates {
				if n.ID == strconv.FormatUint(uint64(st.Local), 10) {
					local = n.Uname
				}
			}
			writeStatus(cmd.OutOrStdout(), c, st, local, time.Now())
			return nil
		},
	}
}

// ocfExitNames are crm_mon's words for the OCF exit codes.
var ocfExitNames = map[int]string{
	0: "ok", 1: "error", 2: "invalid parameter", 3: "unimplemented feature", 4: "insufficient privileges",
	5: "not installed", 6: "not configured", 7: "not running", 8: "promoted", 9: "promoted (failed)",
}

// opStatusNames are crm_mon's words for op-status.
var opStatusNames = map[int]string{
	-1: "pending", 0: "complete", 1: "Cancelled", 2: "Timed Out", 3: "NOT SUPPORTED", 4: "Error",
	5: "No fence device", 6: "No secrets", 7: "Not installed", 8: "Invalid", 9: "Not connected",
}

// writeStatus prints what crm_mon -1 prints for c: the cluster summary,
// the node list, every resource and the failed actions.
func writeStatus(w io.Writer, c *cib.CIB, st cibclient.Status, local string, now time.Time) {
	full := transition.WithNodes(c)
	cl := scheduler.Unpack(full, now)
	fmt.Fprintln(w, "Cluster Summary:")
	fmt.Fprintln(w, "  * Stack: vigil")
	switch {
	case st.DC == "":
		fmt.Fprintln(w, "  * Current DC: NONE")
	default:
		q := "with"
		if !st.Quorate {
			q = "WITHOUT"
		}
		fmt.Fprintf(w, "  * Current DC: %s (version vigil) - partition %s quorum\n", st.DC, q)
	}
	fmt.Fprintf(w, "  * Last updated: %s", now.Format(time.ANSIC))
	if local != "" {
		fmt.Fprintf(w, " on %s", local)
	}
	fmt.Fprintln(w)
	if c.CIBLastWritten != "" {
		fmt.Fprintf(w, "  * Last change:  %s by %s via %s on %s\n", c.CIBLastWritten, orDash(c.UpdateUser), orDash(c.UpdateClient), orDash(c.UpdateOrigin))
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	}
	fmt.Fprintf(w, "  * %d %s configured\n", len(cl.Nodes), plural(len(cl.Nodes), "node", "nodes"))
	disabled := 0
	prims := cl.Primitives()
	for _, r := range prims {
		if r.TargetRole == scheduler.RoleStopped {
			disabled++
		}
	}
	fmt.Fprintf(w, "  * %d %s configured", len(prims), plural(len(prims), "resource instance", "resource instances"))
	if disabled > 0 {
		fmt.Fprintf(w, " (%d DISABLED)", disabled)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	// The scheduler's rendering is crm_simulate's, one level deeper.
	for _, line := range strings.Split(strings.TrimRight(scheduler.StatusText(cl, nil), "\n"), "\n") {
		switch strings.TrimSpace(line) {
		case "* Node List:":
			fmt.Fprintln(w, "Node List:")
		case "* Full List of Resources:":
			fmt.Fprintln(w, "Full List of Resources:")
		default:
			fmt.Fprintln(w, strings.TrimPrefix(line, "  "))
		}
	}
	if len(prims) == 0 {
		fmt.Fprintln(w, "  * No resources")
	}
	failed := failedActions(c)
	if len(failed) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failed Resource Actions:")
		for _, f := range failed {
			fmt.Fprintln(w, f)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// failedActions are the recorded failures (RSC_last_failure_0 entries) as
// crm_mon lists them.
func failedActions(c *cib.CIB) []string {
	var out []string
	for _, ns := range c.Status.NodeStates {
		if ns.LRM == nil {
			continue
		}
		for _, lr := range ns.LRM.Resources {
			for _, o := range lr.Ops {
				if !strings.HasSuffix(o.ID, "_last_failure_0") {
					continue
				}
				rc, _ := o.RC()
				st, _ := o.Status()
				when := o.LastRCChange
				if sec, err := strconv.ParseInt(when, 10, 64); err == nil {
					when = time.Unix(sec, 0).Format(time.ANSIC)
				}
				name := ocfExitNames[rc]
				if name == "" {
					name = "unknown"
				}
				out = append(out, fmt.Sprintf("  * %s on %s '%s' (%d): call=%s, status='%s', exitreason='%s', last-rc-change='%s', queued=%sms, exec=%sms",
					o.OperationKey, ns.Uname, name, rc, o.CallID, opStatusNames[st], o.ExitReason, when, orZero(o.QueueTime), orZero(o.ExecTime)))
			}
		}
	}
	sort.Strings(out)
	return out
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
