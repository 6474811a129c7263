package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	fencev1 "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
)

// newStonithCommand is stonith_admin's counterpart.
func newStonithCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "stonith", Short: "Fence nodes, manage fencing devices and topology, show the fence history (like stonith_admin)"}
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	// call dials vigil-fenced and runs f with a deadline of wait.
	call := func(cmd *cobra.Command, wait time.Duration, f func(context.Context, fencev1.FenceServiceClient) (proto.Message, error), show func(io.Writer, proto.Message) error) error {
		if err := checkOutput(output); err != nil {
			return err
		}
		conn, err := g.dial("vigil-fenced")
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(cmd.Context(), wait)
		defer cancel()
		resp, err := f(ctx, fencev1.NewFenceServiceClient(conn))
		if err != nil {
			return fmt.Errorf("ask vigil-fenced: %w", err)
		}
		if output == "json" {
			if err := writeProtoJSON(cmd.OutOrStdout(), resp); err != nil {
				return err
			}
		} else if show != nil {
			if err := show(cmd.OutOrStdout(), resp); err != nil {
				return err
			}
		}
		// A failed fencing exits 1 in both formats, as stonith_admin does.
		if e := entryOf(resp); e != nil && e.GetState() != fencev1.State_STATE_SUCCEEDED {
			return &exitError{code: 1, err: fmt.Errorf("fencing of %s %s: %s", e.GetTarget(), stateName(e.GetState()), e.GetExitReason())}
		}
		return nil
	}
	const shortWait = 15 * time.Second

	listDevices := &cobra.Command{
		Use:   "list-devices",
		Short: "Every device of the cluster, its agent, host node and targets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, shortWait, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.ListDevices(ctx, &fencev1.ListDevicesRequest{})
			}, func(w io.Writer, m proto.Message) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "DEVICE\tAGENT\tNODE\tHOST CHECK\tTARGETS")
				for _, d := range m.(*fencev1.ListDevicesResponse).GetDevices() {
					targets := strings.Join(d.GetTargets(), ",")
					if d.GetTargetsError() != "" && targets == "" {
						targets = "(list failed: " + d.GetTargetsError() + ")"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.GetId(), d.GetDriver(), d.GetNode(), d.GetHostCheck(), targets)
				}
				return tw.Flush()
			})
		},
	}
	register := &cobra.Command{
		Use:   "register DEVICE AGENT [KEY=VALUE...]",
		Short: "Register a device hosted by the node dialled (fence_NAME or plugin:NAME; pcmk_host_list, pcmk_host_map, pcmk_host_check among the parameters)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			params := map[string]string{}
			for _, kv := range args[2:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fmt.Errorf("parameter %q: want KEY=VALUE", kv)
				}
				params[k] = v
			}
			return call(cmd, shortWait, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.RegisterDevice(ctx, &fencev1.RegisterDeviceRequest{Device: &fencev1.Device{Id: args[0], Driver: args[1], Parameters: params}})
			}, func(w io.Writer, _ proto.Message) error {
				_, err := fmt.Fprintf(w, "device %s registered\n", args[0])
				return err
			})
		},
	}
	unregister := &cobra.Command{
		Use:   "unregister DEVICE",
		Short: "Remove a device",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, shortWait, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.UnregisterDevice(ctx, &fencev1.UnregisterDeviceRequest{Id: args[0]})
			}, func(w io.Writer, _ proto.Message) error {
				_, err := fmt.Fprintf(w, "device %s unregistered\n", args[0])
				return err
			})
		},
	}

	level := &cobra.Command{Use: "level", Short: "Fencing topology: levels per target, tried in order"}
	levelAdd := &cobra.Command{
		Use:   "add TARGET INDEX DEVICE[,DEVICE...]",
		Short: "Set level INDEX of TARGET: every device listed must succeed",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			idx, err := strconv.Atoi(args[1])
			if err != nil || idx < 1 {
				return fmt.Errorf("index %q: want a whole number of at least 1", args[1])
			}
			devs := strings.Split(args[2], ",")
			return call(cmd, shortWait, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.AddLevel(ctx, &fencev1.AddLevelRequest{Level: &fencev1.Level{Target: args[0], Index: int32(idx), Devices: devs}})
			}, func(w io.Writer, _ proto.Message) error {
				_, err := fmt.Fprintf(w, "level %d of %s: %s\n", idx, args[0], strings.Join(devs, ","))
				return err
			})
		},
	}
	levelRemove := &cobra.Command{
		Use:   "remove TARGET INDEX",
		Short: "Remove a level",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			idx, err := strconv.Atoi(args[1])
			if err != nil || idx < 1 {
				return fmt.Errorf("index %q: want a whole number of at least 1", args[1])
			}
			return call(cmd, shortWait, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.RemoveLevel(ctx, &fencev1.RemoveLevelRequest{Target: args[0], Index: int32(idx)})
			}, nil)
		},
	}
	levelList := &cobra.Command{
		Use:   "list [TARGET]",
		Short: "List the levels",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			return call(cmd, shortWait, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.ListLevels(ctx, &fencev1.ListLevelsRequest{Target: target})
			}, func(w io.Writer, m proto.Message) error {
				for _, l := range m.(*fencev1.ListLevelsResponse).GetLevels() {
					fmt.Fprintf(w, "%s level %d: %s\n", l.GetTarget(), l.GetIndex(), strings.Join(l.GetDevices(), ","))
				}
				return nil
			})
		},
	}
	level.AddCommand(levelAdd, levelRemove, levelList)

	var off, on, reboot, allowSelf bool
	var timeout, tolerance time.Duration
	fence := &cobra.Command{
		Use:   "fence NODE",
		Short: "Fence NODE (reboot unless --off or --on) and wait for the result; exits 1 when it failed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			action := fencev1.Action_ACTION_REBOOT
			switch {
			case off && on, off && reboot, on && reboot:
				return fmt.Errorf("--off, --on and --reboot exclude each other")
			case off:
				action = fencev1.Action_ACTION_OFF
			case on:
				action = fencev1.Action_ACTION_ON
			}
			req := &fencev1.FenceRequest{Target: args[0], Action: action, AllowSelf: allowSelf}
			wait := 60 * time.Second
			if timeout > 0 {
				req.Timeout, wait = durationpb.New(timeout), timeout
			}
			if tolerance > 0 {
				req.Tolerance = durationpb.New(tolerance)
			}
			// The daemon answers by the request's timeout plus its grace.
			return call(cmd, wait+15*time.Second, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.Fence(ctx, req)
			}, func(w io.Writer, m proto.Message) error {
				writeEntries(w, []*fencev1.HistoryEntry{m.(*fencev1.FenceResponse).GetEntry()})
				return nil
			})
		},
	}
	fence.Flags().BoolVar(&off, "off", false, "power the node off")
	fence.Flags().BoolVar(&on, "on", false, "power the node on")
	fence.Flags().BoolVar(&reboot, "reboot", false, "reboot the node (the default)")
	fence.Flags().BoolVar(&allowSelf, "allow-self", false, "let the target's own node carry it out (suicide)")
	fence.Flags().DurationVar(&timeout, "timeout", 0, "bound on the whole request (default: the daemon's, 60s)")
	fence.Flags().DurationVar(&tolerance, "tolerance", 0, "succeed at once if the node was fenced this recently")

	history := &cobra.Command{
		Use:   "history [NODE]",
		Short: "The cluster's fence history (of NODE), as this node knows it",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			return call(cmd, shortWait, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.GetHistory(ctx, &fencev1.GetHistoryRequest{Target: target})
			}, func(w io.Writer, m proto.Message) error {
				writeEntries(w, m.(*fencev1.GetHistoryResponse).GetEntries())
				return nil
			})
		},
	}
	confirm := &cobra.Command{
		Use:   "confirm NODE",
		Short: "Record that NODE is off without running any device (stonith_admin --confirm): you vouch for it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, shortWait, func(ctx context.Context, c fencev1.FenceServiceClient) (proto.Message, error) {
				return c.Confirm(ctx, &fencev1.ConfirmRequest{Target: args[0]})
			}, func(w io.Writer, m proto.Message) error {
				writeEntries(w, []*fencev1.HistoryEntry{m.(*fencev1.ConfirmResponse).GetEntry()})
				return nil
			})
		},
	}
	cmd.AddCommand(listDevices, register, unregister, level, fence, history, confirm)
	return cmd
}

