// Package search serves the Search gRPC service by combining Geo and Rate.
package search

import (
	"context"
	"fmt"
	"net"

	"github.com/example/gohotel/pb"
	"github.com/rs/zerolog/log"
	"google.golang.org/grpc"
)

// Server implements the Search service.
type Server struct {
	Port       int
	geoClient  pb.GeoClient  // expect: field geoClient pb.GeoClient
	rateClient pb.RateClient
}

// Run dials the backends and starts the gRPC server.
func (s *Server) Run() error {
	geoConn, err := grpc.Dial("geo:8083", grpc.WithInsecure()) // expect: local geoConn grpc.ClientConn
	if err != nil { // expect: handler if-err return-error
		return fmt.Errorf("dial geo: %w", err)
	}
	s.geoClient = pb.NewGeoClient(geoConn)

	rateConn, err := grpc.Dial("rate:8084", grpc.WithInsecure())
	if err != nil {
		return fmt.Errorf("dial rate: %w", err)
	}
	s.rateClient = pb.NewRateClient(rateConn)

	srv := grpc.NewServer()
	pb.RegisterSearchServer(srv, s) // expect: grpc-server Search
	lis, err := net.Listen("tcp", fmt.Sprintf(":%d", s.Port))
	if err != nil {
		return err
	}
	return srv.Serve(lis)
}

// Nearby finds hotels near the point that have rates for the dates.
func (s *Server) Nearby(ctx context.Context, req *pb.SearchRequest) (*pb.SearchResult, error) {
	nearby, err := s.geoClient.Nearby(ctx, &pb.NearbyRequest{Lat: req.Lat, Lon: req.Lon}) // expect: grpc-client geo.Nearby
	if err != nil { // expect: handler if-err log,return-error
		log.Error().Msgf("geo.Nearby: %v", err)
		return nil, err
	}

	rates, err := s.rateClient.GetRates(ctx, &pb.RateRequest{ // expect: grpc-client rate.GetRates
		HotelIds: nearby.HotelIds,
		InDate:   req.InDate,
		OutDate:  req.OutDate,
	})
	if err != nil {
		log.Error().Msgf("rate.GetRates: %v", err)
		return nil, err
	}

	res := new(pb.SearchResult)
	for _, plan := range rates.RatePlans {
		res.HotelIds = append(res.HotelIds, plan.HotelId)
	}
	return res, nil
}
