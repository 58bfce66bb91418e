package main

import (
	"github.com/example/gohotel/services/search"
	"github.com/rs/zerolog/log"
)

func main() {
	srv := &search.Server{Port: 8082}
	log.Fatal().Msg(srv.Run().Error()) // expect: exit panic
}
