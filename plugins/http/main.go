// Command http is a resource agent that serves a small web page saying
// which node it runs on, on a configured address and port; monitor checks
// it with a real HTTP GET.
//
// The web server must keep running between operations, while vigil-lrmd
// starts a new plugin process for each operation and kills it afterwards
// (and kills its whole process group on a timeout). So start runs the
// server as a detached child, this same binary with the argument "serve",
// in its own session, and records its pid in a pidfile, as OCF agents do
// with their daemons; stop kills the pid in the pidfile.
package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-ha/vigil/plugins/sdk"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "http serve:", err)
			os.Exit(1)
		}
		return
	}
	sdk.Serve(agent{})
}

type agent struct{}

func (agent) Info() sdk.Info {
	return sdk.Info{
		Name:             "http",
		Version:          "1.0.0",
		ShortDescription: "A web page saying which node serves it",
		Description: "Serves a small HTML page on address:port naming the node it runs on. " +
			"Monitor does an HTTP GET and checks the page.",
		Parameters: []sdk.Parameter{
			{Name: "address", Description: "Address to listen on.", Default: "0.0.0.0"},
			{Name: "port", Description: "TCP port to listen on.", Type: sdk.TypeInteger, Required: true, Unique: true},
			{Name: "node", Description: "Node name shown on the page; default: the node the cluster runs it on (meta on_node), else the host name."},
			{Name: "pidfile", Description: "Pidfile of the server; default: vigil-http-RESOURCE.pid in the temporary directory.", Unique: true},
		},
		Actions: []sdk.Action{
			{Name: sdk.ActionStart, Timeout: 20 * time.Second},
			{Name: sdk.ActionStop, Timeout: 20 * time.Second},
			{Name: sdk.ActionMonitor, Timeout: 20 * time.Second, Interval: 10 * time.Second},
			{Name: sdk.ActionValidateAll, Timeout: 20 * time.Second},
		},
	}
}

type config struct {
	addr, node, pidfile string
}

func (a agent) config(req sdk.Request) (config, sdk.Response) {
	if v := sdk.Validate(a.Info(), req.Params); v.Code != sdk.Success {
		return config{}, v
	}
	p := req.Params
	port, _ := strconv.Atoi(p["port"])
	if port <= 0 || port > 65535 {
		return config{}, sdk.Fail(sdk.ErrConfigured, "port %d is out of range", port)
	}
	c := config{addr: net.JoinHostPort(p["address"], strconv.Itoa(port)), node: p["node"], pidfile: p["pidfile"]}
	if c.node == "" {
		// The cluster names the node it runs the action on.
		c.node = req.Meta["on_node"]
	}
	if c.node == "" {
		h, err := os.Hostname()
		if err != nil {
			return config{}, sdk.Fail(sdk.ErrGeneric, "hostname: %v", err)
		}
		c.node = h
	}
	if c.pidfile == "" {
		c.pidfile = filepath.Join(os.TempDir(), "vigil-http-"+filepath.Base(req.ResourceID)+".pid")
	}
	return c, sdk.OK()
}

func (a agent) Execute(ctx context.Context, req sdk.Request) sdk.Response {
	c, v := a.config(req)
	if v.Code != sdk.Success {
		return v
	}
	switch req.Action {
	case sdk.ActionValidateAll:
		return sdk.OK()
	case sdk.ActionMonitor:
		return monitor(ctx, c)
	case sdk.ActionStart:
		return start(ctx, c)
	case sdk.ActionStop:
		return stop(ctx, c)
	}
	return sdk.Fail(sdk.ErrUnimplemented, "http does not implement %s", req.Action)
}

// running returns the pid in the pidfile if that process is alive.
func running(c config) (int, bool) {
	b, err := os.ReadFile(c.pidfile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0, false
	}
	// A server that exited stays a zombie until init reaps it, and a
	// stale pidfile may name a reused pid: check state and command line.
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if _, rest, ok := strings.Cut(string(stat), ") "); ok && strings.HasPrefix(rest, "Z") {
			return 0, false
		}
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		if args := strings.Split(string(cmdline), "\x00"); len(args) < 2 || args[1] != "serve" {
			return 0, false
		}
	}
	return pid, true
}

func monitor(ctx context.Context, c config) sdk.Response {
	if _, ok := running(c); !ok {
		return sdk.Response{Code: sdk.NotRunning}
	}
	return check(ctx, c)
}

// check GETs the page and verifies it names the node.
func check(ctx context.Context, c config) sdk.Response {
	host, port, _ := net.SplitHostPort(c.addr)
	if host == "0.0.0.0" || host == "::" || host == "" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/", nil)
	if err != nil {
		return sdk.Fail(sdk.ErrGeneric, "%v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sdk.Fail(sdk.ErrGeneric, "GET %s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return sdk.Fail(sdk.ErrGeneric, "GET %s: %s", req.URL, resp.Status)
	}
	if !strings.Contains(string(body), html.EscapeString(c.node)) {
		return sdk.Fail(sdk.ErrGeneric, "GET %s: the page does not name node %s (another server on the port?)", req.URL, c.node)
	}
	return sdk.OK()
}

func start(ctx context.Context, c config) sdk.Response {
	if _, ok := running(c); ok {
		return monitor(ctx, c)
	}
	self, err := os.Executable()
	if err != nil {
		return sdk.Fail(sdk.ErrInstalled, "own executable: %v", err)
	}
	// Bind here first so a port in use fails start with a clear reason.
	l, err := net.Listen("tcp", c.addr)
	if err != nil {
		return sdk.Fail(sdk.ErrGeneric, "listen on %s: %v", c.addr, err)
	}
	f, err := l.(*net.TCPListener).File()
	l.Close()
	if err != nil {
		return sdk.Fail(sdk.ErrGeneric, "listener: %v", err)
	}
	defer f.Close()
	cmd := exec.Command(self, "serve", c.node)
	cmd.ExtraFiles = []*os.File{f} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = []string{} // not a plugin: no handshake variables
	if err := cmd.Start(); err != nil {
		return sdk.Fail(sdk.ErrGeneric, "start server: %v", err)
	}
	pid := cmd.Process.Pid
	// The server outlives this process; init reaps it.
	_ = cmd.Process.Release()
	if err := os.WriteFile(c.pidfile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return sdk.Fail(sdk.ErrPerm, "write pidfile: %v", err)
	}
	for {
		r := check(ctx, c)
		if r.Code == sdk.Success {
			return r
		}
		select {
		case <-ctx.Done():
			return r
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func stop(ctx context.Context, c config) sdk.Response {
	pid, ok := running(c)
	if !ok {
		if err := os.Remove(c.pidfile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return sdk.Fail(sdk.ErrGeneric, "remove pidfile: %v", err)
		}
		return sdk.OK()
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := running(c); !ok {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			time.Sleep(100 * time.Millisecond)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := running(c); ok {
		return sdk.Fail(sdk.ErrGeneric, "server pid %d survived SIGKILL", pid)
	}
	if err := os.Remove(c.pidfile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return sdk.Fail(sdk.ErrGeneric, "remove pidfile: %v", err)
	}
	return sdk.OK()
}

// serve is the detached server: it serves the listener passed as fd 3
// until SIGTERM.
func serve(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: http serve NODE (with the listener as fd 3)")
	}
	node := args[0]
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return err
	}
	page := fmt.Sprintf("<!DOCTYPE html>\n<html><head><title>Vigil</title></head><body><h1>Served by node %s</h1><p>a Vigil cluster resource (plugin::http)</p></body></html>\n",
		html.EscapeString(node))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, page)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signalNotify(sig)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
