// Package plugin is vigil-lrmd's "plugin" class of resource agents: Go (or
// any gRPC) programs built on plugins/sdk, run as hashicorp/go-plugin
// subprocesses over gRPC with automatic mutual TLS.
//
// Agents are the executable files of one directory; a file's name is the
// agent type (plugin::dummy is Dir/dummy) and the class has no providers.
// When a checksum file is configured, a binary runs only if its SHA-256
// digest is listed there.
//
// Every operation starts its own plugin process and ends it when the
// operation is over. A cached process per type would save the start-up
// (a few milliseconds of exec and TLS handshake) but would make one
// resource's timeout, which kills the process, fail the operations of
// every other resource of the same type in flight at that moment, and a
// crash would need restart bookkeeping; a process per operation matches
// how OCF scripts are run, isolates resources from each other, and
// upgrading a plugin binary takes effect at the next operation. Resources
// that must outlive an operation (daemons) are started detached by the
// agent, as OCF agents do.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/internal/pluginsum"
	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/plugins/sdk"
)

// ClassName is the class name of plugin agents in the CIB.
const ClassName = "plugin"

// Config configures the plugin class.
type Config struct {
	// Dir holds the plugin binaries; a file's name is its agent type.
	Dir string
	// ChecksumFile, when set, is a SHA256SUMS file in sha256sum's format
	// ("<64 hex digits>  <name>" per line, names relative to Dir; lines
	// starting with # are comments). It is read at every plugin start, so
	// it can be updated without restarting vigil-lrmd. With it set, a
	// plugin not listed, or whose digest differs, is refused.
	ChecksumFile string
	// StartTimeout bounds a plugin's start-up (exec to handshake) within
	// the operation's own timeout.
	StartTimeout time.Duration
	// DefaultTimeout bounds operations and meta-data calls that come
	// without a timeout or deadline.
	DefaultTimeout time.Duration
	// MaxOutput bounds Result.Output in bytes.
	MaxOutput int
}

// DefaultConfig returns the defaults: plugins in /usr/lib/vigil/plugins,
// no checksum file.
func DefaultConfig() Config {
	return Config{
		Dir:            "/usr/lib/vigil/plugins",
		StartTimeout:   10 * time.Second,
		DefaultTimeout: 20 * time.Second,
		MaxOutput:      64 << 10,
	}
}

// Validate returns every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("plugin: dir: must be set"))
	} else if !filepath.IsAbs(c.Dir) {
		errs = append(errs, fmt.Errorf("plugin: dir: %q is not an absolute path", c.Dir))
	}
	if c.ChecksumFile != "" && !filepath.IsAbs(c.ChecksumFile) {
		errs = append(errs, fmt.Errorf("plugin: checksum_file: %q is not an absolute path", c.ChecksumFile))
	}
	if c.StartTimeout <= 0 {
		errs = append(errs, fmt.Errorf("plugin: start_timeout: %v must be positive", c.StartTimeout))
	}
	if c.DefaultTimeout <= 0 {
		errs = append(errs, fmt.Errorf("plugin: default_timeout: %v must be positive", c.DefaultTimeout))
	}
	if c.MaxOutput <= 0 {
		errs = append(errs, fmt.Errorf("plugin: max_output: %d must be positive", c.MaxOutput))
	}
	return errors.Join(errs...)
}

// Sentinel errors, wrapped with the plugin's name.
var (
	// ErrChecksum: the binary's SHA-256 digest is not the configured one,
	// or the binary is not listed in the checksum file.
	ErrChecksum = pluginsum.ErrMismatch
	// ErrNotPlugin: the binary did not complete the go-plugin handshake.
	ErrNotPlugin = errors.New("not a Vigil agent plugin")
)

// Class runs plugin agents. It is safe for concurrent use.
type Class struct {
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	meta map[string]cachedInfo // by path
}

type cachedInfo struct {
	size    int64
	modTime time.Time
	info    sdk.Info
}

