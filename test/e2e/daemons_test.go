package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/internal/localcluster"
	"github.com/vigil-ha/vigil/internal/pki"
	crmv1 "github.com/vigil-ha/vigil/proto/vigil/crm/v1"
	fencev1 "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
	lrmv1 "github.com/vigil-ha/vigil/proto/vigil/lrm/v1"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
	quorumv1 "github.com/vigil-ha/vigil/proto/vigil/quorum/v1"
)

// daemonAPIs names, per daemon, one of its services (for grpcurl) and one
// write method (which a reader must not call).
var daemonAPIs = []struct {
	daemon  string
	service string
	write   func(context.Context, *grpc.ClientConn) error
}{
	{"vigil-messagingd", "vigil.messaging.v1.CmapService", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := messagingv1.NewCmapServiceClient(c).Set(ctx, &messagingv1.SetRequest{})
		return err
	}},
	{"vigil-quorumd", "vigil.quorum.v1.QuorumService", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := quorumv1.NewQuorumServiceClient(c).SetExpectedVotes(ctx, &quorumv1.SetExpectedVotesRequest{ExpectedVotes: 3})
		return err
	}},
	{"vigil-crmd", "vigil.crm.v1.CibService", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := crmv1.NewCibServiceClient(c).Replace(ctx, &crmv1.ReplaceRequest{})
		return err
	}},
	{"vigil-lrmd", "vigil.lrm.v1.ExecutorService", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := lrmv1.NewExecutorServiceClient(c).Exec(ctx, &lrmv1.ExecRequest{})
		return err
	}},
	{"vigil-fenced", "vigil.fence.v1.FenceService", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := fencev1.NewFenceServiceClient(c).Fence(ctx, &fencev1.FenceRequest{Target: "n1"})
		return err
	}},
}

func TestDaemonsAcceptOnlyAuthorizedCallers(t *testing.T) {
	c := startCluster(t, 1)
	n := c.Nodes[0]
	otherCA := foreignAdmin(t)
	for _, api := range daemonAPIs {
		t.Run(api.daemon, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			admin := dial(t, n, api.daemon, c.AdminFiles())
			resp, err := healthpb.NewHealthClient(admin).Check(ctx, &healthpb.HealthCheckRequest{Service: api.service})
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("health of %s with an admin certificate: %v %v, want SERVING", api.service, resp.GetStatus(), err)
			}
			// The admin passes the role check and reaches the method, which
			// refuses the empty request or is not built yet.
			if err := api.write(ctx, admin); status.Code(err) == codes.PermissionDenied || status.Code(err) == codes.Unauthenticated {
				t.Errorf("write method as admin: %v, want it to reach the method", err)
			}

			reader := dial(t, n, api.daemon, c.ReaderFiles())
			if _, err := healthpb.NewHealthClient(reader).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				t.Errorf("health as reader: %v", err)
			}
			err = api.write(ctx, reader)
			if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), `reader certificate "reader" may not call`) {
				t.Errorf("write method as reader: %v, want PermissionDenied naming the certificate", err)
			}

			d, _ := n.Daemon(api.daemon)
			noCert := dialRaw(t, d.Address, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: caPool(t, c.AdminFiles().CA), ServerName: n.Name})
			_, err = healthpb.NewHealthClient(noCert).Check(ctx, &healthpb.HealthCheckRequest{})
			if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "certificate required") {
				t.Errorf("without a client certificate: %v, want Unavailable: certificate required", err)
			}

			foreign := dial(t, n, api.daemon, otherCA)
			_, err = healthpb.NewHealthClient(foreign).Check(ctx, &healthpb.HealthCheckRequest{})
			// This client distrusts the server too (another CA): it is the
			// one to refuse.
			if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
				t.Errorf("with a certificate of another CA: %v, want Unavailable: certificate signed by unknown authority", err)
			}
			foreignServerTrust := otherCA
			foreignServerTrust.CA = c.AdminFiles().CA
			foreign2 := dial(t, n, api.daemon, foreignServerTrust)
			_, err = healthpb.NewHealthClient(foreign2).Check(ctx, &healthpb.HealthCheckRequest{})
			// A Go client offers only a certificate of a CA the server lists
			// as acceptable, so it sends none: "certificate required". Other
			// clients send theirs and hear "unknown certificate authority".
			if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "tls: certificate required") {
				t.Errorf("with a client certificate of another CA: %v, want Unavailable: tls: certificate required", err)
			}
		})
	}
}

