package profile

import (
	"encoding/json"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/example/gohotel/pb"
)

// warm stores profiles in memcached; it is half written and does not parse.
func (s *Server) warm(hotels []*pb.Hotel) { // expect: syntax-error
	for _, h := range hotels {
		body, _ := json.Marshal(h
		s.MemcClient.Set(&memcache.Item{Key: "profile_" + h.Id, Value: body})
	}
}

// Evict removes one profile from the cache.
func (s *Server) Evict(id string) error { // expect: function profile.(*Server).Evict
	return s.MemcClient.Delete("profile_" + id) // expect: call Delete profile_{}
}
