package geo

import (
	"context"
	"time"

	"github.com/rs/zerolog/log"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// InitializeDatabase connects to MongoDB and seeds the geo collection when empty.
func InitializeDatabase(url string) (*mongo.Client, func()) { // expect: function geo.InitializeDatabase
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	client, err := mongo.Connect(ctx, options.Client().ApplyURI("mongodb://"+url)) // expect: local client mongo.Client
	if err != nil { // expect: handler if-err panic
		log.Panic().Msg(err.Error())
	}

	coll := client.Database("geo-db").Collection("geo") // expect: call Collection geo
	count, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		log.Panic().Msg(err.Error())
	}
	if count == 0 {
		seed := []interface{}{
			Point{HotelID: "1", Lat: 37.7867, Lon: -122.4112},
			Point{HotelID: "2", Lat: 37.7854, Lon: -122.4005},
		}
		if _, err := coll.InsertMany(ctx, seed); err != nil { // expect: handler if-err log
			log.Warn().Msgf("seeding geo failed: %v", err)
		}
	}

	return client, func() {
		if err := client.Disconnect(context.Background()); err != nil {
			log.Error().Msg(err.Error())
		}
	}
}
