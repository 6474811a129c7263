package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/vigil-ha/vigil/internal/pki"

	// Registered so that every daemon API is checked for policies.
	_ "github.com/vigil-ha/vigil/proto/vigil/crm/v1"
	_ "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
	_ "github.com/vigil-ha/vigil/proto/vigil/lrm/v1"
	_ "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
	_ "github.com/vigil-ha/vigil/proto/vigil/quorum/v1"
)

// TestEveryDaemonMethodHasPolicy keeps the API fail-closed by intent rather
// than by accident: a new method without a policy fails here, not in
// production with a confusing PermissionDenied.
func TestEveryDaemonMethodHasPolicy(t *testing.T) {
	var methods int
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		pkg := string(fd.Package())
		if !strings.HasPrefix(pkg, "vigil.") || strings.HasPrefix(pkg, "vigil.plugin.") {
			return true
		}
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				full := "/" + string(sd.FullName()) + "/" + string(sd.Methods().Get(j).Name())
				methods++
				if _, err := lookupPolicy(full); err != nil {
					t.Errorf("%s: %v", full, err)
				}
			}
		}
		return true
	})
	if methods < 20 {
		t.Fatalf("found only %d daemon methods; are the API packages registered?", methods)
	}
}

func TestAuthorize(t *testing.T) {
	a := NewAuthorizer(func(name string) bool { return name == "n1" })
	tests := []struct {
		name     string
		role     pki.Role
		certName string
		method   string
		want     codes.Code
	}{
		{"admin writes", pki.RoleAdmin, "ops", "/vigil.crm.v1.CibService/Replace", codes.OK},
		{"reader reads", pki.RoleReader, "mon", "/vigil.crm.v1.CibService/Query", codes.OK},
		{"reader cannot write", pki.RoleReader, "mon", "/vigil.crm.v1.CibService/Replace", codes.PermissionDenied},
		{"node in nodelist", pki.RoleNode, "n1", "/vigil.lrm.v1.ExecutorService/Exec", codes.OK},
		{"node not in nodelist", pki.RoleNode, "n9", "/vigil.lrm.v1.ExecutorService/Exec", codes.PermissionDenied},
		{"health for everyone", pki.RoleReader, "mon", "/grpc.health.v1.Health/Check", codes.OK},
		{"unknown method", pki.RoleAdmin, "ops", "/vigil.crm.v1.CibService/Nope", codes.PermissionDenied},
		{"malformed method", pki.RoleAdmin, "ops", "nonsense", codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller, err := a.Authorize(peerContext(tt.role, tt.certName), tt.method)
			if got := status.Code(err); got != tt.want {
				t.Fatalf("code %v (%v), want %v", got, err, tt.want)
			}
			if err == nil && (caller.Role != tt.role || caller.Name != tt.certName) {
				t.Errorf("caller %+v", caller)
			}
		})
	}
}

func TestPermissionDeniedSaysWhatIsNeeded(t *testing.T) {
	a := NewAuthorizer(func(string) bool { return false })
	_, err := a.Authorize(peerContext(pki.RoleReader, "mon"), "/vigil.crm.v1.CibService/Replace")
	msg := status.Convert(err).Message()
	for _, want := range []string{"reader", `"mon"`, "CibService/Replace", "node, admin"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestNoCertificate(t *testing.T) {
	a := NewAuthorizer(func(string) bool { return true })
	ctx := peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{}}})
	if _, err := a.Authorize(ctx, "/grpc.health.v1.Health/Check"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("got %v, want Unauthenticated", err)
	}
	if _, err := a.Authorize(context.Background(), "/grpc.health.v1.Health/Check"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without peer: got %v, want Unauthenticated", err)
	}
}

func TestStandardServicesAllowAllRoles(t *testing.T) {
	roles, err := lookupPolicy("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
	if err != nil || !slices.Equal(roles, pki.Roles) {
		t.Fatalf("roles %v, err %v", roles, err)
	}
}

// peerContext fakes what grpc puts in the context after a verified mTLS
// handshake; the certificate is built the way pki.Issue builds it.
func peerContext(role pki.Role, name string) context.Context {
	cert := &x509.Certificate{}
	cert.Subject.CommonName = name
	cert.Subject.OrganizationalUnit = []string{"vigil-" + string(role)}
	state := tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
	return peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{State: state}})
}
