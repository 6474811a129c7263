package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// newCfgCommand is corosync-cfgtool's counterpart.
func newCfgCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "cfg", Short: "Show the links between nodes (like corosync-cfgtool)"}
	var output string
	status := &cobra.Command{
		Use:   "status",
		Short: "Show this node's id and, per link, the state of every node (corosync-cfgtool -s)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return g.showLinks(cmd, output)
		},
	}
	status.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.AddCommand(status)
	return cmd
}

// showLinks prints the links of the messaging daemon the flags name.
func (g *globalFlags) showLinks(cmd *cobra.Command, output string) error {
	conn, err := g.dial("vigil-messagingd")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	resp, err := messagingv1.NewMembershipServiceClient(conn).GetLinks(ctx, &messagingv1.GetLinksRequest{})
	if err != nil {
		return fmt.Errorf("ask vigil-messagingd for its links: %w", err)
	}
	if output == "json" {
		return writeProtoJSON(cmd.OutOrStdout(), resp)
	}
	writeCfgStatus(cmd.OutOrStdout(), resp)
	return nil
}

// writeCfgStatus prints links the way corosync-cfgtool -s does: per link,
// this node's address and each node's state.
func writeCfgStatus(out io.Writer, resp *messagingv1.GetLinksResponse) {
	fmt.Fprintf(out, "Local node ID %d, transport knet\n", resp.GetLocalNodeId())
	byLink := map[uint32][]string{}
	localAddr := map[uint32]string{}
	peers := slices.Clone(resp.GetPeers())
	slices.SortFunc(peers, func(a, b *messagingv1.PeerLinks) int { return int(a.GetNodeId()) - int(b.GetNodeId()) })
	for _, p := range peers {
		for _, l := range p.GetLinks() {
			state := "disconnected"
			switch l.GetState() {
			case messagingv1.LinkState_LINK_STATE_LOCAL:
				state = "localhost"
				localAddr[l.GetLinkNumber()] = l.GetLocalAddress()
			case messagingv1.LinkState_LINK_STATE_CONNECTED:
				state = "connected"
			}
			byLink[l.GetLinkNumber()] = append(byLink[l.GetLinkNumber()], fmt.Sprintf("\t\tnodeid:%11d:\t%s", p.GetNodeId(), state))
		}
	}
	links := make([]uint32, 0, len(byLink))
	for l := range byLink {
		links = append(links, l)
	}
	slices.Sort(links)
	for _, l := range links {
		fmt.Fprintf(out, "LINK ID %d tcp\n\taddr\t= %s\n\tstatus:\n%s\n", l, localAddr[l], strings.Join(byLink[l], "\n"))
	}
}

func writeProtoJSON(out io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}
