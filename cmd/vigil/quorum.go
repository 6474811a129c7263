package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	quorumv1 "github.com/vigil-ha/vigil/proto/vigil/quorum/v1"
)

// newQuorumCommand is corosync-quorumtool's counterpart.
func newQuorumCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "quorum", Short: "Show and change votequorum (like corosync-quorumtool)"}
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	run := func(cmd *cobra.Command, call func(context.Context, quorumv1.QuorumServiceClient) (*quorumv1.Status, error), show func(io.Writer, *quorumv1.Status)) error {
		if err := checkOutput(output); err != nil {
			return err
		}
		conn, err := g.dial("vigil-quorumd")
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
		defer cancel()
		st, err := call(ctx, quorumv1.NewQuorumServiceClient(conn))
		if err != nil {
			return fmt.Errorf("ask vigil-quorumd: %w", err)
		}
		if output == "json" {
			if err := writeProtoJSON(cmd.OutOrStdout(), st); err != nil {
				return err
			}
		} else {
			show(cmd.OutOrStdout(), st)
		}
		if !st.GetQuorate() {
			// corosync-quorumtool -s exits 2 when not quorate.
			return &exitError{code: 2, err: fmt.Errorf("this partition is not quorate")}
		}
		return nil
	}
	getStatus := func(ctx context.Context, c quorumv1.QuorumServiceClient) (*quorumv1.Status, error) {
		resp, err := c.GetStatus(ctx, &quorumv1.GetStatusRequest{})
		return resp.GetStatus(), err
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Quorum, votes and members (corosync-quorumtool -s); exits 2 when not quorate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, getStatus, func(w io.Writer, st *quorumv1.Status) { writeQuorumStatus(w, st, time.Now()) })
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Members and their votes (corosync-quorumtool -l)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, getStatus, func(w io.Writer, st *quorumv1.Status) {
				fmt.Fprintln(w)
				writeQuorumMembers(w, st)
			})
		},
	}
	expected := &cobra.Command{
		Use:   "expected N",
		Short: "Set expected votes on every node of this partition (corosync-quorumtool -e N)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseUint(args[0], 10, 32)
			if err != nil || n == 0 {
				return fmt.Errorf("expected votes %q: want a whole number of at least 1", args[0])
			}
			return run(cmd, func(ctx context.Context, c quorumv1.QuorumServiceClient) (*quorumv1.Status, error) {
				resp, err := c.SetExpectedVotes(ctx, &quorumv1.SetExpectedVotesRequest{ExpectedVotes: uint32(n)})
				return resp.GetStatus(), err
			}, func(w io.Writer, st *quorumv1.Status) { writeQuorumStatus(w, st, time.Now()) })
		},
	}
	var nodeID uint32
	votes := &cobra.Command{
		Use:   "votes N",
		Short: "Set the votes of a node (default this one) on every node of this partition (corosync-quorumtool -v N [-n ID])",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseUint(args[0], 10, 32)
			if err != nil {
				return fmt.Errorf("votes %q: want a whole number", args[0])
			}
			return run(cmd, func(ctx context.Context, c quorumv1.QuorumServiceClient) (*quorumv1.Status, error) {
				id := nodeID
				if id == 0 {
					st, err := c.GetStatus(ctx, &quorumv1.GetStatusRequest{})
					if err != nil {
						return nil, err
					}
					id = st.GetStatus().GetLocalNodeId()
				}
				resp, err := c.SetVotes(ctx, &quorumv1.SetVotesRequest{NodeId: id, Votes: uint32(n)})
				return resp.GetStatus(), err
			}, func(w io.Writer, st *quorumv1.Status) { writeQuorumStatus(w, st, time.Now()) })
		},
	}
	votes.Flags().Uint32VarP(&nodeID, "nodeid", "n", 0, "the node whose votes change (default: this node)")
	twoNode := &cobra.Command{
		Use:   "two-node on|off",
		Short: "Switch two_node on every node of this partition (corosync: change the file and reload)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			on, err := strconv.ParseBool(map[string]string{"on": "true", "off": "false"}[args[0]])
			if err != nil {
				return fmt.Errorf("two-node %q: want on or off", args[0])
			}
			return run(cmd, func(ctx context.Context, c quorumv1.QuorumServiceClient) (*quorumv1.Status, error) {
				resp, err := c.SetTwoNode(ctx, &quorumv1.SetTwoNodeRequest{TwoNode: on})
				return resp.GetStatus(), err
			}, func(w io.Writer, st *quorumv1.Status) { writeQuorumStatus(w, st, time.Now()) })
		},
	}
	cmd.AddCommand(status, list, expected, votes, twoNode)
	return cmd
}

