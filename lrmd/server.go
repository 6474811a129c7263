// Package lrmd is vigil-lrmd, the executor that runs resource agent
// operations on its node (Pacemaker's pacemaker-execd).
package lrmd

import (
	"log/slog"

	"google.golang.org/grpc"

	lrmv1 "github.com/vigil-ha/vigil/proto/vigil/lrm/v1"
)

// Server is the gRPC surface of vigil-lrmd. Methods that are not built yet
// answer codes.Unimplemented through the embedded Unimplemented servers;
// they never return a made-up answer.
type Server struct {
	lrmv1.UnimplementedExecutorServiceServer
	log *slog.Logger
}

// NewServer returns the daemon's gRPC surface.
func NewServer(log *slog.Logger) *Server {
	return &Server{log: log}
}

// Register registers every service of the daemon on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	lrmv1.RegisterExecutorServiceServer(g, s)
}
