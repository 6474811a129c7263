package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// newCPGCommand is corosync-cpgtool's counterpart.
func newCPGCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "cpg", Short: "Show process groups (like corosync-cpgtool)"}
	var output string
	list := &cobra.Command{
		Use:   "list",
		Short: "List every process group and its members (corosync-cpgtool)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			conn, err := g.dial("vigil-messagingd")
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			groups, err := messagingv1.NewGroupServiceClient(conn).ListGroups(ctx, &messagingv1.ListGroupsRequest{})
			if err != nil {
				return fmt.Errorf("ask vigil-messagingd for its groups: %w", err)
			}
			if output == "json" {
				return writeProtoJSON(cmd.OutOrStdout(), groups)
			}
			view, err := messagingv1.NewMembershipServiceClient(conn).GetView(ctx, &messagingv1.GetViewRequest{})
			if err != nil {
				return fmt.Errorf("ask vigil-messagingd for its view: %w", err)
			}
			writeCPGList(cmd.OutOrStdout(), groups, view.GetView())
			return nil
		},
	}
	list.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.AddCommand(list)
	return cmd
}

// writeCPGList prints groups as corosync-cpgtool does; Vigil's member
// handle stands where corosync shows the process id.
func writeCPGList(out io.Writer, groups *messagingv1.ListGroupsResponse, view *messagingv1.View) {
	addr := map[uint32]string{}
	for _, m := range view.GetMembers() {
		if len(m.GetAddresses()) > 0 {
			addr[m.GetNodeId()] = m.GetAddresses()[0]
		}
	}
	tw := tabwriter.NewWriter(out, 0, 8, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(out, "Group Name\t       PID\t   Node ID")
	for _, g := range groups.GetGroups() {
		fmt.Fprintln(out, g.GetName())
		for _, m := range g.GetMembers() {
			fmt.Fprintf(tw, "\t\t%10d\t%10d (%s)\t\n", m.GetHandle(), m.GetNodeId(), addr[m.GetNodeId()])
		}
		tw.Flush()
	}
}
