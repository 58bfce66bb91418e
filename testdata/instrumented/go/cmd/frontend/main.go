// Command frontend is the shop's HTTP API: it asks the pricing service for quotes over
// gRPC and for currency rates over HTTP.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"example.com/instrumented/internal/telemetry"
	"example.com/instrumented/pricingpb"
)

type frontend struct {
	pricing    pricingpb.PricingServiceClient
	httpClient *http.Client
	ratesURL   string
}

// quote answers GET /quotes/{sku}?currency=EUR from the pricing service's gRPC API.
func (f *frontend) quote(w http.ResponseWriter, r *http.Request) {
	currency := r.URL.Query().Get("currency")
	if currency == "" {
		currency = "USD"
	}
	quote, err := f.pricing.GetQuote(r.Context(), &pricingpb.QuoteRequest{Sku: r.PathValue("sku"), Currency: currency})
	if status.Code(err) == codes.NotFound {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	writeJSON(w, map[string]any{"sku": quote.GetSku(), "currency": quote.GetCurrency(), "amount_cents": quote.GetAmountCents()})
}

// rate answers GET /rates/{currency} by asking the pricing service's HTTP API; when
// pricing fails, so does this handler (502).
func (f *frontend) rate(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, f.ratesURL+"/rates/"+r.PathValue("currency"), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := f.httpClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		http.Error(w, fmt.Sprintf("pricing answered %d", resp.StatusCode), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, value any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(value)
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:8080", "HTTP listen address")
	pricingGRPC := flag.String("pricing-grpc", "127.0.0.1:9090", "pricing gRPC address")
	pricingHTTP := flag.String("pricing-http", "http://127.0.0.1:9091", "pricing HTTP base URL")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "frontend")
	if err != nil {
		log.Fatal(err)
	}

	conn, err := grpc.NewClient(*pricingGRPC,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	f := &frontend{
		pricing:    pricingpb.NewPricingServiceClient(conn),
		httpClient: &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport), Timeout: 5 * time.Second},
		ratesURL:   *pricingHTTP,
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /quotes/{sku}", f.quote)
	mux.HandleFunc("GET /rates/{currency}", f.rate)
	server := &http.Server{Addr: *httpAddr, Handler: otelhttp.NewHandler(mux, "frontend"), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Printf("http: %v", err)
		}
	}()
	log.Printf("frontend: http %s", *httpAddr)

	<-ctx.Done()
	done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = server.Shutdown(done)
	if err := shutdown(done); err != nil {
		log.Printf("telemetry shutdown: %v", err)
	}
}
