// Package localcluster runs a whole Vigil cluster on one machine: every node
// has its own loopback address (127.A.B.N, all of 127/8 is local on Linux),
// configuration, certificates, state directory, logs and its five daemons as
// real processes. It is the one harness behind `vigil cluster up|down`, the
// end-to-end tests, the benchmarks and `vigil demo`.
//
// A cluster directory holds:
//
//	cluster.json             what runs: nodes, daemons, addresses, pids
//	pki/                     the cluster CA, node-nN, admin-admin, reader-reader
//	nodes/nN/vigil.conf      the node's configuration
//	nodes/nN/state/          its state directory
//	nodes/nN/logs/DAEMON.log each daemon's output
package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-ha/vigil/internal/pki"
)

// Daemons are the daemon binaries of a node, in the order they start: the
// layers below first, as systemd orders them.
var Daemons = []string{"vigil-messagingd", "vigil-quorumd", "vigil-lrmd", "vigil-fenced", "vigil-crmd"}

// Ports of the daemons' gRPC APIs on each node's address, in the order of
// Daemons, and the port of peer messaging between nodes.
var ports = map[string]int{
	"vigil-messagingd": 7441,
	"vigil-quorumd":    7442,
	"vigil-crmd":       7443,
	"vigil-lrmd":       7444,
	"vigil-fenced":     7445,
}

const peerPort = 5405

// Names of the identities the harness issues besides the nodes.
const (
	AdminName  = "admin"
	ReaderName = "reader"
)

// Options say what cluster to start.
type Options struct {
	// Dir is the cluster directory; it is created if missing.
	Dir string
	// Nodes is the number of nodes, 1 to 32.
	Nodes int
	// BinDir holds the vigil-* daemon binaries.
	BinDir string
	// StartTimeout bounds the wait for every daemon to report SERVING;
	// zero means 60 seconds.
	StartTimeout time.Duration
	// ClusterName is totem.cluster_name; empty means "vigil-local".
	ClusterName string
	// Quorum holds extra lines of the quorum section, e.g.
	// "wait_for_all: 1"; a cluster of two nodes gets "two_node: 1".
	Quorum []string
	// Totem holds extra lines of the totem section, e.g. "token: 300"
	// for a tuned failure detection.
	Totem []string
	// PluginDir holds the go-plugin resource agents and STONITH drivers
	// every node loads (vigil.plugin_dir); empty means BINDIR/plugins,
	// where scripts/demo.sh and the tests build the shipped plugins.
	PluginDir string
	Logger    *slog.Logger
}

// Cluster is a running local cluster, as recorded in DIR/cluster.json.
type Cluster struct {
	Dir    string   `json:"dir"`
	Name   string   `json:"name"`
	Quorum []string `json:"quorum,omitempty"`
	Totem  []string `json:"totem,omitempty"`
	// PluginDir is vigil.plugin_dir of every node.
	PluginDir string  `json:"plugin_dir,omitempty"`
	Nodes     []*Node `json:"nodes"`
}

// Node is one node of a local cluster.
type Node struct {
	Name    string    `json:"name"`
	ID      uint32    `json:"id"`
	Address string    `json:"address"`
	Config  string    `json:"config"`
	Daemons []*Daemon `json:"daemons"`
}

// Daemon is one daemon process of a node.
type Daemon struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	PID     int    `json:"pid"`
	Log     string `json:"log"`
	Binary  string `json:"binary"`
}

// ErrRunning is returned by Up when the directory has a running cluster.
var ErrRunning = errors.New("a cluster is already running there")

// ErrNotRunning is returned by Load when the directory has no cluster.
var ErrNotRunning = errors.New("no cluster is running there")

func stateFile(dir string) string { return filepath.Join(dir, "cluster.json") }

// PKIDir is the directory of the cluster's CA and certificates.
func (c *Cluster) PKIDir() string { return filepath.Join(c.Dir, "pki") }

// AdminFiles is the admin identity every harness cluster has.
func (c *Cluster) AdminFiles() pki.Files { return pki.FilesFor(c.PKIDir(), pki.RoleAdmin, AdminName) }

