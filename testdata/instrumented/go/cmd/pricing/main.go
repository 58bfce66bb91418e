// Command pricing serves item prices over gRPC and currency rates over HTTP, both read
// from SQLite through database/sql instrumented with otelsql.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	_ "modernc.org/sqlite"

	"example.com/instrumented/internal/telemetry"
	"example.com/instrumented/pricingpb"
)

const schema = `
CREATE TABLE prices (sku TEXT PRIMARY KEY, cents INTEGER NOT NULL);
CREATE TABLE rates (currency TEXT PRIMARY KEY, per_usd REAL NOT NULL);
INSERT INTO prices VALUES ('A-100', 1250), ('B-200', 4000);
INSERT INTO rates VALUES ('USD', 1.0), ('EUR', 0.92);
`

type pricingServer struct {
	pricingpb.UnimplementedPricingServiceServer
	db *sql.DB
}

// GetQuote prices one item in one currency.
func (s *pricingServer) GetQuote(ctx context.Context, req *pricingpb.QuoteRequest) (*pricingpb.Quote, error) {
	var cents int64
	err := s.db.QueryRowContext(ctx, "SELECT cents FROM prices WHERE sku = ?", req.GetSku()).Scan(&cents)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, status.Errorf(codes.NotFound, "no price for %q", req.GetSku())
	}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "price lookup: %v", err)
	}
	rate, err := lookupRate(ctx, s.db, req.GetCurrency())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "rate lookup: %v", err)
	}
	return &pricingpb.Quote{Sku: req.GetSku(), Currency: req.GetCurrency(), AmountCents: int64(float64(cents) * rate)}, nil
}

func lookupRate(ctx context.Context, db *sql.DB, currency string) (float64, error) {
	var rate float64
	err := db.QueryRowContext(ctx, "SELECT per_usd FROM rates WHERE currency = ?", currency).Scan(&rate)
	return rate, err
}

// rateHandler answers one currency's rate; any lookup failure, an unknown currency
// included, is a 500.
func rateHandler(db *sql.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rate, err := lookupRate(r.Context(), db, r.PathValue("currency"))
		if err != nil {
			http.Error(w, "rate lookup failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]float64{"per_usd": rate})
	}
}

// openDB opens the named in-memory SQLite database through otelsql and loads its data.
func openDB(ctx context.Context, name string) (*sql.DB, error) {
	db, err := otelsql.Open("sqlite", "file:"+name+"?mode=memory&cache=shared",
		otelsql.WithAttributes(semconv.DBSystemNameSQLite))
	if err != nil {
		return nil, err
	}
	// One connection keeps the shared in-memory database alive and serialises writes.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("schema: %w", err)
	}
	return db, nil
}

func main() {
	grpcAddr := flag.String("grpc", "127.0.0.1:9090", "gRPC listen address")
	httpAddr := flag.String("http", "127.0.0.1:9091", "HTTP listen address")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "pricing")
	if err != nil {
		log.Fatal(err)
	}

	db, err := openDB(ctx, "pricing")
	if err != nil {
		log.Fatal(err)
	}

	grpcServer := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler()))
	pricingpb.RegisterPricingServiceServer(grpcServer, &pricingServer{db: db})
	grpcListener, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		if err := grpcServer.Serve(grpcListener); err != nil {
			log.Printf("grpc: %v", err)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.Handle("GET /rates/{currency}", rateHandler(db))
	httpServer := &http.Server{Addr: *httpAddr, Handler: otelhttp.NewHandler(mux, "pricing"), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := httpServer.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Printf("http: %v", err)
		}
	}()
	log.Printf("pricing: grpc %s, http %s", *grpcAddr, *httpAddr)

	<-ctx.Done()
	done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = httpServer.Shutdown(done)
	grpcServer.GracefulStop()
	if err := shutdown(done); err != nil {
		log.Printf("telemetry shutdown: %v", err)
	}
}
