// Package geo serves the Geo gRPC service: hotels near a point, from MongoDB.
package geo

import (
	"context"
	"fmt"
	"net"

	"github.com/example/gohotel/pb"
	"github.com/rs/zerolog/log"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"google.golang.org/grpc"
)

const (
	name       = "srv-geo"
	database   = "geo-db"
	collection = "geo"
	maxResults = 5
)

// Server implements the Geo service.
type Server struct {
	pb.GeoServer // expect: embedded pb.GeoServer

	Port        int
	IpAddr      string
	MongoClient *mongo.Client
	index       *Index
}

// Run starts the gRPC server.
func (s *Server) Run() error { // expect: function geo.(*Server).Run
	if s.Port == 0 {
		return fmt.Errorf("server port must be set") // expect: exit return-error
	}

	idx, err := newIndex(s.MongoClient)
	if err != nil { // expect: handler if-err log,return-error
		log.Error().Msgf("cannot load geo index: %v", err)
		return err
	}
	s.index = idx

	srv := grpc.NewServer() // expect: local srv grpc.Server
	pb.RegisterGeoServer(srv, s) // expect: grpc-server Geo

	lis, err := net.Listen("tcp", fmt.Sprintf(":%d", s.Port)) // expect: call Listen tcp :{}
	if err != nil { // expect: handler if-err panic
		log.Fatal().Msgf("failed to listen: %v", err)
	}
	return srv.Serve(lis)
}

// Nearby returns the hotels closest to the requested point.
func (s *Server) Nearby(ctx context.Context, req *pb.NearbyRequest) (*pb.NearbyResult, error) {
	points := s.index.closest(req.Lat, req.Lon, maxResults)
	res := &pb.NearbyResult{} // expect: local res pb.NearbyResult
	for _, p := range points {
		res.HotelIds = append(res.HotelIds, p.HotelID) // expect: loop-call append
	}
	return res, nil
}

// Index is an in-memory list of hotel positions.
type Index struct {
	points []Point
}

// Point is one hotel position.
type Point struct {
	HotelID string  `bson:"hotelId"`
	Lat     float32 `bson:"lat"`
	Lon     float32 `bson:"lon"`
}

func newIndex(client *mongo.Client) (*Index, error) {
	coll := client.Database(database).Collection(collection) // expect: local coll mongo.Collection
	cursor, err := coll.Find(context.TODO(), bson.D{}) // expect: mongo Find
	if err != nil { // expect: handler if-err log,return-error
		log.Error().Msgf("failed to read %s.%s: %v", database, collection, err)
		return nil, err
	}
	var points []Point
	if err := cursor.All(context.TODO(), &points); err != nil { // expect: handler if-err return-error
		return nil, fmt.Errorf("decode points: %w", err)
	}
	return &Index{points: points}, nil
}

func (i *Index) closest(lat, lon float32, n int) []Point {
	if len(i.points) < n {
		return i.points
	}
	return i.points[:n]
}
