package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/messaging/cmap"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// cmapTimeout bounds one cmap request (not a watch).
const cmapTimeout = 30 * time.Second

type cmapFlags struct {
	output string
	binary bool
}

func newCmapCommand(g *globalFlags) *cobra.Command {
	f := &cmapFlags{}
	cmd := &cobra.Command{
		Use:   "cmap",
		Short: "Read, change and watch the configuration map of vigil-messagingd (corosync-cmapctl)",
		Long: `The cmap holds the cluster configuration (totem.*, nodelist.*, quorum.*,
logging.*) and runtime state (runtime.*, stats.*) of this node's
vigil-messagingd, printed as corosync-cmapctl prints it:

    totem.token (u32) = 1000

Only a few keys can be changed at runtime; "vigil cmap set" says which.
See docs/cmap.md for the keys and their types.`,
	}
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	cmd.PersistentFlags().BoolVarP(&f.binary, "binary", "b", false, "show the values of bin keys, as corosync-cmapctl -b")

	get := &cobra.Command{
		Use:   "get KEY...",
		Short: "Show keys (corosync-cmapctl -g KEY)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCmap(cmd, g, f, func(ctx context.Context, c messagingv1.CmapServiceClient) error {
				return cmapGet(ctx, cmd.OutOrStdout(), c, f, args)
			})
		},
	}
	list := &cobra.Command{
		Use:   "list [PREFIX...]",
		Short: "Show every key, or the keys under each PREFIX, in key order (corosync-cmapctl [PREFIX])",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{""}
			}
			return withCmap(cmd, g, f, func(ctx context.Context, c messagingv1.CmapServiceClient) error {
				return cmapList(ctx, cmd.OutOrStdout(), c, f, args)
			})
		},
	}
	set := &cobra.Command{
		Use:   "set KEY TYPE VALUE",
		Short: "Change a key at runtime (corosync-cmapctl -s KEY TYPE VALUE)",
		Long: `Change a key at runtime on this node, e.g.

    vigil cmap set totem.token u32 5000

TYPE is one of i8, i16, i32, i64, u8, u16, u32, u64, flt, dbl, str or bin
(VALUE is then a file name, or - for standard input), and must be the key's
type. The keys that can be set are: ` + strings.Join(cmap.Changeable(), ", ") + `.
The change takes effect at once and lasts until vigil-messagingd restarts;
to keep it, also edit vigil.conf on every node.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := parseCmapSet(args[0], args[1], args[2], readCmapFile(cmd.InOrStdin()))
			if err != nil {
				return err
			}
			return withCmap(cmd, g, f, func(ctx context.Context, c messagingv1.CmapServiceClient) error {
				e := &messagingv1.Entry{Key: args[0], Value: cmap.ToProto(v)}
				if _, err := c.Set(ctx, &messagingv1.SetRequest{Entry: e}); err != nil {
					return cmapError("set "+args[0], err)
				}
				if f.output == "json" {
					return cmapWriteJSON(cmd.OutOrStdout(), cmapJSON(args[0], v))
				}
				return nil // corosync-cmapctl -s prints nothing either
			})
		},
	}
	watch := &cobra.Command{
		Use:   "watch [PREFIX]",
		Short: "Print every change of the keys under PREFIX until interrupted (corosync-cmapctl -T PREFIX)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			if err := checkOutput(f.output); err != nil {
				return err
			}
			conn, err := g.dial("vigil-messagingd")
			if err != nil {
				return err
			}
			defer conn.Close()
			return cmapWatch(cmd.Context(), cmd.OutOrStdout(), messagingv1.NewCmapServiceClient(conn), f, prefix)
		},
	}
	cmd.AddCommand(get, list, set, watch)
	return cmd
}

// withCmap dials vigil-messagingd and runs one request with a timeout.
func withCmap(cmd *cobra.Command, g *globalFlags, f *cmapFlags, run func(context.Context, messagingv1.CmapServiceClient) error) error {
	if err := checkOutput(f.output); err != nil {
		return err
	}
	conn, err := g.dial("vigil-messagingd")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), cmapTimeout)
	defer cancel()
	return run(ctx, messagingv1.NewCmapServiceClient(conn))
}

func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("-o %q: want text or json", output)
	}
	return nil
}

// cmapGet prints the keys that exist and fails naming those that do not,
// as corosync-cmapctl -g does with several keys.
func cmapGet(ctx context.Context, out io.Writer, c messagingv1.CmapServiceClient, f *cmapFlags, keys []string) error {
	var entries []cmapEntryJSON
	var errs []error
	for _, key := range keys {
		res, err := c.Get(ctx, &messagingv1.GetRequest{Key: key})
		if err != nil {
			if status.Code(err) != codes.NotFound {
				return cmapError("get "+key, err)
			}
			errs = append(errs, cmapError("get "+key, err))
			continue
		}
		v, err := entryValue(res.GetEntry())
		if err != nil {
			return err
		}
		if f.output == "json" {
			entries = append(entries, cmapJSON(key, v))
		} else {
			fmt.Fprintln(out, cmapLine(key, v, f.binary))
		}
	}
	if f.output == "json" {
		if err := cmapWriteJSON(out, map[string]any{"entries": cmapNonNil(entries)}); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func cmapList(ctx context.Context, out io.Writer, c messagingv1.CmapServiceClient, f *cmapFlags, prefixes []string) error {
	var entries []cmapEntryJSON
	for _, prefix := range prefixes {
		res, err := c.List(ctx, &messagingv1.ListRequest{Prefix: prefix})
		if err != nil {
			return cmapError("list "+prefix, err)
		}
		for _, e := range res.GetEntries() {
			v, err := entryValue(e)
			if err != nil {
				return err
			}
			if f.output == "json" {
				entries = append(entries, cmapJSON(e.GetKey(), v))
			} else {
				fmt.Fprintln(out, cmapLine(e.GetKey(), v, f.binary))
			}
		}
	}
	if f.output == "json" {
		return cmapWriteJSON(out, map[string]any{"entries": cmapNonNil(entries)})
	}
	return nil
}

// cmapWatch prints changes until ctx ends (Ctrl-C), which is a clean exit.
func cmapWatch(ctx context.Context, out io.Writer, c messagingv1.CmapServiceClient, f *cmapFlags, prefix string) error {
	stream, err := c.Watch(ctx, &messagingv1.WatchRequest{Prefix: prefix})
	if err != nil {
		return cmapError("watch "+prefix, err)
	}
	for {
		res, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return cmapError("watch "+prefix, err)
		}
		line, err := cmapWatchLine(res, f)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, line)
	}
}

// cmapWatchLine renders one change as corosync-cmapctl -T does ("create> ",
// "modify> ", "delete> " and the key), or as one line of JSON.
func cmapWatchLine(res *messagingv1.WatchResponse, f *cmapFlags) (string, error) {
	v, err := entryValue(res.GetEntry())
	if err != nil {
		return "", err
	}
	key := res.GetEntry().GetKey()
	if f.output == "json" {
		b, err := json.Marshal(struct {
			Event string `json:"event"`
			cmapEntryJSON
		}{watchEventName(res.GetEvent()), cmapJSON(key, v)})
		return string(b), err
	}
	prefix := map[messagingv1.WatchEvent]string{
		messagingv1.WatchEvent_WATCH_EVENT_ADDED:   "create> ",
		messagingv1.WatchEvent_WATCH_EVENT_CHANGED: "modify> ",
		messagingv1.WatchEvent_WATCH_EVENT_DELETED: "delete> ",
	}[res.GetEvent()]
	if prefix == "" {
		prefix = "unknown change> "
	}
	return prefix + cmapLine(key, v, f.binary), nil
}

func watchEventName(e messagingv1.WatchEvent) string {
	switch e {
	case messagingv1.WatchEvent_WATCH_EVENT_ADDED:
		return "added"
	case messagingv1.WatchEvent_WATCH_EVENT_CHANGED:
		return "changed"
	case messagingv1.WatchEvent_WATCH_EVENT_DELETED:
		return "deleted"
	}
	return "unknown"
}

// entryValue returns an entry's value with the key's exact type: the wire
// carries only the family (uint_value...), the schema in messaging/cmap
// knows the width.
func entryValue(e *messagingv1.Entry) (cmap.Value, error) {
	v, err := cmap.FromProtoAs(e.GetKey(), e.GetValue())
	if err != nil {
		// A daemon of another version may declare the key otherwise:
		// show the value in its family's widest type rather than fail.
		if v, err2 := cmap.FromProto(e.GetValue()); err2 == nil {
			return v, nil
		}
		return cmap.Value{}, fmt.Errorf("cmap: %s: %w", e.GetKey(), err)
	}
	return v, nil
}

// cmapLine is corosync-cmapctl's line for a key: "KEY (TYPE) = VALUE", or
// "KEY (bin)" for a binary value unless showBinary (-b).
func cmapLine(key string, v cmap.Value, showBinary bool) string {
	if v.Type() == cmap.TypeBinary && !showBinary {
		return fmt.Sprintf("%s (%s)", key, v.Type())
	}
	return fmt.Sprintf("%s (%s) = %s", key, v.Type(), v)
}

// cmapEntryJSON is one key in -o json output. Value is a JSON number for
// integers and floats, a string for str, and base64 for bin.
type cmapEntryJSON struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

func cmapJSON(key string, v cmap.Value) cmapEntryJSON {
	var val any
	switch t := v.Type(); {
	case t.Unsigned():
		val = v.Uint()
	case t.Signed():
		val = v.Int()
	case t == cmap.TypeFloat || t == cmap.TypeDouble:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			val = v.String() // JSON has no NaN or infinity
		} else {
			val = f
		}
	case t == cmap.TypeBinary:
		val = v.Bytes()
	default:
		val = v.Str()
	}
	return cmapEntryJSON{Key: key, Type: v.Type().String(), Value: val}
}

// parseCmapSet reads the TYPE and VALUE of `vigil cmap set` as
// corosync-cmapctl -s does, and checks TYPE against the key's declared
// type so that a mistake is caught before it reaches the daemon. For bin,
// VALUE names a file read with readFile ("-": standard input).
func parseCmapSet(key, typeName, text string, readFile func(string) ([]byte, error)) (cmap.Value, error) {
	t, err := cmap.ParseType(typeName)
	if err != nil {
		return cmap.Value{}, fmt.Errorf("cmap set %s: %s", key, trimSentinel(err, cmap.ErrType))
	}
	if want, ok := cmap.KeyType(key); ok && want != t {
		return cmap.Value{}, fmt.Errorf("cmap set %s: the key is %s, not %s: vigil cmap set %s %s VALUE", key, want, t, key, want)
	}
	if t == cmap.TypeBinary {
		b, err := readFile(text)
		if err != nil {
			return cmap.Value{}, fmt.Errorf("cmap set %s: %w", key, err)
		}
		return cmap.Bin(b), nil
	}
	v, err := cmap.ParseValue(t, text)
	if err != nil {
		return cmap.Value{}, fmt.Errorf("cmap set %s: %s", key, trimSentinel(err, cmap.ErrInvalidValue))
	}
	return v, nil
}

func readCmapFile(stdin io.Reader) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if name == "-" {
			return io.ReadAll(stdin)
		}
		return os.ReadFile(name)
	}
}

// trimSentinel drops the "cmap: wrong type: " of a wrapped sentinel, which
// says nothing to a person at a shell.
func trimSentinel(err, sentinel error) string {
	return strings.TrimPrefix(err.Error(), sentinel.Error()+": ")
}

// cmapError turns a failed call into a message a person can act on: the
// daemon's explanation and the gRPC code, or how to reach the daemon.
func cmapError(op string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("cmap %s: %w", op, err)
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("cmap %s: vigil-messagingd is not reachable (%s); is it running? Check `systemctl status vigil-messagingd`, or `vigil cluster status --dir DIR` for a local cluster", op, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Errorf("cmap %s: vigil-messagingd did not answer within %s", op, cmapTimeout)
	case codes.Unimplemented:
		return fmt.Errorf("cmap %s: this vigil-messagingd does not serve cmap yet (%s)", op, st.Message())
	}
	return fmt.Errorf("cmap %s: %s (%s)", op, st.Message(), st.Code())
}

func cmapWriteJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmapNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
