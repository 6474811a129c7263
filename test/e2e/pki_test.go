package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/vigil-ha/vigil/internal/pki"
	"github.com/vigil-ha/vigil/internal/rpcclient"
)

// TestPKICommandCertificatesRunADaemon makes every certificate with the
// `vigil pki` command, as an administrator would, and starts a daemon on
// them from a hand-written configuration.
func TestPKICommandCertificatesRunADaemon(t *testing.T) {
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	vigil := func(args ...string) (string, error) {
		out, err := exec.Command(filepath.Join(binDir, "vigil"), append(args, "--pki-dir", pkiDir)...).CombinedOutput()
		return string(out), err
	}
	for _, args := range [][]string{
		{"pki", "init", "--cluster-name", "hand"},
		{"pki", "issue", "node", "alpha"},
		{"pki", "issue", "admin", "alice", "--key-type", "ed25519"},
	} {
		if out, err := vigil(args...); err != nil {
			t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, err := vigil("pki", "init")
	if err == nil || !strings.Contains(out, "--force") {
		t.Errorf("second `vigil pki init`: %v %q, want a refusal that mentions --force", err, out)
	}
	if out, err := vigil("pki", "issue", "superuser", "bob"); err == nil || !strings.Contains(out, "unknown role") {
		t.Errorf("issue with an unknown role: %v %q", err, out)
	}
	for _, key := range []string{"ca.key", "node-alpha.key", "admin-alice.key"} {
		st, err := os.Stat(filepath.Join(pkiDir, key))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", key, err, st.Mode().Perm())
		}
	}

	addr := freeLoopbackAddr(t)
	node := pki.FilesFor(pkiDir, pki.RoleNode, "alpha")
	conf := filepath.Join(dir, "vigil.conf")
	text := fmt.Sprintf(`totem {
	cluster_name: hand
}
nodelist {
	node {
		name: alpha
		nodeid: 1
		ring0_addr: 192.0.2.10
	}
}
tls {
	ca: %s
	cert: %s
	key: %s
}
vigil {
	local_node: alpha
	lrm_listen: %s
}
`, node.CA, node.Cert, node.Key, addr)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logFile, err := os.Create(filepath.Join(dir, "vigil-lrmd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logs := func() string {
		data, _ := os.ReadFile(logFile.Name())
		return string(data)
	}
	cmd := exec.Command(filepath.Join(binDir, "vigil-lrmd"), "--config", conf)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		if err := <-exited; err != nil {
			t.Errorf("vigil-lrmd did not stop cleanly: %v\n%s", err, logs())
		}
	}()
	conn, err := rpcclient.Dial(addr, "alpha", pki.FilesFor(pkiDir, pki.RoleAdmin, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("vigil-lrmd exited: %v\n%s", err, logs())
		case <-ctx.Done():
			t.Fatalf("vigil-lrmd not SERVING: %v\n%s", err, logs())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port that was free a
// moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
