package classes

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/ocf"
)

// DefaultOCFRoot is where OCF agents live unless configured otherwise.
const DefaultOCFRoot = "/usr/lib/ocf"

// OCFConfig configures the ocf class.
type OCFConfig struct {
	// Root is OCF_ROOT; DefaultOCFRoot when empty.
	Root string
	RunConfig
}

// OCF is the ocf class: agents at $OCF_ROOT/resource.d/PROVIDER/TYPE, run
// with the OCF environment. It is safe for concurrent use.
type OCF struct {
	cfg OCFConfig
}

var _ agent.Class = (*OCF)(nil)

// NewOCF returns the ocf class for cfg.
func NewOCF(cfg OCFConfig) *OCF {
	if cfg.Root == "" {
		cfg.Root = DefaultOCFRoot
	}
	return &OCF{cfg: cfg}
}

// Name returns "ocf".
func (c *OCF) Name() string { return "ocf" }

// Root returns the class's OCF_ROOT.
func (c *OCF) Root() string { return c.cfg.Root }

func (c *OCF) agentsDir() string { return filepath.Join(c.cfg.Root, "resource.d") }

// Available reports an error when $OCF_ROOT/resource.d cannot be read.
func (c *OCF) Available() error {
	if err := accessible(c.agentsDir()); err != nil {
		return fmt.Errorf("ocf: %w", err)
	}
	return nil
}

// Providers lists the directories under $OCF_ROOT/resource.d.
func (c *OCF) Providers() ([]string, error) {
	return listDir(c.agentsDir(), isDir)
}

// Agents lists the executable files of a provider; files that are not
// executable (e.g. the heartbeat provider's shell function libraries) are
// not agents.
func (c *OCF) Agents(provider string) ([]string, error) {
	if !validName(provider) {
		return nil, fmt.Errorf("ocf: provider %q: %w", provider, agent.ErrNotInstalled)
	}
	return listDir(filepath.Join(c.agentsDir(), provider), executable)
}

// AgentPath returns where the agent provider:typ lives, and whether it is
// there and executable.
func (c *OCF) AgentPath(provider, typ string) (string, bool) {
	if !validName(provider) || !validName(typ) {
		return "", false
	}
	p := filepath.Join(c.agentsDir(), provider, typ)
	return p, executable(p)
}

// MetadataTimeout bounds a meta-data action when ctx has no deadline.
const MetadataTimeout = 30 * time.Second

// Metadata runs the agent's meta-data action and returns its stdout.
func (c *OCF) Metadata(ctx context.Context, provider, typ string) ([]byte, error) {
	name := "ocf:" + provider + ":" + typ
	path, ok := c.AgentPath(provider, typ)
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, agent.ErrNotInstalled)
	}
	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, MetadataTimeout)
		defer cancel()
	}
	op := agent.Operation{Class: "ocf", Provider: provider, Type: typ, Action: "meta-data"}
	res, stdout := c.cfg.runStdout(ctx, path, op.Action, c.Env(op), func(code int) int { return code })
	switch {
	case res.Status != agent.StatusDone:
		return nil, fmt.Errorf("%s: meta-data %s: %s", name, res.Status, strings.TrimSpace(res.Output))
	case res.ExitCode != int(ocf.Success):
		return nil, fmt.Errorf("%s: meta-data exited %s: %s", name, ocf.ExitCode(res.ExitCode), strings.TrimSpace(res.Output))
	}
	return []byte(stdout), nil
}

// Env returns the environment the agent gets for op: the base environment,
// the OCF variables, instance attributes as OCF_RESKEY_<name> and meta
// attributes as OCF_RESKEY_CRM_meta_<name>, with '-' in names turned into
// '_' (as Pacemaker does for meta attributes; for parameters too, since
// shells drop variables whose names hold '-'), and CRM_meta_timeout and
// CRM_meta_interval in milliseconds.
func (c *OCF) Env(op agent.Operation) []string {
	env := c.cfg.baseEnv()
	env = append(env,
		"OCF_ROOT="+c.cfg.Root,
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_RESOURCE_TYPE="+op.Type,
		"OCF_RESOURCE_PROVIDER="+op.Provider,
		"OCF_EXIT_REASON_PREFIX="+ocf.ExitReasonPrefix,
	)
	if op.ResourceID != "" {
		env = append(env, "OCF_RESOURCE_INSTANCE="+op.ResourceID)
	}
	for k, v := range op.Params {
		env = append(env, "OCF_RESKEY_"+envName(k)+"="+v)
	}
	for k, v := range op.Meta {
		k = envName(k)
		if k == "timeout" || k == "interval" {
			continue
		}
		env = append(env, "OCF_RESKEY_CRM_meta_"+k+"="+v)
	}
	if op.Action != "meta-data" {
		env = append(env,
			"OCF_RESKEY_CRM_meta_timeout="+strconv.FormatInt(op.Timeout.Milliseconds(), 10),
			"OCF_RESKEY_CRM_meta_interval="+strconv.FormatInt(op.Interval.Milliseconds(), 10),
		)
	}
	return env
}

// Exec runs op's action of the agent. A missing or non-executable agent
// is StatusNotInstalled; exit codes are passed through as OCF codes (a
// monitor's 7 is a normal result: StatusDone, ExitCode 7).
func (c *OCF) Exec(ctx context.Context, op agent.Operation) agent.Result {
	path, ok := c.AgentPath(op.Provider, op.Type)
	if !ok {
		if path == "" {
			return notInstalled("ocf:%s:%s: invalid provider or agent name", op.Provider, op.Type)
		}
		return notInstalled("ocf:%s:%s: no executable agent at %s", op.Provider, op.Type, path)
	}
	if op.Action == "" {
		return agent.Result{Status: agent.StatusError, ExitCode: int(ocf.ErrGeneric), Output: "ocf: operation has no action"}
	}
	return c.cfg.run(ctx, path, op.Action, c.Env(op), func(code int) int { return code })
}

func envName(k string) string { return strings.ReplaceAll(k, "-", "_") }