var _ agent.Class = (*Class)(nil)

// New returns the plugin class. The directory need not exist yet:
// Available reports it.
func New(cfg Config, logger *slog.Logger) (*Class, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Class{cfg: cfg, log: logger.With("class", ClassName), meta: map[string]cachedInfo{}}, nil
}

// Name returns "plugin".
func (c *Class) Name() string { return ClassName }

// Available reports whether the plugin directory exists.
func (c *Class) Available() error {
	fi, err := os.Stat(c.cfg.Dir)
	if err != nil {
		return fmt.Errorf("plugin directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("plugin directory %s is not a directory", c.cfg.Dir)
	}
	return nil
}

// Providers returns nil: plugin agents have no providers.
func (c *Class) Providers() ([]string, error) { return nil, nil }

// Agents lists the executable regular files of the plugin directory,
// sorted. provider must be empty.
func (c *Class) Agents(provider string) ([]string, error) {
	if provider != "" {
		return nil, fmt.Errorf("plugin: provider %q: the plugin class has no providers: %w", provider, agent.ErrNotInstalled)
	}
	entries, err := os.ReadDir(c.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("plugin: list %s: %w", c.cfg.Dir, err)
	}
	var out []string
	for _, e := range entries {
		if !validType(e.Name()) {
			continue
		}
		if _, err := c.binary(e.Name()); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

var typeRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)

func validType(t string) bool { return typeRE.MatchString(t) }

// binary returns the path of agent typ, or an error wrapping
// agent.ErrNotInstalled.
func (c *Class) binary(typ string) (string, error) {
	if !validType(typ) {
		return "", fmt.Errorf("plugin: %q is not a valid agent type: %w", typ, agent.ErrNotInstalled)
	}
	path := filepath.Join(c.cfg.Dir, typ)
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("plugin: %s: %w", typ, agent.ErrNotInstalled)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("plugin: %s is not an executable file: %w", path, agent.ErrNotInstalled)
	}
	return path, nil
}

// Metadata returns OCF meta-data XML built from the agent's Info. The Info
// is cached until the binary changes.
func (c *Class) Metadata(ctx context.Context, provider, typ string) ([]byte, error) {
	if provider != "" {
		return nil, fmt.Errorf("plugin: provider %q: the plugin class has no providers: %w", provider, agent.ErrNotInstalled)
	}
	info, err := c.info(ctx, typ)
	if err != nil {
		return nil, err
	}
	return metadataXML(typ, info)
}

func (c *Class) info(ctx context.Context, typ string) (sdk.Info, error) {
	path, err := c.binary(typ)
	if err != nil {
		return sdk.Info{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return sdk.Info{}, fmt.Errorf("plugin: %s: %w", typ, err)
	}
	c.mu.Lock()
	ci, ok := c.meta[path]
	c.mu.Unlock()
	if ok && ci.size == fi.Size() && ci.modTime.Equal(fi.ModTime()) {
		return ci.info, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.DefaultTimeout)
		defer cancel()
	}
	p, err := c.start(ctx, typ, path)
	if err != nil {
		return sdk.Info{}, err
	}
	info, err := p.client.Info(ctx)
	if err != nil {
		p.kill()
		return sdk.Info{}, fmt.Errorf("plugin: %s: meta-data: %w%s", typ, err, p.stderrSuffix())
	}
	p.stop()
	c.mu.Lock()
	c.meta[path] = cachedInfo{size: fi.Size(), modTime: fi.ModTime(), info: info}
	c.mu.Unlock()
	return info, nil
}

// Exec runs op in a new plugin process; see the package comment.
func (c *Class) Exec(ctx context.Context, op agent.Operation) agent.Result {
	started := time.Now()
	res := c.exec(ctx, op)
	res.Started = started
	res.ExecTime = time.Since(started)
	if len(res.Output) > c.cfg.MaxOutput {
		res.Output = res.Output[:c.cfg.MaxOutput] + "\n[output truncated]"
	}
	return res
}

func (c *Class) exec(ctx context.Context, op agent.Operation) agent.Result {
	if op.Provider != "" {
		return agent.Result{Status: agent.StatusNotInstalled,
			Output: fmt.Sprintf("plugin:%s:%s: the plugin class has no providers", op.Provider, op.Type)}
	}
	path, err := c.binary(op.Type)
	if err != nil {
		return agent.Result{Status: agent.StatusNotInstalled, Output: err.Error()}
	}
	timeout := op.Timeout
	if timeout <= 0 {
		if _, ok := ctx.Deadline(); !ok {
			timeout = c.cfg.DefaultTimeout
		}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if op.Action == "meta-data" {
		md, err := c.Metadata(ctx, "", op.Type)
		if err != nil {
			return c.failed(ctx, op, err)
		}
		return agent.Result{Status: agent.StatusDone, Output: string(md)}
	}

	p, err := c.start(ctx, op.Type, path)
	if err != nil {
		return c.failed(ctx, op, err)
	}
	// The call itself gets a later deadline than the operation: gRPC
	// passes deadlines on, and a plugin that honours its own would answer
	// at the very moment this side times out, so which of the two wins
	// would be a race. This side's timer alone decides; the plugin is
	// killed when it fires.
	type answer struct {
		resp sdk.Response
		err  error
	}
	callCtx, cancelCall := context.WithCancel(context.WithoutCancel(ctx))
	if deadline, ok := ctx.Deadline(); ok {
		callCtx, cancelCall = context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(pluginCallGrace))
	}
	defer cancelCall()
	answered := make(chan answer, 1)
	go func() {
		resp, err := p.client.Execute(callCtx, sdk.Request{
			Action:     op.Action,
			ResourceID: op.ResourceID,
			Params:     op.Params,
			Meta:       op.Meta,
			Timeout:    timeout,
			Interval:   op.Interval,
		})
		answered <- answer{resp, err}
	}()
	var resp sdk.Response
	select {
	case a := <-answered:
		resp, err = a.resp, a.err
	case <-ctx.Done():
		p.kill()
		<-answered
		return c.failed(ctx, op, ctx.Err())
	}
	if err != nil {
		if ctx.Err() != nil {
			// The plugin may be stuck: do not wait for a graceful exit.
			p.kill()
			return c.failed(ctx, op, err)
		}
		p.kill()
		c.log.Warn("plugin failed during operation", "type", op.Type, "action", op.Action, "resource", op.ResourceID, "error", err)
		return agent.Result{Status: agent.StatusError,
			Output: fmt.Sprintf("plugin %s failed during %s (the process exited or broke the connection): %v%s",
				op.Type, op.Action, errorText(err), p.stderrSuffix())}
	}
	p.stop()
	return agent.Result{
		Status:     agent.StatusDone,
		ExitCode:   int(resp.Code),
		ExitReason: resp.Reason,
		Output:     resp.Output,
	}
}

// pluginCallGrace is how much later than the operation's timeout the call
// to the plugin times out; see Exec.
const pluginCallGrace = 5 * time.Second

// failed turns an error of starting or talking to a plugin into a Result:
// timed out or cancelled when ctx ended, otherwise an error.
func (c *Class) failed(ctx context.Context, op agent.Operation, err error) agent.Result {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return agent.Result{Status: agent.StatusTimedOut,
			Output: fmt.Sprintf("plugin %s: %s timed out (timeout %v); the plugin process and its process group were killed", op.Type, op.Action, op.Timeout)}
	case ctx.Err() != nil:
		return agent.Result{Status: agent.StatusCancelled,
			Output: fmt.Sprintf("plugin %s: %s cancelled; the plugin process was killed", op.Type, op.Action)}
	case errors.Is(err, agent.ErrNotInstalled):
		return agent.Result{Status: agent.StatusNotInstalled, Output: err.Error()}
	}
	c.log.Warn("plugin operation failed", "type", op.Type, "action", op.Action, "resource", op.ResourceID, "error", err)
	return agent.Result{Status: agent.StatusError, Output: err.Error()}
}

