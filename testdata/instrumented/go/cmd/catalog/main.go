// Command catalog serves the shop's item catalogue over HTTP with gin, traced by otelgin:
// versioned routes in a router group, a path parameter and a wildcard path.
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

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"

	"example.com/instrumented/internal/telemetry"
)

type item struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
}

type catalog struct {
	items map[string]item
}

// list answers GET /api/v1/items with every item, sorted by SKU.
func (c *catalog) list(ctx *gin.Context) {
	out := make([]item, 0, len(c.items))
	for _, sku := range []string{"A-100", "B-200"} {
		if it, ok := c.items[sku]; ok {
			out = append(out, it)
		}
	}
	ctx.JSON(http.StatusOK, out)
}

// get answers GET /api/v1/items/:sku, 404 for an unknown SKU.
func (c *catalog) get(ctx *gin.Context) {
	it, ok := c.items[ctx.Param("sku")]
	if !ok {
		ctx.JSON(http.StatusNotFound, gin.H{"error": "no such item"})
		return
	}
	ctx.JSON(http.StatusOK, it)
}

// image answers GET /api/v1/images/*file with a placeholder for any image path.
func (c *catalog) image(ctx *gin.Context) {
	ctx.String(http.StatusOK, "image %s", strings.TrimPrefix(ctx.Param("file"), "/"))
}

func (c *catalog) routes() *gin.Engine {
	r := gin.New()
	r.Use(otelgin.Middleware("catalog"), gin.Recovery())
	r.GET("/health", func(ctx *gin.Context) { ctx.String(http.StatusOK, "ok") })
	v1 := r.Group("/api").Group("/v1")
	{
		v1.GET("/items", c.list)
		v1.GET("/items/:sku", c.get)
		v1.GET("/images/*file", c.image)
	}
	return r
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:8082", "HTTP listen address")
	flag.Parse()
	gin.SetMode(gin.ReleaseMode)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "catalog")
	if err != nil {
		log.Fatal(err)
	}

	c := &catalog{items: map[string]item{
		"A-100": {SKU: "A-100", Name: "kettle"},
		"B-200": {SKU: "B-200", Name: "toaster"},
	}}
	server := &http.Server{Addr: *httpAddr, Handler: c.routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Printf("http: %v", err)
		}
	}()
	log.Printf("catalog: http %s", *httpAddr)

	<-ctx.Done()
	done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = server.Shutdown(done)
	if err := shutdown(done); err != nil {
		log.Printf("telemetry shutdown: %v", err)
	}
}
