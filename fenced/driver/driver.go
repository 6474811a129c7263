// Package driver runs a fencing device's actions through its driver: a
// standard fence agent (fence_*, through fenced/fenceagent) or a go-plugin
// STONITH plugin (plugin:NAME, built on plugins/sdk). Every action has a
// deadline; a driver that passes it is killed with its whole process group
// and the action fails. No error, crash or timeout is ever reported as a
// success.
package driver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/vigil-ha/vigil/fenced/fenceagent"
	"github.com/vigil-ha/vigil/internal/pluginsum"
	"github.com/vigil-ha/vigil/plugins/sdk"
)

// PluginPrefix marks a device agent that is a STONITH plugin.
const PluginPrefix = "plugin:"

// ErrNotInstalled: the agent or plugin is not on this node.
var ErrNotInstalled = errors.New("fence driver not installed")

// Config says where drivers are.
type Config struct {
	// AgentDir holds the fence agents (fenceagent.DefaultDir).
	AgentDir string
	// PluginDir holds the STONITH plugins.
	PluginDir string
	// ChecksumFile, when set, lists the SHA-256 of every plugin allowed
	// to run (internal/pluginsum); others are refused.
	ChecksumFile string
	Logger       *slog.Logger
}

// Drivers runs device actions. It is safe for concurrent use.
type Drivers struct {
	cfg Config

	mu   sync.Mutex
	args map[string]string // host argument of each fence agent, from its metadata
}

// New returns the drivers of cfg.
func New(cfg Config) *Drivers {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Drivers{cfg: cfg, args: map[string]string{}}
}

var pluginRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)

// Check reports whether agent is installed on this node.
func (d *Drivers) Check(agent string) error {
	if name, ok := strings.CutPrefix(agent, PluginPrefix); ok {
		_, err := d.pluginPath(name)
		return err
	}
	if _, err := fenceagent.Find(d.cfg.AgentDir, agent); err != nil {
		return fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	return nil
}

func (d *Drivers) pluginPath(name string) (string, error) {
	if !pluginRE.MatchString(name) {
		return "", fmt.Errorf("%w: %q is not a plugin name", ErrNotInstalled, name)
	}
	path := filepath.Join(d.cfg.PluginDir, name)
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%w: no executable STONITH plugin %s", ErrNotInstalled, path)
	}
	return path, nil
}

// deviceParams are the parameters a driver sees: Pacemaker's own pcmk_*
// parameters are the cluster's, not the device's.
func deviceParams(params map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range params {
		if !strings.HasPrefix(k, "pcmk_") {
			out[k] = v
		}
	}
	return out
}

// Fence runs action (off, on, reboot) on port (the target as the device
// names it) until ctx's deadline, and returns the driver's message.
func (d *Drivers) Fence(ctx context.Context, agent string, params map[string]string, port, action string) (string, error) {
	if name, ok := strings.CutPrefix(agent, PluginPrefix); ok {
		var msg string
		err := d.withPlugin(ctx, name, func(ctx context.Context, c *sdk.StonithClient, timeout time.Duration) error {
			var err error
			msg, err = c.Fence(ctx, deviceParams(params), port, action, timeout)
			return err
		})
		return msg, err
	}
	r, err := d.runAgent(ctx, agent, params, port, action)
	if err != nil {
		return "", err
	}
	return r.Output, nil
}

// Status reports whether port is powered on.
func (d *Drivers) Status(ctx context.Context, agent string, params map[string]string, port string) (bool, error) {
	if name, ok := strings.CutPrefix(agent, PluginPrefix); ok {
		var on bool
		err := d.withPlugin(ctx, name, func(ctx context.Context, c *sdk.StonithClient, timeout time.Duration) error {
			var err error
			on, err = c.Status(ctx, deviceParams(params), port, timeout)
			return err
		})
		return on, err
	}
	r, err := d.runAgent(ctx, agent, params, port, fenceagent.ActionStatus)
	if err != nil {
		return false, err
	}
	return r.Power == fenceagent.PowerOn, nil
}

// List returns the targets the device can fence.
func (d *Drivers) List(ctx context.Context, agent string, params map[string]string) ([]string, error) {
	if name, ok := strings.CutPrefix(agent, PluginPrefix); ok {
		var targets []string
		err := d.withPlugin(ctx, name, func(ctx context.Context, c *sdk.StonithClient, timeout time.Duration) error {
			var err error
			targets, err = c.List(ctx, deviceParams(params), timeout)
			return err
		})
		return targets, err
	}
	r, err := d.runAgent(ctx, agent, params, "", fenceagent.ActionList)
	if err != nil {
		return nil, err
	}
	return r.Targets, nil
}