// TestGrpcurlListsServices lists each daemon's services through server
// reflection with grpcurl (a Go tool of the module) over mutual TLS, the way
// the README shows it.
func TestGrpcurlListsServices(t *testing.T) {
	c := startCluster(t, 1)
	n := c.Nodes[0]
	admin := c.AdminFiles()
	for _, api := range daemonAPIs {
		d, _ := n.Daemon(api.daemon)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, "go", "tool", "grpcurl", "-cacert", admin.CA, "-cert", admin.Cert, "-key", admin.Key,
			"-servername", n.Name, d.Address, "list")
		cmd.Dir = moduleRoot
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("grpcurl list %s: %v\n%s", api.daemon, err, out)
		}
		for _, want := range []string{api.service, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("grpcurl list %s: %q missing from\n%s", api.daemon, want, out)
			}
		}
	}
}

// TestDaemonsStopCleanly checks that every daemon stops on SIGTERM within
// the grace period and says so in its log.
func TestDaemonsStopCleanly(t *testing.T) {
	c := startCluster(t, 2)
	if err := c.Down(context.Background()); err != nil {
		t.Fatalf("down: %v\n%s", err, c.Logs(40))
	}
	for _, n := range c.Nodes {
		for _, d := range n.Daemons {
			data, err := os.ReadFile(d.Log)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"msg=serving", "msg=stopping", "msg=stopped"} {
				if !bytes.Contains(data, []byte(want)) {
					t.Errorf("%s/%s log lacks %q:\n%s", n.Name, d.Name, want, data)
				}
			}
		}
	}
}

// TestBadConfigurationStopsStart runs a daemon on a broken file: it must not
// start, and must say where the file is wrong.
func TestBadConfigurationStopsStart(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "vigil.conf")
	if err := os.WriteFile(conf, []byte("totem {\n\ttoken: soon\n}\nnodelist {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range localcluster.Daemons {
		cmd := exec.Command(filepath.Join(binDir, name), "--config", conf)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%s on a broken file: %v, want exit status 2\n%s", name, err, out)
		}
		if !strings.Contains(string(out), "vigil.conf:") {
			t.Errorf("%s: error does not name file:line:\n%s", name, out)
		}
	}
}

// TestDemoCommand runs the README's main command the way a newcomer does,
// with --exit so it does not wait for Ctrl-C.
func TestDemoCommand(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(filepath.Join(binDir, "vigil"), "demo", "--dir", dir, "--exit")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("vigil demo: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "SERVING"); got != 3*len(localcluster.Daemons) {
		t.Errorf("vigil demo shows %d SERVING daemons, want %d:\n%s", got, 3*len(localcluster.Daemons), out)
	}
	for _, want := range []string{"All 3 nodes are in one membership view", "nodeid:          3:\tconnected", "Quorate:          Yes",
		"says: \"Served by node ", "failover_ms: ", "is back; the group stays on"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("vigil demo does not show %q:\n%s", want, out)
		}
	}
	if _, err := localcluster.Load(dir); err == nil {
		t.Errorf("the demo left its cluster running")
	}
}

func dial(t *testing.T, n *localcluster.Node, daemon string, files pki.Files) *grpc.ClientConn {
	t.Helper()
	conn, err := n.Dial(daemon, files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func dialRaw(t *testing.T, address string, cfg *tls.Config) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+address, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func caPool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(data)
	return pool
}

// foreignAdmin issues an admin certificate from a CA that is not the
// cluster's.
func foreignAdmin(t *testing.T) pki.Files {
	t.Helper()
	dir := t.TempDir()
	if err := pki.InitCA(dir, pki.Options{ClusterName: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.Issue(dir, pki.RoleAdmin, "intruder", pki.Options{}); err != nil {
		t.Fatal(err)
	}
	return pki.FilesFor(dir, pki.RoleAdmin, "intruder")
}