// flagNames are the flags in the order corosync-quorumtool prints them.
var flagNames = []struct {
	flag quorumv1.Flag
	name string
}{
	{quorumv1.Flag_FLAG_TWO_NODE, "2Node"},
	{quorumv1.Flag_FLAG_QUORATE, "Quorate"},
	{quorumv1.Flag_FLAG_WAIT_FOR_ALL, "WaitForAll"},
	{quorumv1.Flag_FLAG_LAST_MAN_STANDING, "LastManStanding"},
	{quorumv1.Flag_FLAG_AUTO_TIE_BREAKER, "AutoTieBreaker"},
	{quorumv1.Flag_FLAG_ALLOW_DOWNSCALE, "AllowDownscale"},
}

// writeQuorumStatus prints what corosync-quorumtool -s prints.
func writeQuorumStatus(w io.Writer, st *quorumv1.Status, now time.Time) {
	yes := "No"
	if st.GetQuorate() {
		yes = "Yes"
	}
	fmt.Fprintf(w, "Quorum information\n------------------\n")
	fmt.Fprintf(w, "Date:             %s\n", now.Format("Mon Jan 2 15:04:05 2006"))
	fmt.Fprintf(w, "Quorum provider:  corosync_votequorum\n")
	fmt.Fprintf(w, "Nodes:            %d\n", len(st.GetMembers()))
	fmt.Fprintf(w, "Node ID:          %d\n", st.GetLocalNodeId())
	fmt.Fprintf(w, "Ring ID:          %d.%x\n", st.GetViewCoordinator(), st.GetViewEpoch())
	fmt.Fprintf(w, "Quorate:          %s\n\n", yes)
	fmt.Fprintf(w, "Votequorum information\n----------------------\n")
	fmt.Fprintf(w, "Expected votes:   %d\n", st.GetExpectedVotes())
	fmt.Fprintf(w, "Highest expected: %d\n", st.GetHighestExpected())
	fmt.Fprintf(w, "Total votes:      %d\n", st.GetTotalVotes())
	blocked := " "
	if !st.GetQuorate() {
		blocked = "Activity blocked"
	}
	fmt.Fprintf(w, "Quorum:           %d %s\n", st.GetQuorum(), blocked)
	var flags strings.Builder
	for _, f := range flagNames {
		for _, g := range st.GetFlags() {
			if g == f.flag {
				flags.WriteString(f.name + " ")
			}
		}
	}
	fmt.Fprintf(w, "Flags:            %s\n\n", flags.String())
	writeQuorumMembers(w, st)
}

func writeQuorumMembers(w io.Writer, st *quorumv1.Status) {
	fmt.Fprintf(w, "Membership information\n----------------------\n")
	fmt.Fprintf(w, "    Nodeid      Votes Name\n")
	for _, m := range st.GetMembers() {
		name := m.GetName()
		if m.GetLocal() {
			name += " (local)"
		}
		fmt.Fprintf(w, "%10d %10d %s\n", m.GetNodeId(), m.GetVotes(), name)
	}
}

// showQuorumWhenQuorate waits up to wait for this partition to be quorate
// with nodes members (the quorumds join just after the view forms) and
// prints its status.
func (g *globalFlags) showQuorumWhenQuorate(cmd *cobra.Command, nodes int, wait time.Duration) error {
	conn, err := g.dial("vigil-quorumd")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), wait)
	defer cancel()
	c := quorumv1.NewQuorumServiceClient(conn)
	for {
		resp, err := c.GetStatus(ctx, &quorumv1.GetStatusRequest{})
		if err == nil && resp.GetStatus().GetQuorate() && len(resp.GetStatus().GetMembers()) == nodes {
			writeQuorumStatus(cmd.OutOrStdout(), resp.GetStatus(), time.Now())
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				writeQuorumStatus(cmd.OutOrStdout(), resp.GetStatus(), time.Now())
				return fmt.Errorf("the cluster did not become quorate within %v", wait)
			}
			return fmt.Errorf("ask vigil-quorumd: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
