// Package daemon is the one way a Vigil daemon starts and stops: it loads
// the configuration, finds the local node, sets up logging, tracing and the
// mutual-TLS gRPC server, serves, tells systemd when it is ready, and stops
// gracefully on SIGTERM or SIGINT.
package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"

	"github.com/vigil-ha/vigil/internal/auth"
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/logging"
	"github.com/vigil-ha/vigil/internal/pki"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	"github.com/vigil-ha/vigil/internal/telemetry"
)

// DefaultConfigPath is where daemons read their configuration unless
// --config says otherwise.
const DefaultConfigPath = "/etc/vigil/vigil.conf"

// DefaultPKIDir is where node certificates are looked for when the tls
// section of the configuration does not name them.
const DefaultPKIDir = "/etc/vigil/pki"

// stopTimeout bounds the graceful stop: calls still running after it are cut.
const stopTimeout = 10 * time.Second

// Env is what a daemon's services are built from.
type Env struct {
	Config *config.Config
	// Node is this node's entry in the nodelist.
	Node   config.Node
	Logger *slog.Logger
	// TLS is this node's identity, for calling other daemons.
	TLS pki.Files
	// Fail stops the daemon with err: for work started by Start that
	// cannot go on (the daemon exits 1).
	Fail func(err error)
	// OnStop registers f to run when a stop is asked (SIGTERM, SIGINT),
	// before the API stops serving and the work context ends: the daemon
	// is still whole while f runs. f must return by itself in bounded
	// time (vigil-crmd moves its resources away first). The last
	// registration wins; nil in tests that build an Env by hand.
	OnStop func(f func(ctx context.Context))
}

// Spec describes one daemon.
type Spec struct {
	// Name is the binary's name, e.g. "vigil-lrmd".
	Name string
	// Listen returns the address of the daemon's gRPC API.
	Listen func(*config.Config) string
	// Start registers the daemon's services on srv. Work it starts must
	// stop when ctx is cancelled, which happens after the server stopped.
	Start func(ctx context.Context, env Env, srv *rpcserver.Server) error
	// MaxRecvMsgSize is the largest request the API accepts; zero keeps
	// gRPC's default of 4 MiB. vigil-crmd raises it for whole CIBs.
	MaxRecvMsgSize int
}

// Main runs the daemon described by spec with the process's arguments and
// exits: 0 after a clean stop, 1 on a runtime failure, 2 on bad usage or
// configuration.
func Main(spec Spec) {
	os.Exit(Run(context.Background(), spec, os.Args[1:], os.Stderr))
}

// Run is Main without the exit, for tests.
func Run(ctx context.Context, spec Spec, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(spec.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", DefaultConfigPath, "path of the cluster configuration (corosync.conf syntax)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", spec.Name, err)
		return 2
	}
	node, err := LocalNode(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s: %v\n", spec.Name, *configPath, err)
		return 2
	}
	log, logCloser, err := logging.New(cfg.Logging, stderr, spec.Name, node.Name)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", spec.Name, err)
		return 2
	}
	defer logCloser.Close()
	for _, ig := range cfg.Ignored {
		log.Info("configuration key ignored", "file", ig.File, "line", ig.Line, "key", ig.Key, "why", ig.Why)
	}
	for _, w := range cfg.Warnings {
		log.Warn("configuration", "file", w.File, "line", w.Line, "key", w.Key, "problem", w.Msg)
	}
	if dir := os.Getenv("VIGIL_CPU_PROFILE_DIR"); dir != "" {
		// A debugging knob for benchmarks: profile the whole run.
		stop, err := StartCPUProfile(filepath.Join(dir, spec.Name+"-"+node.Name+".pprof"))
		if err != nil {
			log.Warn("cpu profile", "err", err)
		} else {
			defer stop()
		}
	}
	if err := serve(ctx, spec, cfg, node, log); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func serve(ctx context.Context, spec Spec, cfg *config.Config, node config.Node, log *slog.Logger) error {
	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()

	shutdownTracing, err := telemetry.Setup(ctx, spec.Name, node.Name)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(flushCtx); err != nil {
			log.Warn("flushing traces", "err", err)
		}
	}()

	files := TLSFiles(cfg, node)
	tlsCfg, err := pki.ServerTLS(files)
	if err != nil {
		return err
	}
	authz := auth.NewAuthorizer(func(name string) bool {
		_, ok := cfg.NodeByName(name)
		return ok
	})
	srv, err := rpcserver.New(rpcserver.Options{TLS: tlsCfg, Authorizer: authz, Logger: log, MaxRecvMsgSize: spec.MaxRecvMsgSize})
	if err != nil {
		return err
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	failed := make(chan error, 1)
	fail := func(err error) {
		select {
		case failed <- err:
		default:
		}
	}
	var onStop func(ctx context.Context)
	env := Env{Config: cfg, Node: node, Logger: log, TLS: files, Fail: fail,
		OnStop: func(f func(ctx context.Context)) { onStop = f }}
	if err := spec.Start(workCtx, env, srv); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	addr := spec.Listen(cfg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	srv.Serving()
	log.Info("serving", "address", ln.Addr().String(), "config", cfg.File, "tracing", telemetry.Enabled())
	notify(log, sddaemon.SdNotifyReady)

	var failure error
	select {
	case <-ctx.Done():
		log.Info("stopping", "reason", context.Cause(ctx))
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case failure = <-failed:
		log.Error("stopping after a failure", "err", failure)
	}
	notify(log, sddaemon.SdNotifyStopping)
	if onStop != nil && failure == nil {
		onStop(workCtx)
	}
	srv.Stop(stopTimeout)
	stopWork()
	if failure != nil {
		<-served
		return failure
	}
	if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// StartCPUProfile writes a CPU profile of this process to path until the
// returned function is called.
func StartCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// notify tells systemd about a state change; outside systemd
// (NOTIFY_SOCKET unset) it does nothing.
func notify(log *slog.Logger, state string) {
	if _, err := sddaemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify", "state", state, "err", err)
	}
}

// TLSFiles returns the certificate files of node: those the tls section
// names, or node-NAME.crt/.key beside ca.crt in DefaultPKIDir.
func TLSFiles(cfg *config.Config, node config.Node) pki.Files {
	def := pki.FilesFor(DefaultPKIDir, pki.RoleNode, node.Name)
	f := pki.Files{CA: cfg.TLS.CA, Cert: cfg.TLS.Cert, Key: cfg.TLS.Key}
	if f.CA == "" {
		f.CA = def.CA
	}
	if f.Cert == "" {
		f.Cert = def.Cert
	}
	if f.Key == "" {
		f.Key = def.Key
	}
	return f
}
