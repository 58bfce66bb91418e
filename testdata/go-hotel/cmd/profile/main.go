package main

import (
	"context"
	"os"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/example/gohotel/services/profile"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func main() {
	addr := "mongodb://" + os.Getenv("PROFILE_MONGO")
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(addr)) // expect: call ApplyURI mongodb://{}
	if err != nil {
		panic(err)
	}
	srv := &profile.Server{
		Addr:        ":8081",
		MongoClient: client,
		MemcClient:  memcache.New("memcached-profile:11211"),
	}
	if err := srv.Run(); err != nil {
		panic(err)
	}
	panic("server stopped") // expect: exit panic
}
