// Package rpcserver builds the gRPC server every Vigil daemon runs: mutual
// TLS only, the per-method role check of package auth, panic recovery,
// structured request logs, OpenTelemetry spans, the gRPC health service and
// server reflection (so grpcurl can list and call methods).
package rpcserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/internal/auth"
	"github.com/vigil-ha/vigil/internal/rpcclient"
)

// Options configure a server. TLS and Authorizer are required: Vigil never
// serves in plaintext or without a role check.
type Options struct {
	TLS        *tls.Config
	Authorizer *auth.Authorizer
	Logger     *slog.Logger
	// MaxRecvMsgSize is the largest message the server accepts; zero
	// means gRPC's default of 4 MiB.
	MaxRecvMsgSize int
	// FlowWindow is the HTTP/2 window of each stream and connection; zero
	// means rpcclient.FlowWindow.
	FlowWindow int32
}

// Server is a gRPC server with Vigil's interceptors and the health service.
type Server struct {
	*grpc.Server
	Health *health.Server
}

// New returns a server ready for the daemon to register its services on.
// Health reports NOT_SERVING until the daemon calls Serving.
func New(opts Options) (*Server, error) {
	if opts.TLS == nil || opts.TLS.ClientAuth != tls.RequireAndVerifyClientCert {
		return nil, fmt.Errorf("rpcserver: a TLS configuration that requires client certificates is mandatory")
	}
	if opts.Authorizer == nil {
		return nil, fmt.Errorf("rpcserver: an Authorizer is mandatory")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Successful calls are logged at debug level only: a busy client makes
	// tens of thousands a second, and a log line each costs more than the
	// call (vigil bench cpg, pingpong).
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(func(code codes.Code) logging.Level {
			if code == codes.OK {
				return logging.LevelDebug
			}
			return logging.DefaultServerCodeToLevel(code)
		}),
	}
	recoverOpts := []recovery.Option{recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in RPC handler", "panic", p, "stack", string(debug.Stack()))
		return status.Errorf(codes.Internal, "internal error: %v (see the daemon's log)", p)
	})}
	window := opts.FlowWindow
	if window == 0 {
		window = rpcclient.FlowWindow
	}
	serverOpts := []grpc.ServerOption{
		grpc.WriteBufferSize(rpcclient.StreamBufferSize), grpc.ReadBufferSize(rpcclient.StreamBufferSize),
		experimental.BufferPool(rpcclient.BufferPool),
		grpc.InitialWindowSize(window), grpc.InitialConnWindowSize(window),
	}
	if opts.MaxRecvMsgSize > 0 {
		serverOpts = append(serverOpts, grpc.MaxRecvMsgSize(opts.MaxRecvMsgSize))
	}
	g := grpc.NewServer(append(serverOpts,
		grpc.Creds(refusingCreds{TransportCredentials: rpcclient.CoalescingCredentials(credentials.NewTLS(opts.TLS)), log: log}),
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(
			logging.UnaryServerInterceptor(slogAdapter(log), logOpts...),
			recovery.UnaryServerInterceptor(recoverOpts...),
			opts.Authorizer.UnaryInterceptor(),
		),
		grpc.ChainStreamInterceptor(
			logging.StreamServerInterceptor(slogAdapter(log), logOpts...),
			recovery.StreamServerInterceptor(recoverOpts...),
			opts.Authorizer.StreamInterceptor(),
		),
		// Long-lived watch streams between local daemons are kept alive by
		// client pings; allow them without treating them as abuse.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)...)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	reflection.Register(g)
	return &Server{Server: g, Health: hs}, nil
}

// Serving marks the server and every registered service SERVING.
func (s *Server) Serving() {
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for name := range s.GetServiceInfo() {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
}

// Stop marks every service NOT_SERVING, then stops gracefully; calls still
// running after timeout are cut off.
func (s *Server) Stop(timeout time.Duration) {
	s.Health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		s.Server.Stop()
		<-done
	}
}

func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}
