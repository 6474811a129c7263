package classes

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/ocf"
)

// DefaultSystemdRuntimeDir exists exactly when systemd runs as init
// (sd_booted(3) checks the same).
const DefaultSystemdRuntimeDir = "/run/systemd/system"

// SystemdConfig configures the systemd class.
type SystemdConfig struct {
	// Systemctl is the systemctl program; "systemctl" (found on PATH)
	// when empty.
	Systemctl string
	// RuntimeDir tells whether systemd runs as init;
	// DefaultSystemdRuntimeDir when empty.
	RuntimeDir string
	RunConfig
}

// Systemd is the systemd class: units started, stopped and checked with
// systemctl, the way Pacemaker's systemd class does it through D-Bus. It is
// only available where systemd is PID 1.
type Systemd struct {
	cfg SystemdConfig
}

var _ agent.Class = (*Systemd)(nil)

// NewSystemd returns the systemd class for cfg.
func NewSystemd(cfg SystemdConfig) *Systemd {
	if cfg.Systemctl == "" {
		cfg.Systemctl = "systemctl"
	}
	if cfg.RuntimeDir == "" {
		cfg.RuntimeDir = DefaultSystemdRuntimeDir
	}
	return &Systemd{cfg: cfg}
}

// Name returns "systemd".
func (c *Systemd) Name() string { return "systemd" }

// Available reports why the class cannot run here, if it cannot.
func (c *Systemd) Available() error {
	if !isDir(c.cfg.RuntimeDir) {
		return fmt.Errorf("systemd: systemd is not running as init (PID 1) on this machine (no %s): use ocf or lsb agents here", c.cfg.RuntimeDir)
	}
	if _, err := exec.LookPath(c.cfg.Systemctl); err != nil {
		return fmt.Errorf("systemd: %s not found: %w", c.cfg.Systemctl, err)
	}
	return nil
}

// Providers returns nil: systemd has no providers.
func (c *Systemd) Providers() ([]string, error) { return nil, nil }

// Agents lists the service units systemd knows.
func (c *Systemd) Agents(string) ([]string, error) {
	if err := c.Available(); err != nil {
		return nil, err
	}
	out, err := exec.Command(c.cfg.Systemctl, "list-unit-files", "--type=service", "--no-legend", "--no-pager").Output()
	if err != nil {
		return nil, fmt.Errorf("systemd: list units: %w", err)
	}
	var units []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			units = append(units, strings.TrimSuffix(f[0], ".service"))
		}
	}
	return units, nil
}

// unit is the unit an agent type names: a bare name is a service.
func unit(typ string) string {
	if strings.Contains(typ, ".") {
		return typ
	}
	return typ + ".service"
}

// systemdVerbs maps actions to systemctl verbs.
var systemdVerbs = map[string]string{
	"start":   "start",
	"stop":    "stop",
	"reload":  "reload",
	"monitor": "is-active",
	"status":  "is-active",
}

// Exec runs one action with systemctl. monitor is `systemctl is-active`:
// active (or on its way there) is OCF_SUCCESS, anything else
// OCF_NOT_RUNNING, as Pacemaker's systemd class reports.
func (c *Systemd) Exec(ctx context.Context, op agent.Operation) agent.Result {
	if err := c.Available(); err != nil {
		return agent.Result{Status: agent.StatusNotInstalled, ExitCode: int(ocf.ErrInstalled), Output: err.Error(), Started: time.Now()}
	}
	if !validName(op.Type) {
		return notInstalled("systemd:%s: invalid unit name", op.Type)
	}
	if op.Action == "meta-data" {
		md, _ := c.Metadata(ctx, "", op.Type)
		return agent.Result{Status: agent.StatusDone, Output: string(md), Started: time.Now()}
	}
	verb, ok := systemdVerbs[op.Action]
	if !ok {
		return agent.Result{Status: agent.StatusNotSupported, ExitCode: int(ocf.ErrUnimplemented),
			Output: fmt.Sprintf("systemd:%s: action %q is not supported for systemd units", op.Type, op.Action), Started: time.Now()}
	}
	res, stdout := c.cfg.runArgs(ctx, c.cfg.Systemctl, []string{verb, unit(op.Type)}, c.cfg.baseEnv(), func(code int) int {
		if code == 0 {
			return int(ocf.Success)
		}
		if verb == "is-active" {
			return int(ocf.NotRunning)
		}
		return int(ocf.ErrGeneric)
	})
	if verb == "is-active" && res.Status == agent.StatusDone {
		switch strings.TrimSpace(stdout) {
		case "active", "activating", "reloading":
			res.ExitCode = int(ocf.Success)
		default:
			res.ExitCode = int(ocf.NotRunning)
		}
	}
	return res
}

// Metadata returns minimal OCF meta-data for a unit, as Pacemaker
// synthesizes for systemd resources.
func (c *Systemd) Metadata(_ context.Context, _, typ string) ([]byte, error) {
	if !validName(typ) {
		return nil, fmt.Errorf("systemd:%s: %w", typ, agent.ErrNotInstalled)
	}
	return fmt.Appendf(nil, `<?xml version="1.0"?>
<resource-agent name="%[1]s" version="1.0">
  <version>1.1</version>
  <longdesc lang="en">systemd unit %[2]s, started, stopped and monitored through systemctl.</longdesc>
  <shortdesc lang="en">systemd unit %[2]s</shortdesc>
  <parameters/>
  <actions>
    <action name="start" timeout="100s"/>
    <action name="stop" timeout="100s"/>
    <action name="monitor" timeout="100s" interval="60s"/>
    <action name="meta-data" timeout="5s"/>
  </actions>
</resource-agent>
`, typ, unit(typ)), nil
}
