package main

import (
	"os"

	"github.com/example/gohotel/services/geo"
	"github.com/rs/zerolog/log"
)

var mongoURL = os.Getenv("GEO_MONGO") // expect: global-call Getenv GEO_MONGO

func main() {
	client, closeDB := geo.InitializeDatabase(mongoURL)
	defer closeDB()

	srv := &geo.Server{Port: 8083, MongoClient: client}
	if err := srv.Run(); err != nil {
		log.Fatal().Msgf("geo: %v", err)
	}
}