func entryOf(m proto.Message) *fencev1.HistoryEntry {
	switch r := m.(type) {
	case *fencev1.FenceResponse:
		return r.GetEntry()
	case *fencev1.ConfirmResponse:
		return r.GetEntry()
	}
	return nil
}

func stateName(s fencev1.State) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "STATE_"))
}

// writeEntries prints history entries the way stonith_admin --history
// does, one paragraph each.
func writeEntries(w io.Writer, entries []*fencev1.HistoryEntry) {
	for _, e := range entries {
		action := strings.ToLower(strings.TrimPrefix(e.GetAction().String(), "ACTION_"))
		when := e.GetRequestedAt().AsTime().Local().Format("2006-01-02 15:04:05")
		switch e.GetState() {
		case fencev1.State_STATE_SUCCEEDED:
			fmt.Fprintf(w, "%s of %s succeeded: executed by %s with %s, asked by %s, at %s\n", action, e.GetTarget(),
				e.GetExecutioner(), e.GetDevice(), e.GetOrigin(), e.GetCompletedAt().AsTime().Local().Format("2006-01-02 15:04:05"))
		case fencev1.State_STATE_FAILED:
			fmt.Fprintf(w, "%s of %s failed: asked by %s at %s\n", action, e.GetTarget(), e.GetOrigin(), when)
		default:
			fmt.Fprintf(w, "%s of %s pending: asked by %s at %s\n", action, e.GetTarget(), e.GetOrigin(), when)
		}
		fmt.Fprintf(w, "  id %s; %s\n", e.GetId(), e.GetExitReason())
	}
}
