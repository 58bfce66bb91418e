// Package pb is a small hand-written stand-in for the code protoc would generate from
// proto/*.proto: message types, client and server interfaces, constructors and
// registration functions, so that calls to them are visible to the analyzer.
package pb

import (
	"context"

	"google.golang.org/grpc"
)

// NearbyRequest asks for hotels near a point.
type NearbyRequest struct {
	Lat float32
	Lon float32
}

// NearbyResult lists hotel ids.
type NearbyResult struct {
	HotelIds []string
}

// RateRequest asks for rates of hotels.
type RateRequest struct {
	HotelIds []string
	InDate   string
	OutDate  string
}

// RatePlan is one rate.
type RatePlan struct {
	HotelId string
	Code    string
	Total   float64
}

// RateResult lists rate plans.
type RateResult struct {
	RatePlans []*RatePlan
}

// ProfileRequest asks for hotel profiles.
type ProfileRequest struct {
	HotelIds []string
}

// Hotel is a hotel profile.
type Hotel struct {
	Id    string
	Name  string
	Phone string
}

// ProfileResult lists hotels.
type ProfileResult struct {
	Hotels []*Hotel
}

// SearchRequest asks for available hotels.
type SearchRequest struct {
	Lat     float32
	Lon     float32
	InDate  string
	OutDate string
}

// SearchResult lists hotel ids.
type SearchResult struct {
	HotelIds []string
}

// GeoClient is the client API for the Geo service.
type GeoClient interface {
	Nearby(ctx context.Context, in *NearbyRequest, opts ...grpc.CallOption) (*NearbyResult, error) // expect: interface-method GeoClient.Nearby
}

// GeoServer is the server API for the Geo service.
type GeoServer interface {
	Nearby(context.Context, *NearbyRequest) (*NearbyResult, error)
}

// RateClient is the client API for the Rate service.
type RateClient interface {
	GetRates(ctx context.Context, in *RateRequest, opts ...grpc.CallOption) (*RateResult, error)
}

// RateServer is the server API for the Rate service.
type RateServer interface {
	GetRates(context.Context, *RateRequest) (*RateResult, error)
}

// ProfileClient is the client API for the Profile service.
type ProfileClient interface {
	GetProfiles(ctx context.Context, in *ProfileRequest, opts ...grpc.CallOption) (*ProfileResult, error)
}

// ProfileServer is the server API for the Profile service.
type ProfileServer interface {
	GetProfiles(context.Context, *ProfileRequest) (*ProfileResult, error)
}

// SearchClient is the client API for the Search service.
type SearchClient interface {
	Nearby(ctx context.Context, in *SearchRequest, opts ...grpc.CallOption) (*SearchResult, error)
}

// SearchServer is the server API for the Search service.
type SearchServer interface {
	Nearby(context.Context, *SearchRequest) (*SearchResult, error)
}

type geoClient struct {
	cc grpc.ClientConnInterface
}

// NewGeoClient returns a Geo client on a connection.
func NewGeoClient(cc grpc.ClientConnInterface) GeoClient {
	return &geoClient{cc}
}

func (c *geoClient) Nearby(ctx context.Context, in *NearbyRequest, opts ...grpc.CallOption) (*NearbyResult, error) { // expect: function pb.(*geoClient).Nearby
	out := new(NearbyResult) // expect: local out NearbyResult
	err := c.cc.Invoke(ctx, "/geo.Geo/Nearby", in, out, opts...) // expect: call Invoke /geo.Geo/Nearby
	if err != nil { // expect: handler if-err return-error
		return nil, err
	}
	return out, nil
}

type rateClient struct {
	cc grpc.ClientConnInterface
}

// NewRateClient returns a Rate client on a connection.
func NewRateClient(cc grpc.ClientConnInterface) RateClient {
	return &rateClient{cc}
}

func (c *rateClient) GetRates(ctx context.Context, in *RateRequest, opts ...grpc.CallOption) (*RateResult, error) {
	out := new(RateResult)
	err := c.cc.Invoke(ctx, "/rate.Rate/GetRates", in, out, opts...) // expect: call Invoke /rate.Rate/GetRates
	if err != nil {
		return nil, err
	}
	return out, nil
}

type profileClient struct {
	cc grpc.ClientConnInterface
}

// NewProfileClient returns a Profile client on a connection.
func NewProfileClient(cc grpc.ClientConnInterface) ProfileClient {
	return &profileClient{cc}
}

func (c *profileClient) GetProfiles(ctx context.Context, in *ProfileRequest, opts ...grpc.CallOption) (*ProfileResult, error) {
	out := new(ProfileResult)
	err := c.cc.Invoke(ctx, "/profile.Profile/GetProfiles", in, out, opts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

type searchClient struct {
	cc grpc.ClientConnInterface
}

// NewSearchClient returns a Search client on a connection.
func NewSearchClient(cc grpc.ClientConnInterface) SearchClient {
	return &searchClient{cc}
}

func (c *searchClient) Nearby(ctx context.Context, in *SearchRequest, opts ...grpc.CallOption) (*SearchResult, error) {
	out := new(SearchResult)
	err := c.cc.Invoke(ctx, "/search.Search/Nearby", in, out, opts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RegisterGeoServer registers a Geo implementation.
func RegisterGeoServer(s *grpc.Server, srv GeoServer) {
	s.RegisterService(&grpc.ServiceDesc{ServiceName: "geo.Geo"}, srv) // expect: call RegisterService
}

// RegisterRateServer registers a Rate implementation.
func RegisterRateServer(s *grpc.Server, srv RateServer) {
	s.RegisterService(&grpc.ServiceDesc{ServiceName: "rate.Rate"}, srv)
}

// RegisterProfileServer registers a Profile implementation.
func RegisterProfileServer(s *grpc.Server, srv ProfileServer) {
	s.RegisterService(&grpc.ServiceDesc{ServiceName: "profile.Profile"}, srv)
}

// RegisterSearchServer registers a Search implementation.
func RegisterSearchServer(s *grpc.Server, srv SearchServer) {
	s.RegisterService(&grpc.ServiceDesc{ServiceName: "search.Search"}, srv)
}
