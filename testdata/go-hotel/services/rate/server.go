// Package rate serves the Rate gRPC service: rates from memcached, MongoDB on a miss.
package rate

import (
	"context"
	"encoding/json"
	"fmt"
	"net"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/example/gohotel/pb"
	"github.com/example/gohotel/tracing"
	"github.com/rs/zerolog/log"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const name = "srv-rate"

// Server implements the Rate service.
type Server struct {
	Port        int
	MongoClient *mongo.Client    // expect: field MongoClient *mongo.Client
	MemcClient  *memcache.Client // expect: field MemcClient *memcache.Client
}

// Run starts the gRPC server.
func (s *Server) Run() error {
	srv := grpc.NewServer()
	pb.RegisterRateServer(srv, s) // expect: grpc-server Rate
	lis, err := net.Listen("tcp", fmt.Sprintf(":%d", s.Port))
	if err != nil { // expect: handler if-err log,return-error
		log.Error().Msgf("listen: %v", err)
		return err
	}
	return srv.Serve(lis)
}

// GetRates returns the rate plans of the requested hotels.
func (s *Server) GetRates(ctx context.Context, req *pb.RateRequest) (*pb.RateResult, error) { // expect: function rate.(*Server).GetRates
	ctx, span := tracing.Tracer("rate").Start(ctx, "rate.lookup") // expect: span rate.lookup opentelemetry
	defer span.End()

	res := new(pb.RateResult)
	for _, hotelID := range req.HotelIds {
		item, err := s.MemcClient.Get(hotelID) // expect: memcached Get
		if err == nil {
			plan := new(pb.RatePlan)
			if err := json.Unmarshal(item.Value, plan); err != nil { // expect: handler if-err log
				log.Warn().Msgf("bad cache entry for %s: %v", hotelID, err)
			}
			res.RatePlans = append(res.RatePlans, plan)
			continue
		}
		if err != memcache.ErrCacheMiss {
			log.Error().Msgf("memcached: %v", err)
		}
		plan, err := s.fromMongo(ctx, hotelID) // expect: loop-call fromMongo
		if err != nil { // expect: handler if-err return-error
			return nil, status.Errorf(codes.Internal, "rate of %s: %v", hotelID, err)
		}
		res.RatePlans = append(res.RatePlans, plan)
		s.cache(hotelID, plan)
	}
	return res, nil
}

func (s *Server) fromMongo(ctx context.Context, hotelID string) (*pb.RatePlan, error) {
	coll := s.MongoClient.Database("rate-db").Collection("inventory") // expect: local coll mongo.Collection
	plan := new(pb.RatePlan)
	err := coll.FindOne(ctx, bson.M{"hotelId": hotelID}).Decode(plan) // expect: mongo FindOne
	if err != nil {
		return nil, err
	}
	return plan, nil
}

func (s *Server) cache(hotelID string, plan *pb.RatePlan) {
	body, err := json.Marshal(plan)
	if err != nil { // expect: handler if-err swallow
		return
	}
	key := "rate_" + hotelID
	if err := s.MemcClient.Set(&memcache.Item{Key: key, Value: body}); err != nil { // expect: memcached Set
		log.Error().Msgf("memcached set %s: %v", key, err)
	}
}
