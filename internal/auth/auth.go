// Package auth decides who may call which Vigil RPC. The caller's verified
// client certificate gives a role (see package pki); each method's
// vigil.auth.v1.policy option, declared beside the method in proto/, lists
// the roles allowed to call it. This file is the one place that maps the two.
package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	authv1 "github.com/vigil-ha/vigil/proto/vigil/auth/v1"

	"github.com/vigil-ha/vigil/internal/pki"
)

// Caller is the authenticated identity of an RPC's client.
type Caller struct {
	Role pki.Role
	Name string
}

type callerKey struct{}

// CallerFrom returns the identity the interceptor attached to ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// standardServices are the gRPC services every Vigil server registers that
// carry no Vigil policy: any authenticated caller may check health and list
// services, which is what load balancers, systemd checks and grpcurl need.
var standardServices = []string{
	"grpc.health.v1.Health",
	"grpc.reflection.v1.ServerReflection",
	"grpc.reflection.v1alpha.ServerReflection",
}

var roleOf = map[authv1.Role]pki.Role{
	authv1.Role_ROLE_NODE:   pki.RoleNode,
	authv1.Role_ROLE_ADMIN:  pki.RoleAdmin,
	authv1.Role_ROLE_READER: pki.RoleReader,
}

// Authorizer checks callers against method policies.
type Authorizer struct {
	// isNode reports whether name is a node of the nodelist: a node
	// certificate is only honoured for a configured node.
	isNode func(name string) bool
	// policies caches the allowed roles per full method name.
	policies sync.Map // string -> []pki.Role
}

// NewAuthorizer returns an Authorizer; isNode must report whether a name is
// a node of the cluster's nodelist.
func NewAuthorizer(isNode func(name string) bool) *Authorizer {
	return &Authorizer{isNode: isNode}
}

// Authorize returns the caller of a method, or a gRPC status error
// (Unauthenticated, PermissionDenied) that says what is wrong.
func (a *Authorizer) Authorize(ctx context.Context, fullMethod string) (Caller, error) {
	caller, err := a.identify(ctx)
	if err != nil {
		return Caller{}, err
	}
	allowed, err := a.allowedRoles(fullMethod)
	if err != nil {
		return Caller{}, status.Errorf(codes.PermissionDenied, "%s: %v", fullMethod, err)
	}
	for _, r := range allowed {
		if r == caller.Role {
			return caller, nil
		}
	}
	names := make([]string, len(allowed))
	for i, r := range allowed {
		names[i] = string(r)
	}
	return Caller{}, status.Errorf(codes.PermissionDenied,
		"%s certificate %q may not call %s; it needs one of the roles: %s",
		caller.Role, caller.Name, fullMethod, strings.Join(names, ", "))
}

func (a *Authorizer) identify(ctx context.Context) (Caller, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Caller{}, status.Error(codes.Unauthenticated, "no peer information: not a TLS connection")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return Caller{}, status.Error(codes.Unauthenticated, "connection is not TLS: Vigil requires mutual TLS")
	}
	var leaf *x509.Certificate
	if chains := info.State.VerifiedChains; len(chains) > 0 && len(chains[0]) > 0 {
		leaf = chains[0][0]
	}
	if leaf == nil {
		return Caller{}, status.Error(codes.Unauthenticated, "no verified client certificate: present one issued by `vigil pki issue`")
	}
	role, name, err := pki.Identity(leaf)
	if err != nil {
		return Caller{}, status.Errorf(codes.Unauthenticated, "%v", err)
	}
	if role == pki.RoleNode && !a.isNode(name) {
		return Caller{}, status.Errorf(codes.PermissionDenied, "node certificate %q names no node of the nodelist", name)
	}
	return Caller{Role: role, Name: name}, nil
}

var errNoPolicy = errors.New("method declares no access policy (vigil.auth.v1.policy); refused")

func (a *Authorizer) allowedRoles(fullMethod string) ([]pki.Role, error) {
	if v, ok := a.policies.Load(fullMethod); ok {
		return v.([]pki.Role), nil
	}
	roles, err := lookupPolicy(fullMethod)
	if err != nil {
		return nil, err
	}
	a.policies.Store(fullMethod, roles)
	return roles, nil
}

func lookupPolicy(fullMethod string) ([]pki.Role, error) {
	// fullMethod is "/package.Service/Method".
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("malformed method name")
	}
	for _, s := range standardServices {
		if s == service {
			return pki.Roles, nil
		}
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service + "." + method))
	if err != nil {
		return nil, errNoPolicy
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, errNoPolicy
	}
	policy, _ := proto.GetExtension(md.Options(), authv1.E_Policy).(*authv1.MethodPolicy)
	if policy == nil || len(policy.GetRoles()) == 0 {
		return nil, errNoPolicy
	}
	roles := make([]pki.Role, 0, len(policy.GetRoles()))
	for _, r := range policy.GetRoles() {
		if pr, ok := roleOf[r]; ok {
			roles = append(roles, pr)
		}
	}
	return roles, nil
}

// UnaryInterceptor refuses unauthorized unary calls and attaches the Caller
// to the context of authorized ones.
func (a *Authorizer) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		caller, err := a.Authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(context.WithValue(ctx, callerKey{}, caller), req)
	}
}

// StreamInterceptor is UnaryInterceptor for streaming calls.
func (a *Authorizer) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		caller, err := a.Authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &callerStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callerKey{}, caller)})
	}
}

type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *callerStream) Context() context.Context { return s.ctx }
