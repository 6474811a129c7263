package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// newStatusCommand is `vigil status`: crm_mon -1 from the live CIB, or
// crm_mon redrawn in place with --watch, or JSON with -o json.
func newStatusCommand(g *globalFlags) *cobra.Command {
	var watch bool
	var output string
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's state once, like crm_mon -1 (--watch: like crm_mon, until Ctrl-C)",
		Long: `Show the cluster's state as crm_mon -1 prints it: the cluster summary,
the nodes, the resources with their roles and the failed actions.

With --watch the screen is redrawn in place at every change of the CIB
(and every --interval, for the clock and the DC) until Ctrl-C. With -o json
the same state is printed as one JSON object (with --watch, one per line at
every change).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			out := cmd.OutOrStdout()
			if !watch {
				var snap statusSnapshot
				err := withCIB(cmd.Context(), g, func(ctx context.Context, cl *cibclient.Client) error {
					var err error
					snap, err = readStatus(ctx, cl)
					return err
				})
				if err != nil {
					return crmdError("ask vigil-crmd for the cluster's state", err)
				}
				return snap.write(out, output, time.Now())
			}
			return watchStatus(cmd.Context(), g, out, output, interval)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "redraw in place at every change until Ctrl-C, like crm_mon")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text (crm_mon's) or json")
	cmd.Flags().DurationVar(&interval, "interval", 2*time.Second, "with --watch: redraw at least this often")
	return cmd
}

// statusSnapshot is what vigil status shows: the CIB and the crmd's view.
type statusSnapshot struct {
	c     *cib.CIB
	st    cibclient.Status
	local string
}

func readStatus(ctx context.Context, cl *cibclient.Client) (statusSnapshot, error) {
	st, err := cl.Status(ctx)
	if err != nil {
		return statusSnapshot{}, err
	}
	c, err := cl.Query(ctx)
	if err != nil {
		return statusSnapshot{}, err
	}
	local := ""
	for _, n := range c.Status.NodeStates {
		if n.ID == strconv.FormatUint(uint64(st.Local), 10) {
			local = n.Uname
		}
	}
	return statusSnapshot{c: c, st: st, local: local}, nil
}

func (s statusSnapshot) write(w io.Writer, output string, now time.Time) error {
	if output == "json" {
		b, err := json.Marshal(statusJSON(s.c, s.st, s.local, now))
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	writeStatus(w, s.c, s.st, s.local, now)
	return nil
}

// clearScreen moves the cursor home and clears the terminal, as crm_mon
// does before each redraw.
const clearScreen = "\x1b[H\x1b[2J"

// watchStatus redraws the status at every CIB change the crmd reports and
// every interval, until ctx ends (Ctrl-C). A lost connection is retried:
// the screen says so meanwhile.
func watchStatus(ctx context.Context, g *globalFlags, w io.Writer, output string, interval time.Duration) error {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	for ctx.Err() == nil {
		err := watchOnce(ctx, g, w, output, interval)
		if ctx.Err() != nil {
			break
		}
		if output == "text" {
			fmt.Fprintf(w, "%s%s: %v\nretrying ...\n", clearScreen, time.Now().Format(time.ANSIC), err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
	return nil
}

func watchOnce(ctx context.Context, g *globalFlags, w io.Writer, output string, interval time.Duration) error {
	conn, err := g.dial("vigil-crmd")
	if err != nil {
		return err
	}
	defer conn.Close()
	cl := cibclient.New(conn)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan struct{}, 1)
	watchErr := make(chan error, 1)
	go func() {
		watchErr <- cl.Watch(ctx, false, func(cibclient.Event) error {
			select {
			case changed <- struct{}{}:
			default:
			}
			return nil
		})
	}()
	var last []byte
	for {
		qctx, qcancel := context.WithTimeout(ctx, liveTimeout)
		snap, err := readStatus(qctx, cl)
		qcancel()
		if err != nil {
			return crmdError("ask vigil-crmd for the cluster's state", err)
		}
		var b bytes.Buffer
		if err := snap.write(&b, output, time.Now()); err != nil {
			return err
		}
		switch {
		case output == "text":
			fmt.Fprint(w, clearScreen+b.String())
		case !bytes.Equal(b.Bytes(), last):
			// JSON: one line per change (the clock alone is no change).
			var plain bytes.Buffer
			if err := snap.write(&plain, output, time.Time{}); err != nil {
				return err
			}
			if !bytes.Equal(plain.Bytes(), last) {
				w.Write(b.Bytes())
				last = plain.Bytes()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-watchErr:
			if err == nil {
				err = fmt.Errorf("the crmd ended the watch")
			}
			return crmdError("watch the CIB", err)
		case <-changed:
		case <-time.After(interval):
		}
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
