// Command reviews serves product reviews over HTTP with gorilla/mux, traced by otelmux:
// a versioned subrouter, routes restricted by method, and path variables.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gorilla/mux/otelmux"

	"example.com/instrumented/internal/telemetry"
)

type reviews struct {
	mu    sync.Mutex
	bySKU map[string][]string
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(value)
}

// list answers GET /api/v2/products/{sku}/reviews.
func (rv *reviews) list(w http.ResponseWriter, r *http.Request) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	writeJSON(w, http.StatusOK, rv.bySKU[mux.Vars(r)["sku"]])
}

// add answers POST /api/v2/products/{sku}/reviews with the review's JSON text.
func (rv *reviews) add(w http.ResponseWriter, r *http.Request) {
	var review struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Text == "" {
		http.Error(w, "a review needs a text", http.StatusBadRequest)
		return
	}
	sku := mux.Vars(r)["sku"]
	rv.mu.Lock()
	rv.bySKU[sku] = append(rv.bySKU[sku], review.Text)
	rv.mu.Unlock()
	writeJSON(w, http.StatusCreated, review)
}

func (rv *reviews) routes() http.Handler {
	r := mux.NewRouter()
	r.Use(otelmux.Middleware("reviews"))
	r.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }).Methods(http.MethodGet)
	api := r.PathPrefix("/api/v2").Subrouter()
	api.HandleFunc("/products/{sku}/reviews", rv.list).Methods("GET")
	api.HandleFunc("/products/{sku}/reviews", rv.add).Methods("POST")
	return r
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:8084", "HTTP listen address")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "reviews")
	if err != nil {
		log.Fatal(err)
	}

	rv := &reviews{bySKU: map[string][]string{"A-100": {"boils fast"}}}
	server := &http.Server{Addr: *httpAddr, Handler: rv.routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Printf("http: %v", err)
		}
	}()
	log.Printf("reviews: http %s", *httpAddr)

	<-ctx.Done()
	done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = server.Shutdown(done)
	if err := shutdown(done); err != nil {
		log.Printf("telemetry shutdown: %v", err)
	}
}
