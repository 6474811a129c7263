package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	lrmv1 "github.com/vigil-ha/vigil/proto/vigil/lrm/v1"
)

// newRACommand is `crm ra`'s counterpart: the resource agents vigil-lrmd
// can run on this node.
func newRACommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "ra", Short: "Resource agents: classes, agents and their parameters (like crm ra)"}
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	call := func(cmd *cobra.Command, fn func(context.Context, lrmv1.ExecutorServiceClient) error) error {
		if err := checkOutput(output); err != nil {
			return err
		}
		conn, err := g.dial("vigil-lrmd")
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
		defer cancel()
		return fn(ctx, lrmv1.NewExecutorServiceClient(conn))
	}
	classes := &cobra.Command{
		Use: "classes", Short: "List the agent classes available on this node", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, func(ctx context.Context, c lrmv1.ExecutorServiceClient) error {
				resp, err := c.ListClasses(ctx, &lrmv1.ListClassesRequest{})
				if err != nil {
					return fmt.Errorf("ask vigil-lrmd for its classes: %w", err)
				}
				if output == "json" {
					return writeProtoJSON(cmd.OutOrStdout(), resp)
				}
				for _, cl := range resp.GetClasses() {
					fmt.Fprintln(cmd.OutOrStdout(), cl)
				}
				return nil
			})
		},
	}
	list := &cobra.Command{
		Use: "list CLASS [PROVIDER]", Short: "List the agents of a class (and provider, for ocf)", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &lrmv1.ListAgentsRequest{Class: args[0]}
			if len(args) == 2 {
				req.Provider = args[1]
			}
			return call(cmd, func(ctx context.Context, c lrmv1.ExecutorServiceClient) error {
				resp, err := c.ListAgents(ctx, req)
				if err != nil {
					return fmt.Errorf("ask vigil-lrmd for the agents of %s: %w", strings.Join(args, " "), err)
				}
				if output == "json" {
					return writeProtoJSON(cmd.OutOrStdout(), resp)
				}
				for _, a := range resp.GetAgents() {
					fmt.Fprintln(cmd.OutOrStdout(), a.GetType())
				}
				return nil
			})
		},
	}
	info := &cobra.Command{
		Use: "info CLASS:[PROVIDER:]TYPE", Short: "Show an agent's parameters and actions from its meta-data (like crm ra info)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			agent, err := parseAgent(args[0])
			if err != nil {
				return err
			}
			return call(cmd, func(ctx context.Context, c lrmv1.ExecutorServiceClient) error {
				resp, err := c.GetAgentMetadata(ctx, &lrmv1.GetAgentMetadataRequest{Agent: agent})
				if err != nil {
					return fmt.Errorf("ask vigil-lrmd for the meta-data of %s: %w", args[0], err)
				}
				if output == "json" {
					return writeProtoJSON(cmd.OutOrStdout(), resp)
				}
				return writeAgentInfo(cmd.OutOrStdout(), args[0], resp.GetXml())
			})
		},
	}
	cmd.AddCommand(classes, list, info)
	return cmd
}

// parseAgent reads class:provider:type, or class:type for classes without
// providers (lsb:nginx, systemd:sshd, plugin:dummy).
func parseAgent(s string) (*lrmv1.Agent, error) {
	parts := strings.Split(s, ":")
	switch {
	case len(parts) == 3 && parts[0] != "" && parts[2] != "":
		return &lrmv1.Agent{Class: parts[0], Provider: parts[1], Type: parts[2]}, nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return &lrmv1.Agent{Class: parts[0], Type: parts[1]}, nil
	}
	return nil, fmt.Errorf("agent %q: want CLASS:PROVIDER:TYPE (ocf:heartbeat:IPaddr2) or CLASS:TYPE (lsb:nginx)", s)
}