// ReaderFiles is the read-only identity every harness cluster has.
func (c *Cluster) ReaderFiles() pki.Files {
	return pki.FilesFor(c.PKIDir(), pki.RoleReader, ReaderName)
}

// Node returns the node called name.
func (c *Cluster) Node(name string) (*Node, bool) {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return nil, false
}

// Daemon returns the daemon called name on the node.
func (n *Node) Daemon(name string) (*Daemon, bool) {
	for _, d := range n.Daemons {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}

// Up creates (or reuses) the cluster directory, issues certificates, writes
// each node's configuration and starts every daemon of every node, then
// waits until all report SERVING. On failure it stops what it started and
// the error carries the logs of the daemons that failed.
func Up(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Nodes < 1 || opts.Nodes > 32 {
		return nil, fmt.Errorf("localcluster: --nodes %d: want 1 to 32", opts.Nodes)
	}
	if opts.Dir == "" {
		return nil, fmt.Errorf("localcluster: a cluster directory is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	if old, err := Load(dir); err == nil {
		if old.anyAlive() {
			return nil, fmt.Errorf("localcluster: %s: %w; stop it with `vigil cluster down --dir %s`", dir, ErrRunning, dir)
		}
	}
	for _, name := range Daemons {
		if _, err := os.Stat(filepath.Join(opts.BinDir, name)); err != nil {
			return nil, fmt.Errorf("localcluster: daemon binary %s not found in %s (build them with `go build -o DIR ./cmd/...`)", name, opts.BinDir)
		}
	}
	c := &Cluster{Dir: dir, Name: opts.ClusterName, Quorum: opts.Quorum, Totem: opts.Totem, PluginDir: opts.PluginDir}
	if c.Name == "" {
		c.Name = "vigil-local"
	}
	if c.PluginDir == "" {
		c.PluginDir = filepath.Join(opts.BinDir, "plugins")
	}
	if c.PluginDir, err = filepath.Abs(c.PluginDir); err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	block, err := freeAddressBlock(opts.Nodes)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= opts.Nodes; i++ {
		name := "n" + strconv.Itoa(i)
		n := &Node{Name: name, ID: uint32(i), Address: block + strconv.Itoa(i)}
		c.Nodes = append(c.Nodes, n)
	}
	if err := c.writeFiles(); err != nil {
		return nil, err
	}
	if err := c.start(opts.BinDir); err != nil {
		c.Down(context.Background())
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.WaitHealthy(waitCtx); err != nil {
		logs := c.Logs(40)
		c.Down(context.Background())
		return nil, fmt.Errorf("localcluster: %w\n%s", err, logs)
	}
	log.Info("cluster up", "dir", dir, "nodes", opts.Nodes)
	return c, nil
}

// Load reads the cluster recorded in dir.
func Load(dir string) (*Cluster, error) {
	data, err := os.ReadFile(stateFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("localcluster: %s: %w (start one with `vigil cluster up --dir %s`)", dir, ErrNotRunning, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	var c Cluster
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("localcluster: %s: %w", stateFile(dir), err)
	}
	return &c, nil
}

// freeAddressBlock picks a random 127.A.B. prefix whose addresses .1 to
// .nodes have every port the cluster needs free, so that several clusters
// (parallel tests, a demo) never collide.
func freeAddressBlock(nodes int) (string, error) {
	var lastErr error
	for range 50 {
		block := fmt.Sprintf("127.%d.%d.", 64+rand.IntN(128), rand.IntN(256))
		lastErr = nil
		for i := 1; i <= nodes && lastErr == nil; i++ {
			for _, p := range append(portList(), peerPort) {
				ln, err := net.Listen("tcp", net.JoinHostPort(block+strconv.Itoa(i), strconv.Itoa(p)))
				if err != nil {
					lastErr = err
					break
				}
				ln.Close()
			}
		}
		if lastErr == nil {
			return block, nil
		}
	}
	return "", fmt.Errorf("localcluster: no free loopback address block: %w", lastErr)
}

func portList() []int {
	var ps []int
	for _, d := range Daemons {
		ps = append(ps, ports[d])
	}
	return ps
}

func (c *Cluster) writeFiles() error {
	pkiDir := c.PKIDir()
	if _, _, err := pki.LoadCA(pkiDir); err != nil {
		if err := pki.InitCA(pkiDir, pki.Options{ClusterName: c.Name}); err != nil {
			return err
		}
	}
	issue := func(role pki.Role, name string) error {
		// Force: a node's address may differ from the last run.
		_, _, err := pki.Issue(pkiDir, role, name, pki.Options{Force: true})
		return err
	}
	if err := issue(pki.RoleAdmin, AdminName); err != nil {
		return err
	}
	if err := issue(pki.RoleReader, ReaderName); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		if err := issue(pki.RoleNode, n.Name); err != nil {
			return err
		}
		nodeDir := filepath.Join(c.Dir, "nodes", n.Name)
		for _, sub := range []string{"state", "logs"} {
			if err := os.MkdirAll(filepath.Join(nodeDir, sub), 0o755); err != nil {
				return fmt.Errorf("localcluster: %w", err)
			}
		}
		n.Config = filepath.Join(nodeDir, "vigil.conf")
		if err := os.WriteFile(n.Config, []byte(c.configText(n)), 0o644); err != nil {
			return fmt.Errorf("localcluster: %w", err)
		}
		n.Daemons = nil
		for _, d := range Daemons {
			n.Daemons = append(n.Daemons, &Daemon{
				Name:    d,
				Address: net.JoinHostPort(n.Address, strconv.Itoa(ports[d])),
				Log:     filepath.Join(nodeDir, "logs", d+".log"),
			})
		}
	}
	return nil
}

// configText is the node's vigil.conf: a corosync 3 style file plus Vigil's
// tls and vigil sections.
func (c *Cluster) configText(n *Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by `vigil cluster up` for node %s of the local cluster in %s.\n", n.Name, c.Dir)
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: %s\n\ttransport: knet\n", c.Name)
	for _, line := range c.Totem {
		fmt.Fprintf(&b, "\t%s\n", line)
	}
	b.WriteString("}\n\n")
	b.WriteString("nodelist {\n")
	for _, m := range c.Nodes {
		fmt.Fprintf(&b, "\tnode {\n\t\tname: %s\n\t\tnodeid: %d\n\t\tring0_addr: %s\n\t}\n", m.Name, m.ID, m.Address)
	}
	b.WriteString("}\n\n")
	b.WriteString("quorum {\n\tprovider: corosync_votequorum\n")
	if len(c.Nodes) == 2 {
		b.WriteString("\ttwo_node: 1\n")
	}
	for _, line := range c.Quorum {
		fmt.Fprintf(&b, "\t%s\n", line)
	}
	b.WriteString("}\n\n")
	b.WriteString("logging {\n\tto_stderr: yes\n\ttimestamp: on\n}\n\n")
	files := pki.FilesFor(c.PKIDir(), pki.RoleNode, n.Name)
	fmt.Fprintf(&b, "tls {\n\tca: %s\n\tcert: %s\n\tkey: %s\n}\n\n", files.CA, files.Cert, files.Key)
	fmt.Fprintf(&b, "vigil {\n\tlocal_node: %s\n\tstate_dir: %s\n\tpeer_port: %d\n", n.Name, filepath.Join(c.Dir, "nodes", n.Name, "state"), peerPort)
	if c.PluginDir != "" {
		fmt.Fprintf(&b, "\tplugin_dir: %s\n", c.PluginDir)
	}
	for _, kv := range []struct{ key, daemon string }{
		{"messaging_listen", "vigil-messagingd"},
		{"quorum_listen", "vigil-quorumd"},
		{"crm_listen", "vigil-crmd"},
		{"lrm_listen", "vigil-lrmd"},
		{"fence_listen", "vigil-fenced"},
	} {
		fmt.Fprintf(&b, "\t%s: %s\n", kv.key, net.JoinHostPort(n.Address, strconv.Itoa(ports[kv.daemon])))
	}
	b.WriteString("}\n")
	return b.String()
}

func (c *Cluster) start(binDir string) error {
	for _, n := range c.Nodes {
		for _, d := range n.Daemons {
			if err := c.startDaemon(n, d, binDir); err != nil {
				return err
			}
		}
	}
	return c.save()
}

// Signal sends sig to a daemon of a node, e.g. SIGKILL to simulate a
// crash, SIGSTOP to simulate a stalled process.
func (c *Cluster) Signal(node, daemon string, sig syscall.Signal) error {
	n, d, err := c.find(node, daemon)
	if err != nil {
		return err
	}
	if !c.alive(d) {
		return fmt.Errorf("localcluster: %s on %s is not running", daemon, n.Name)
	}
	return syscall.Kill(d.PID, sig)
}

// Restart starts a daemon of a node again after it stopped or was killed,
// with the same binary and configuration.
func (c *Cluster) Restart(node, daemon string) error {
	n, d, err := c.find(node, daemon)
	if err != nil {
		return err
	}
	if c.alive(d) {
		return fmt.Errorf("localcluster: %s on %s is still running (pid %d)", daemon, n.Name, d.PID)
	}
	if err := c.startDaemon(n, d, filepath.Dir(d.Binary)); err != nil {
		return err
	}
	return c.save()
}

// Alive reports whether a daemon of a node runs.
func (c *Cluster) Alive(node, daemon string) bool {
	_, d, err := c.find(node, daemon)
	return err == nil && c.alive(d)
}

func (c *Cluster) find(node, daemon string) (*Node, *Daemon, error) {
	n, ok := c.Node(node)
	if !ok {
		return nil, nil, fmt.Errorf("localcluster: no node %q", node)
	}
	d, ok := n.Daemon(daemon)
	if !ok {
		return nil, nil, fmt.Errorf("localcluster: node %s has no daemon %q", node, daemon)
	}
	return n, d, nil
}

func (c *Cluster) startDaemon(n *Node, d *Daemon, binDir string) error {
	bin, err := filepath.Abs(filepath.Join(binDir, d.Name))
	if err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	logFile, err := os.OpenFile(d.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "--config", n.Config)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Dir = filepath.Join(c.Dir, "nodes", n.Name)
	// Own session: the daemons outlive `vigil cluster up`, like services,
	// and a Ctrl-C in the terminal that started them does not reach them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("localcluster: start %s on %s: %w", d.Name, n.Name, err)
	}
	d.PID = cmd.Process.Pid
	d.Binary = bin
	// Reap the child if it ends while this process lives; otherwise it
	// would linger as a zombie that looks alive to Down.
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	// Until the child has called exec, /proc shows this program's command
	// line and alive would call it dead: wait for the exec (or the exit).
	for deadline := time.Now().Add(5 * time.Second); !c.alive(d) && time.Now().Before(deadline); {
		select {
		case <-exited:
			return nil
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

func (c *Cluster) save() error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	tmp := stateFile(c.Dir) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	return os.Rename(tmp, stateFile(c.Dir))
}

// Down stops every daemon: SIGTERM, then SIGKILL for those still running
// after a grace period. It forgets the cluster (cluster.json) but keeps the
// configuration, certificates and logs for a post-mortem and the next Up.
func (c *Cluster) Down(ctx context.Context) error {
	var procs []*Daemon
	for _, n := range c.Nodes {
		for _, d := range n.Daemons {
			if c.alive(d) {
				procs = append(procs, d)
			}
		}
	}
	// The crmds first, and only then the layers beneath them, as
	// pacemaker.service stops before corosync.service: a crmd stops the
	// resources of its node on SIGTERM (all nodes stopping, nowhere to
	// move them), which needs the messaging layer; stopped together, the
	// resources would outlive the cluster.
	var crmds, rest []*Daemon
	for _, d := range procs {
		if d.Name == "vigil-crmd" {
			crmds = append(crmds, d)
		} else {
			rest = append(rest, d)
		}
	}
	for _, d := range crmds {
		syscall.Kill(d.PID, syscall.SIGTERM)
	}
	// A crmd waits at most shutdown-escalation (30 s by default) for its
	// resources to stop.
	crmdDeadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(crmdDeadline) && ctx.Err() == nil && c.countAlive(crmds) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	for i := len(rest) - 1; i >= 0; i-- {
		syscall.Kill(rest[i].PID, syscall.SIGTERM)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil && c.countAlive(procs) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	var killed []string
	for _, d := range procs {
		if c.alive(d) {
			killed = append(killed, fmt.Sprintf("%s (pid %d)", d.Name, d.PID))
			syscall.Kill(d.PID, syscall.SIGKILL)
		}
	}
	for time.Now().Before(deadline.Add(5*time.Second)) && c.countAlive(procs) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if os.Geteuid() == 0 {
		if err := c.Heal(); err != nil {
			return err
		}
	}
	if err := os.Remove(stateFile(c.Dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("localcluster: %w", err)
	}
	if len(killed) > 0 {
		return fmt.Errorf("localcluster: did not stop in time after SIGTERM, killed: %s", strings.Join(killed, ", "))
	}
	return nil
}

func (c *Cluster) anyAlive() bool {
	for _, n := range c.Nodes {
		for _, d := range n.Daemons {
			if c.alive(d) {
				return true
			}
		}
	}
	return false
}

func (c *Cluster) countAlive(ds []*Daemon) int {
	k := 0
	for _, d := range ds {
		if c.alive(d) {
			k++
		}
	}
	return k
}

// alive reports whether the daemon's pid is still that daemon: a pid can be
// reused after a crash, and Down must never signal a stranger.
func (c *Cluster) alive(d *Daemon) bool {
	if d.PID <= 0 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.PID))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", d.PID))
	if err != nil {
		return false
	}
	// An exiting process loses its memory (and so its cmdline) before it
	// closes its files: until it is a zombie, it still holds its listening
	// sockets, and a restart would find its port in use. Only another
	// command line means the pid was reused.
	return len(cmdline) == 0 || strings.HasPrefix(string(cmdline), d.Binary+"\x00")
}

// Logs returns the last lines of every daemon's log, headed by node and
// daemon, for a test or a command that failed.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	for _, n := range c.Nodes {
		for _, d := range n.Daemons {
			data, err := os.ReadFile(d.Log)
			if err != nil {
				continue
			}
			all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			if len(all) > lines {
				all = all[len(all)-lines:]
			}
			fmt.Fprintf(&b, "==> %s %s (%s) <==\n%s\n", n.Name, d.Name, d.Log, strings.Join(all, "\n"))
		}
	}
	return b.String()
}

// KillNode SIGKILLs every running daemon of a node at once, as a power
// loss would stop them.
func (c *Cluster) KillNode(node string) error {
	n, ok := c.Node(node)
	if !ok {
		return fmt.Errorf("localcluster: no node %q", node)
	}
	for _, d := range n.Daemons {
		if c.alive(d) {
			if err := syscall.Kill(d.PID, syscall.SIGKILL); err != nil {
				return fmt.Errorf("localcluster: killing %s on %s: %w", d.Name, node, err)
			}
		}
	}
	return nil
}

// RestartNode starts the stopped daemons of a node again, the crmd last
// and only once the node is back in every member's view, as
// pacemaker.service starts after corosync.service; it returns when every
// daemon of the cluster is SERVING.
func (c *Cluster) RestartNode(ctx context.Context, node string) error {
	n, ok := c.Node(node)
	if !ok {
		return fmt.Errorf("localcluster: no node %q", node)
	}
	for _, d := range n.Daemons {
		if d.Name != "vigil-crmd" && !c.alive(d) {
			if err := c.Restart(node, d.Name); err != nil {
				return err
			}
		}
	}
	if err := c.WaitForView(ctx); err != nil {
		return fmt.Errorf("%s's daemons: %w", node, err)
	}
	if !c.Alive(node, "vigil-crmd") {
		if err := c.Restart(node, "vigil-crmd"); err != nil {
			return err
		}
	}
	if err := c.WaitHealthy(ctx); err != nil {
		return fmt.Errorf("%s's daemons: %w", node, err)
	}
	return nil
}
