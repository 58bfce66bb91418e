// Command inventory serves stock levels over HTTP with chi, traced by otelhttp as chi
// middleware (so the span takes the route chi matched): routes in a Route block, a
// router mounted under a prefix, and path parameters.
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

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"example.com/instrumented/internal/telemetry"
)

type inventory struct {
	mu    sync.Mutex
	stock map[string]int
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(value)
}

// level answers GET /stock/{sku}, 404 for an unknown SKU.
func (inv *inventory) level(w http.ResponseWriter, r *http.Request) {
	inv.mu.Lock()
	n, ok := inv.stock[chi.URLParam(r, "sku")]
	inv.mu.Unlock()
	if !ok {
		http.Error(w, "no such item", http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sku": chi.URLParam(r, "sku"), "count": n})
}

// reserve answers POST /stock/{sku}/reservations: one unit less, 409 when none is left.
func (inv *inventory) reserve(w http.ResponseWriter, r *http.Request) {
	sku := chi.URLParam(r, "sku")
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.stock[sku] <= 0 {
		http.Error(w, "out of stock", http.StatusConflict)
		return
	}
	inv.stock[sku]--
	writeJSON(w, http.StatusAccepted, map[string]any{"sku": sku, "count": inv.stock[sku]})
}

// warehouses lists the warehouses (GET /admin/warehouses).
func (inv *inventory) warehouses(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []string{"north", "south"})
}

// warehouse answers GET /admin/warehouses/{name}.
func (inv *inventory) warehouse(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"name": chi.URLParam(r, "name")})
}

// adminRouter is the back-office API, mounted under /admin.
func (inv *inventory) adminRouter() http.Handler {
	r := chi.NewRouter()
	r.Get("/warehouses", inv.warehouses)
	r.Get("/warehouses/{name}", inv.warehouse)
	return r
}

func (inv *inventory) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(otelhttp.NewMiddleware("inventory"))
	r.Get("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	r.Route("/stock", func(r chi.Router) {
		r.Get("/{sku}", inv.level)
		r.Post("/{sku}/reservations", inv.reserve)
	})
	r.Mount("/admin", inv.adminRouter())
	return r
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:8083", "HTTP listen address")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "inventory")
	if err != nil {
		log.Fatal(err)
	}

	inv := &inventory{stock: map[string]int{"A-100": 1000, "B-200": 0}}
	server := &http.Server{Addr: *httpAddr, Handler: inv.routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Printf("http: %v", err)
		}
	}()
	log.Printf("inventory: http %s", *httpAddr)

	<-ctx.Done()
	done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = server.Shutdown(done)
	if err := shutdown(done); err != nil {
		log.Printf("telemetry shutdown: %v", err)
	}
}