// metadata is the part of an OCF meta-data document `ra info` shows.
type metadata struct {
	Name       string `xml:"name,attr"`
	ShortDesc  string `xml:"shortdesc"`
	LongDesc   string `xml:"longdesc"`
	Parameters []struct {
		Name      string `xml:"name,attr"`
		Required  string `xml:"required,attr"`
		ShortDesc string `xml:"shortdesc"`
		LongDesc  string `xml:"longdesc"`
		Content   struct {
			Type    string `xml:"type,attr"`
			Default string `xml:"default,attr"`
		} `xml:"content"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name     string `xml:"name,attr"`
		Timeout  string `xml:"timeout,attr"`
		Interval string `xml:"interval,attr"`
		Depth    string `xml:"depth,attr"`
		Role     string `xml:"role,attr"`
	} `xml:"actions>action"`
}

// writeAgentInfo prints meta-data the way crm ra info lays it out.
func writeAgentInfo(w io.Writer, name string, data []byte) error {
	var md metadata
	if err := xml.Unmarshal(data, &md); err != nil {
		return fmt.Errorf("meta-data of %s is not valid OCF meta-data XML: %w", name, err)
	}
	fmt.Fprintf(w, "%s (%s)\n\n", strings.TrimSpace(md.ShortDesc), name)
	if ld := strings.TrimSpace(md.LongDesc); ld != "" {
		fmt.Fprintf(w, "%s\n\n", ld)
	}
	fmt.Fprintf(w, "Parameters (*: required, []: default):\n\n")
	for _, p := range md.Parameters {
		req := ""
		if p.Required == "1" || p.Required == "true" {
			req = "*"
		}
		def := ""
		if p.Content.Default != "" {
			def = " [" + p.Content.Default + "]"
		}
		fmt.Fprintf(w, "%s%s (%s%s): %s\n", p.Name, req, p.Content.Type, def, strings.TrimSpace(p.ShortDesc))
		for _, line := range strings.Split(strings.TrimSpace(p.LongDesc), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Operations' defaults (advisory minimum):\n\n")
	for _, a := range md.Actions {
		if a.Name == "meta-data" || a.Name == "validate-all" || a.Name == "methods" {
			continue
		}
		line := fmt.Sprintf("    %-14s", a.Name)
		if a.Role != "" {
			line = fmt.Sprintf("    %-14s", a.Name+"_"+a.Role)
		}
		if a.Timeout != "" {
			line += " timeout=" + a.Timeout
		}
		if a.Interval != "" && a.Interval != "0" && a.Interval != "0s" {
			line += " interval=" + a.Interval
		}
		if a.Depth != "" && a.Depth != "0" {
			line += " depth=" + a.Depth
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	return nil
}

// newLRMCommand runs one operation through this node's vigil-lrmd by hand
// (like crm_resource --force-start and friends).
func newLRMCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "lrm", Short: "Run resource agent operations on one node by hand"}
	var output, resource, action string
	var params, meta []string
	var timeout, interval time.Duration
	exec := &cobra.Command{
		Use:   "exec CLASS:[PROVIDER:]TYPE --action ACTION [--resource ID] [--param k=v ...]",
		Short: "Run one operation of an agent and print its result",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			agent, err := parseAgent(args[0])
			if err != nil {
				return err
			}
			op := &lrmv1.Operation{ResourceId: resource, Agent: agent, Action: action,
				Timeout: durationpb.New(timeout), Interval: durationpb.New(interval), Parameters: map[string]string{}, Meta: map[string]string{}}
			if op.ResourceId == "" {
				op.ResourceId = agent.GetType()
			}
			for _, kv := range params {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("--param %q: want NAME=VALUE", kv)
				}
				op.Parameters[k] = v
			}
			for _, kv := range meta {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("--meta %q: want NAME=VALUE", kv)
				}
				op.Meta[k] = v
			}
			conn, err := g.dial("vigil-lrmd")
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout+30*time.Second)
			defer cancel()
			resp, err := lrmv1.NewExecutorServiceClient(conn).Exec(ctx, &lrmv1.ExecRequest{Operation: op})
			if err != nil {
				return fmt.Errorf("vigil-lrmd could not run %s %s: %w", args[0], action, err)
			}
			r := resp.GetResult()
			if output == "json" {
				if err := writeProtoJSON(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s on %s: %s, exit code %d", args[0], action, op.GetResourceId(), statusName(r.GetStatus()), r.GetExitCode())
				if r.GetExitReason() != "" {
					fmt.Fprintf(cmd.OutOrStdout(), " (%s)", r.GetExitReason())
				}
				fmt.Fprintf(cmd.OutOrStdout(), ", %v\n", r.GetExecTime().AsDuration().Round(time.Millisecond))
				if out := strings.TrimSpace(r.GetOutput()); out != "" {
					fmt.Fprintln(cmd.OutOrStdout(), out)
				}
			}
			if r.GetStatus() != lrmv1.Status_STATUS_DONE || r.GetExitCode() != 0 {
				return &exitError{code: 1, err: fmt.Errorf("%s %s did not succeed", args[0], action)}
			}
			return nil
		},
	}
	exec.Flags().StringVar(&action, "action", "monitor", "start, stop, monitor, promote, demote, reload, validate-all, meta-data ...")
	exec.Flags().StringVar(&resource, "resource", "", "resource id (OCF_RESOURCE_INSTANCE); default: the agent type")
	exec.Flags().StringArrayVar(&params, "param", nil, "instance attribute NAME=VALUE (repeatable)")
	exec.Flags().StringArrayVar(&meta, "meta", nil, "meta attribute NAME=VALUE (repeatable)")
	exec.Flags().DurationVar(&timeout, "timeout", 20*time.Second, "operation timeout")
	exec.Flags().DurationVar(&interval, "interval", 0, "with an interval, arm a recurring operation")
	exec.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.AddCommand(exec)
	return cmd
}

func statusName(s lrmv1.Status) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.String(), "STATUS_")), "_", " ")
}
