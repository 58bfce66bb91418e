package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"example.com/instrumented/pricingpb"
)

func TestQuotesAndRates(t *testing.T) {
	ctx := context.Background()
	db, err := openDB(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	server := &pricingServer{db: db}

	quote, err := server.GetQuote(ctx, &pricingpb.QuoteRequest{Sku: "B-200", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if quote.GetAmountCents() != 3680 {
		t.Errorf("B-200 in EUR = %d cents, want 3680", quote.GetAmountCents())
	}
	if _, err := server.GetQuote(ctx, &pricingpb.QuoteRequest{Sku: "Z-999", Currency: "USD"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown sku: %v, want NotFound", err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /rates/{currency}", rateHandler(db))
	for currency, want := range map[string]int{"USD": http.StatusOK, "XXX": http.StatusInternalServerError} {
		recorder := httptest.NewRecorder()
		mux.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/rates/"+currency, nil))
		if recorder.Code != want {
			t.Errorf("GET /rates/%s = %d, want %d", currency, recorder.Code, want)
		}
	}
}
