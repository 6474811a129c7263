// Package messaging is vigil-messagingd: cluster membership, totally ordered
// process-group messaging with virtual synchrony, and cmap (the Corosync
// layer of Vigil).
package messaging

import (
	"log/slog"

	"google.golang.org/grpc"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Server is the gRPC surface of vigil-messagingd. Methods that are not built yet
// answer codes.Unimplemented through the embedded Unimplemented servers;
// they never return a made-up answer.
type Server struct {
	messagingv1.UnimplementedMembershipServiceServer
	messagingv1.UnimplementedGroupServiceServer
	messagingv1.UnimplementedCmapServiceServer
	log *slog.Logger
}

// NewServer returns the daemon's gRPC surface.
func NewServer(log *slog.Logger) *Server {
	return &Server{log: log}
}

// Register registers every service of the daemon on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	messagingv1.RegisterMembershipServiceServer(g, s)
	messagingv1.RegisterGroupServiceServer(g, s)
	messagingv1.RegisterCmapServiceServer(g, s)
}
