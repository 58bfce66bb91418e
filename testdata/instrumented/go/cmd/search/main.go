// Command search answers product searches over HTTP with echo, traced by otelecho:
// routes in a group under /search and a path parameter.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"

	"example.com/instrumented/internal/telemetry"
)

var names = map[string]string{"A-100": "kettle", "B-200": "toaster", "C-300": "teapot"}

// products answers GET /search/products?q=... with the SKUs whose name contains q.
func products(c echo.Context) error {
	q := strings.ToLower(c.QueryParam("q"))
	found := []string{}
	for _, sku := range []string{"A-100", "B-200", "C-300"} {
		if strings.Contains(names[sku], q) {
			found = append(found, sku)
		}
	}
	return c.JSON(http.StatusOK, found)
}

// similar answers GET /search/products/:sku/similar, 404 for an unknown SKU.
func similar(c echo.Context) error {
	name, ok := names[c.Param("sku")]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such item")
	}
	out := []string{}
	for sku, other := range names {
		if sku != c.Param("sku") && other[len(other)-1] == name[len(name)-1] {
			out = append(out, sku)
		}
	}
	return c.JSON(http.StatusOK, out)
}

func routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.Use(otelecho.Middleware("search"))
	e.GET("/health", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	g := e.Group("/search")
	g.GET("/products", products)
	g.GET("/products/:sku/similar", similar)
	return e
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:8085", "HTTP listen address")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "search")
	if err != nil {
		log.Fatal(err)
	}

	server := &http.Server{Addr: *httpAddr, Handler: routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Printf("http: %v", err)
		}
	}()
	log.Printf("search: http %s", *httpAddr)

	<-ctx.Done()
	done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = server.Shutdown(done)
	if err := shutdown(done); err != nil {
		log.Printf("telemetry shutdown: %v", err)
	}
}
