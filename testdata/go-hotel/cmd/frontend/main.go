package main

import (
	"flag"

	"github.com/example/gohotel/services/frontend"
	"github.com/rs/zerolog/log"
)

func main() { // expect: function main.main
	port := flag.Int("port", 5000, "HTTP port")
	flag.Parse()

	srv := &frontend.Server{Port: *port} // expect: local srv frontend.Server
	log.Info().Msg("starting frontend")
	if err := srv.Run(); err != nil { // expect: handler if-err panic
		log.Fatal().Msg(err.Error())
	}
}