// runAgent runs a fence agent action and turns every failure into an
// error that says what happened.
func (d *Drivers) runAgent(ctx context.Context, agent string, params map[string]string, port, action string) (fenceagent.Result, error) {
	a, err := fenceagent.Find(d.cfg.AgentDir, agent)
	if err != nil {
		return fenceagent.Result{}, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	p := deviceParams(params)
	if port != "" {
		if arg := d.hostArgument(ctx, a, params); arg != "" {
			p[arg] = port
		}
	}
	r, err := a.Run(ctx, action, p)
	switch {
	case err != nil:
		return r, err
	case r.TimedOut:
		return r, fmt.Errorf("%s", r.Output)
	case !r.OK:
		return r, fmt.Errorf("%s %s failed (exit code %d): %s", agent, action, r.ExitCode, lastLines(r.Output, 5))
	}
	return r, nil
}

// hostArgument is the parameter that names the target to a fence agent:
// pcmk_host_argument, else plug or port when the agent's metadata has
// one (Pacemaker's default), else none.
func (d *Drivers) hostArgument(ctx context.Context, a fenceagent.Agent, params map[string]string) string {
	if v, ok := params["pcmk_host_argument"]; ok {
		if v == "none" {
			return ""
		}
		return v
	}
	d.mu.Lock()
	arg, ok := d.args[a.Path]
	d.mu.Unlock()
	if ok {
		return arg
	}
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	md, _, err := a.Metadata(mctx)
	if err != nil {
		d.cfg.Logger.Warn("fence agent metadata failed; passing the target as plug", "agent", a.Name, "err", err)
		return "plug"
	}
	for _, p := range md.Parameters {
		if p.Name == "plug" || p.Name == "port" {
			arg = p.Name
			break
		}
	}
	d.mu.Lock()
	d.args[a.Path] = arg
	d.mu.Unlock()
	return arg
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// withPlugin starts the plugin, calls call and ends the plugin. The
// call's own deadline is later than ctx's, so that this side alone
// decides a timeout: at ctx's deadline the plugin's process group is
// killed and the action fails with a timeout.
func (d *Drivers) withPlugin(ctx context.Context, name string, call func(context.Context, *sdk.StonithClient, time.Duration) error) error {
	path, err := d.pluginPath(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// Earlier steps used the time: acting now could fence after the
		// request was given up.
		return fmt.Errorf("plugin %s not started: its deadline had passed before its turn: %w", name, err)
	}
	sec, err := pluginsum.SecureConfig(d.cfg.ChecksumFile, name, path)
	if err != nil {
		return err
	}
	var timeout time.Duration
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	cmd := exec.Command(path)
	// Pdeathsig: a plugin outlives a daemon that was killed (nobody is
	// left to end it; it waits for calls forever), so the kernel ends it
	// with its parent. What the plugin started itself (a daemonised
	// service) is not affected: the setting is not inherited over fork.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr := &tail{max: 4 << 10}
	startTimeout := 10 * time.Second
	if timeout > 0 && timeout < startTimeout {
		startTimeout = timeout + 100*time.Millisecond
	}
	gp := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.StonithHandshake,
		VersionedPlugins: sdk.StonithClientPlugins(),
		Cmd:              cmd,
		SecureConfig:     sec,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     startTimeout,
		Logger:           hclog.NewNullLogger(),
		Stderr:           stderr,
		SyncStderr:       stderr,
		SyncStdout:       stderr,
	})
	kill := func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		gp.Kill()
	}
	if _, err := gp.Start(); err != nil {
		kill()
		if ctx.Err() != nil {
			return timedOut(name, timeout)
		}
		return fmt.Errorf("plugin %s did not start as a STONITH plugin: %v%s", name, err, stderr.suffix())
	}
	rpc, err := gp.Client()
	if err != nil {
		kill()
		return fmt.Errorf("plugin %s: connect: %v", name, err)
	}
	raw, err := rpc.Dispense(sdk.StonithPluginName)
	if err != nil {
		kill()
		return fmt.Errorf("plugin %s is not a STONITH plugin: %v", name, err)
	}
	client := raw.(*sdk.StonithClient)
	callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if dl, ok := ctx.Deadline(); ok {
		callCtx, cancel = context.WithDeadline(context.WithoutCancel(ctx), dl.Add(5*time.Second))
	}
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(callCtx, client, timeout) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		kill()
		<-done
		return timedOut(name, timeout)
	}
	if err != nil {
		if exited(cmd) {
			kill()
			return fmt.Errorf("plugin %s crashed (the process exited): %v%s", name, err, stderr.suffix())
		}
		kill()
		return fmt.Errorf("plugin %s: %v", name, err)
	}
	gp.Kill()
	return nil
}

func timedOut(name string, timeout time.Duration) error {
	return fmt.Errorf("plugin %s timed out after %v; the plugin process and its process group were killed", name, timeout.Round(100*time.Millisecond))
}

// exited reports whether the plugin process has ended (it crashed).
func exited(cmd *exec.Cmd) bool {
	if cmd.Process == nil {
		return true
	}
	for range 20 {
		// Signal 0 fails once the process is gone (go-plugin reaps it).
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	return " (plugin stderr: " + lastLines(s, 3) + ")"
}
