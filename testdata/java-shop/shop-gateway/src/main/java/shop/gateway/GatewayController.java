package shop.gateway;

import io.opentracing.Span;
import io.opentracing.Tracer;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestTemplate;

@RestController
@RequestMapping("/shop")
public class GatewayController {
    private final RestTemplate restTemplate;
    private final Tracer tracer;
    // A plain field never reassigned acts as a constant (train-ticket style).
    String orders = "http://shop-order-service:8081/api/v1/orders"; // expect: constant orders http://shop-order-service:8081/api/v1/orders

    public GatewayController(RestTemplate restTemplate, Tracer tracer) {
        this.restTemplate = restTemplate;
        this.tracer = tracer;
    }

    @GetMapping("/orders/{orderId}")
    public ResponseEntity<String> order(@PathVariable String orderId, @RequestHeader HttpHeaders headers) {
        Span span = tracer.buildSpan("gateway.order").start(); // expect: span gateway.order opentracing
        try {
            return restTemplate.exchange(orders + "/" + orderId, HttpMethod.GET, new HttpEntity<>(headers), String.class); // expect: http-call GET /api/v1/orders/{} ; call restTemplate.exchange in-try
        } finally {
            span.finish();
        }
    }

    @PostMapping("/orders")
    public ResponseEntity<String> create(@RequestBody String body) {
        return restTemplate.postForEntity(orders, body, String.class); // expect: http-call POST /api/v1/orders
    }
}
