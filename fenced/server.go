// Package fenced is vigil-fenced, which fences nodes through STONITH
// devices and keeps the cluster's fencing history (Pacemaker's
// pacemaker-fenced).
package fenced

import (
	"log/slog"

	"google.golang.org/grpc"

	fencev1 "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
)

// Server is the gRPC surface of vigil-fenced. Methods that are not built yet
// answer codes.Unimplemented through the embedded Unimplemented servers;
// they never return a made-up answer.
type Server struct {
	fencev1.UnimplementedFenceServiceServer
	log *slog.Logger
}

// NewServer returns the daemon's gRPC surface.
func NewServer(log *slog.Logger) *Server {
	return &Server{log: log}
}

// Register registers every service of the daemon on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	fencev1.RegisterFenceServiceServer(g, s)
}
