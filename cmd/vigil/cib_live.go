package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
)

// liveTimeout bounds one call to vigil-crmd; a change waits for the crm
// group, which after a view change needs a moment to synchronise.
const liveTimeout = 30 * time.Second

// withCIB calls f with a client of the vigil-crmd the global flags name.
func withCIB(ctx context.Context, g *globalFlags, f func(context.Context, *cibclient.Client) error) error {
	conn, err := g.dial("vigil-crmd")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	return f(ctx, cibclient.New(conn))
}

// crmdError words an error of vigil-crmd for the command line.
func crmdError(what string, err error) error {
	if s, ok := status.FromError(err); ok {
		return fmt.Errorf("%s: %s (%s)", what, s.Message(), s.Code())
	}
	return fmt.Errorf("%s: %w", what, err)
}

// queryLive returns the cluster's CIB as XML.
func queryLive(ctx context.Context, g *globalFlags) ([]byte, error) {
	var xml []byte
	err := withCIB(ctx, g, func(ctx context.Context, c *cibclient.Client) error {
		var err error
		xml, _, err = c.QueryXML(ctx)
		return err
	})
	if err != nil {
		return nil, crmdError("ask vigil-crmd for the CIB", err)
	}
	return xml, nil
}

// importLive replaces the cluster's CIB with c (read from path).
func importLive(cmd *cobra.Command, g *globalFlags, path string, c *cib.CIB, ifVersion string, force bool) error {
	var expected *cib.Version
	if ifVersion != "" {
		v, err := parseVersion(ifVersion)
		if err != nil {
			return fmt.Errorf("--if-version: %w", err)
		}
		expected = &v
	}
	var v cib.Version
	err := withCIB(cmd.Context(), g, func(ctx context.Context, cl *cibclient.Client) error {
		var err error
		v, err = cl.Replace(ctx, cib.Marshal(c), expected, force)
		return err
	})
	if cibclient.IsVersionMismatch(err) {
		return &exitError{code: 1, err: crmdError("not imported, the cluster's CIB changed since "+ifVersion, err)}
	}
	if err != nil {
		return crmdError("import "+path, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "imported %s into the cluster's CIB (version %s)\n", path, v)
	return nil
}

// parseVersion reads "admin_epoch:epoch:num_updates".
func parseVersion(s string) (cib.Version, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return cib.Version{}, fmt.Errorf("%q: want admin_epoch:epoch:num_updates, e.g. 0:12:3", s)
	}
	var n [3]int64
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 {
			return cib.Version{}, fmt.Errorf("%q: %q is not a whole number", s, p)
		}
		n[i] = v
	}
	return cib.Version{AdminEpoch: n[0], Epoch: n[1], NumUpdates: n[2]}, nil
}

// exportElements prints the element with an id, or the elements a path
// names, of the live CIB (asked of vigil-crmd) or of file.
func exportElements(cmd *cobra.Command, g *globalFlags, file, id, path, format string) error {
	if format != "xml" {
		return fmt.Errorf("--id and --path print XML only")
	}
	if id != "" && path != "" {
		return fmt.Errorf("give --id or --path, not both")
	}
	var out [][]byte
	if file == "" {
		err := withCIB(cmd.Context(), g, func(ctx context.Context, c *cibclient.Client) error {
			var err error
			if id != "" {
				var x []byte
				x, _, err = c.QueryID(ctx, id)
				out = [][]byte{x}
			} else {
				out, _, err = c.QueryPath(ctx, path)
			}
			return err
		})
		if err != nil {
			return crmdError("ask vigil-crmd", err)
		}
	} else {
		c, err := readCIBFile(file)
		if err != nil {
			return err
		}
		root := c.Tree()
		var es []*cib.Element
		if id != "" {
			if e := cibsvc.FindByID(root, id); e != nil {
				es = append(es, e)
			}
		} else if es, err = cibsvc.Select(root, path); err != nil {
			return err
		}
		if len(es) == 0 {
			return fmt.Errorf("%s has nothing at %s", file, id+path)
		}
		for _, e := range es {
			out = append(out, cib.MarshalElement(e))
		}
	}
	for _, x := range out {
		if _, err := cmd.OutOrStdout().Write(x); err != nil {
			return err
		}
	}
	return nil
}
