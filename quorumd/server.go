// Package quorumd is vigil-quorumd: Corosync votequorum computed from the
// agreed membership view.
package quorumd

import (
	"log/slog"

	"google.golang.org/grpc"

	quorumv1 "github.com/vigil-ha/vigil/proto/vigil/quorum/v1"
)

// Server is the gRPC surface of vigil-quorumd. Methods that are not built yet
// answer codes.Unimplemented through the embedded Unimplemented servers;
// they never return a made-up answer.
type Server struct {
	quorumv1.UnimplementedQuorumServiceServer
	log *slog.Logger
}

// NewServer returns the daemon's gRPC surface.
func NewServer(log *slog.Logger) *Server {
	return &Server{log: log}
}

// Register registers every service of the daemon on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	quorumv1.RegisterQuorumServiceServer(g, s)
}
