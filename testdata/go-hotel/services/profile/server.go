// Package profile serves the Profile gRPC service from memcached with MongoDB behind it.
package profile

import (
	"context"
	"encoding/json"
	"net"
	"strings"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/example/gohotel/pb"
	"github.com/rs/zerolog/log"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"google.golang.org/grpc"
)

// Server implements the Profile service.
type Server struct {
	Addr        string
	MongoClient *mongo.Client
	MemcClient  *memcache.Client
}

// Run starts the gRPC server.
func (s *Server) Run() error {
	srv := grpc.NewServer()
	pb.RegisterProfileServer(srv, s) // expect: grpc-server Profile
	lis, err := net.Listen("tcp", s.Addr)
	if err != nil {
		log.Panic().Msgf("listen: %v", err)
	}
	return srv.Serve(lis)
}

// GetProfiles returns the profiles of the requested hotels.
func (s *Server) GetProfiles(ctx context.Context, req *pb.ProfileRequest) (*pb.ProfileResult, error) {
	res := new(pb.ProfileResult)
	keys := make([]string, 0, len(req.HotelIds))
	for _, id := range req.HotelIds {
		keys = append(keys, "profile_"+id)
	}
	items, err := s.MemcClient.GetMulti(keys) // expect: memcached GetMulti
	if err != nil && err != memcache.ErrCacheMiss { // expect: handler if-err panic
		log.Panic().Msgf("memcached error: %v", err)
	}
	coll := s.MongoClient.Database("profile-db").Collection("hotels")
	for _, id := range req.HotelIds {
		if item, ok := items["profile_"+id]; ok {
			hotel := new(pb.Hotel)
			json.Unmarshal(item.Value, hotel) // expect: loop-call Unmarshal
			res.Hotels = append(res.Hotels, hotel)
			continue
		}
		hotel := new(pb.Hotel)
		if err := coll.FindOne(ctx, bson.M{"id": id}).Decode(hotel); err != nil { // expect: mongo FindOne
			log.Error().Msgf("profile %s: %v", strings.TrimSpace(id), err)
			continue
		}
		res.Hotels = append(res.Hotels, hotel)
	}
	return res, nil
}