// errorText is a gRPC error's message without the status prefix.
func errorText(err error) string {
	if s, ok := status.FromError(errors.Unwrap(err)); ok && s.Code() != codes.Unknown {
		return s.Message()
	}
	return err.Error()
}

// proc is one running plugin process.
type proc struct {
	client *sdk.Client
	gp     *goplugin.Client
	cmd    *exec.Cmd
	stderr *tailBuffer
}

// start verifies, starts and connects to the plugin at path. On error
// nothing is left running.
func (c *Class) start(ctx context.Context, typ, path string) (*proc, error) {
	sec, err := c.secureConfig(typ, path)
	if err != nil {
		return nil, err
	}
	startTimeout := c.cfg.StartTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < startTimeout {
		// A little past the deadline, so that a plugin silent until then
		// is reported as the operation's timeout, not as a failed start.
		startTimeout = time.Until(dl) + 100*time.Millisecond
	}
	cmd := exec.Command(path)
	// Its own process group, so a timeout kills whatever the plugin
	// started too (agents detach long-lived daemons into their own
	// session, as OCF agents do).
	// Pdeathsig: a plugin outlives a daemon that was killed (nobody is
	// left to end it; it waits for calls forever), so the kernel ends it
	// with its parent. What the plugin started itself (a daemonised
	// service) is not affected: the setting is not inherited over fork.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr := &tailBuffer{max: 4 << 10}
	gp := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.ClientPlugins(),
		Cmd:              cmd,
		SecureConfig:     sec,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     startTimeout,
		Logger:           newHCLogger(c.log.With("plugin", typ)),
		// Lines the plugin writes to stderr after the handshake come
		// over go-plugin's stdio stream, earlier ones over the pipe.
		Stderr:     stderr,
		SyncStderr: stderr,
		SyncStdout: stderr,
	})
	p := &proc{gp: gp, cmd: cmd, stderr: stderr}
	if _, err := gp.Start(); err != nil {
		p.kill()
		if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
			return nil, fmt.Errorf("plugin: %s: refused: the binary changed since its checksum was read: %w", path, ErrChecksum)
		}
		return nil, fmt.Errorf("plugin: %s: %w: the handshake failed (is it built with plugins/sdk, protocol %d?): %v%s",
			path, ErrNotPlugin, sdk.ProtocolVersion, err, p.stderrSuffix())
	}
	rpc, err := gp.Client()
	if err != nil {
		p.kill()
		return nil, fmt.Errorf("plugin: %s: connect: %w", path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		p.kill()
		return nil, fmt.Errorf("plugin: %s: %w: %v", path, ErrNotPlugin, err)
	}
	cl, ok := raw.(*sdk.Client)
	if !ok {
		p.kill()
		return nil, fmt.Errorf("plugin: %s: %w: dispensed %T", path, ErrNotPlugin, raw)
	}
	p.client = cl
	return p, nil
}

// stop ends the plugin gracefully (go-plugin waits up to 2 s before it
// kills).
func (p *proc) stop() { p.gp.Kill() }

// kill ends the plugin's whole process group at once, then lets go-plugin
// clean up.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	p.gp.Kill()
}

func (p *proc) stderrSuffix() string {
	s := strings.TrimSpace(p.stderr.String())
	if s == "" {
		return ""
	}
	return "\nplugin stderr:\n" + s
}

// secureConfig returns go-plugin's check of the binary against the
// configured checksum file, or nil when none is configured.
func (c *Class) secureConfig(typ, path string) (*goplugin.SecureConfig, error) {
	return pluginsum.SecureConfig(c.cfg.ChecksumFile, typ, path)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
