package main

import (
	"context"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/example/gohotel/services/rate"
	"github.com/rs/zerolog/log"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

const memcachedAddr = "memcached-rate:11211" // expect: constant memcachedAddr memcached-rate:11211

func main() {
	memc := memcache.New(memcachedAddr) // expect: local memc memcache.Client
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI("mongodb://mongodb-rate:27017"))
	if err != nil {
		panic(err)
	}
	srv := &rate.Server{Port: 8084, MongoClient: client, MemcClient: memc}
	if err := srv.Run(); err != nil {
		log.Fatal().Msg(err.Error())
	}
}
