// Package frontend serves the HTTP API and calls the gRPC services.
package frontend

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/example/gohotel/pb"
	"github.com/rs/zerolog/log"
	"google.golang.org/grpc"
)

// Server is the HTTP front end.
type Server struct {
	Port          int
	searchClient  pb.SearchClient
	profileClient pb.ProfileClient
}

// Run dials the backends and serves HTTP.
func (s *Server) Run() error {
	conn, err := grpc.Dial("search:8082", grpc.WithInsecure())
	if err != nil {
		return err
	}
	s.searchClient = pb.NewSearchClient(conn)

	profileConn, err := grpc.Dial("profile:8081", grpc.WithInsecure())
	if err != nil {
		return err
	}
	s.profileClient = pb.NewProfileClient(profileConn)

	mux := http.NewServeMux() // expect: local mux http.ServeMux
	mux.Handle("/", http.FileServer(http.Dir("static"))) // expect: http-route /
	mux.HandleFunc("/hotels", s.searchHandler) // expect: http-route /hotels
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { // expect: http-route /healthz
		w.Write([]byte("ok"))
	})
	return http.ListenAndServe(fmt.Sprintf(":%d", s.Port), mux)
}

func (s *Server) searchHandler(w http.ResponseWriter, r *http.Request) { // expect: function frontend.(*Server).searchHandler
	ctx := r.Context()
	lat, err := strconv.ParseFloat(r.URL.Query().Get("lat"), 32)
	if err != nil { // expect: handler if-err return-error
		http.Error(w, "bad lat", http.StatusBadRequest)
		return
	}
	lon, _ := strconv.ParseFloat(r.URL.Query().Get("lon"), 32)

	found, err := s.searchClient.Nearby(ctx, &pb.SearchRequest{ // expect: grpc-client search.Nearby
		Lat:     float32(lat),
		Lon:     float32(lon),
		InDate:  r.URL.Query().Get("inDate"),
		OutDate: r.URL.Query().Get("outDate"),
	})
	if err != nil { // expect: handler if-err log,return-error
		log.Error().Msgf("search: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}

	profiles, err := s.profileClient.GetProfiles(ctx, &pb.ProfileRequest{HotelIds: found.HotelIds}) // expect: grpc-client profile.GetProfiles
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(profiles.Hotels)
}
