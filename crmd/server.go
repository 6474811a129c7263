// Package crmd is vigil-crmd, the cluster resource manager: the replicated
// CIB, the DC, the scheduler and the transition engine (Pacemaker's
// controld, based, schedulerd and attrd).
package crmd

import (
	"log/slog"

	"google.golang.org/grpc"

	crmv1 "github.com/vigil-ha/vigil/proto/vigil/crm/v1"
)

// Server is the gRPC surface of vigil-crmd. Methods that are not built yet
// answer codes.Unimplemented through the embedded Unimplemented servers;
// they never return a made-up answer.
type Server struct {
	crmv1.UnimplementedCibServiceServer
	crmv1.UnimplementedClusterServiceServer
	log *slog.Logger
}

// NewServer returns the daemon's gRPC surface.
func NewServer(log *slog.Logger) *Server {
	return &Server{log: log}
}

// Register registers every service of the daemon on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	crmv1.RegisterCibServiceServer(g, s)
	crmv1.RegisterClusterServiceServer(g, s)
}
