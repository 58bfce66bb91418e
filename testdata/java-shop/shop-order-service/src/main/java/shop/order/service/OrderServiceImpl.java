package shop.order.service;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpMethod;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Service;
import org.springframework.web.client.RestClientException;
import org.springframework.web.client.RestTemplate;
import shop.order.entity.Order;
import shop.order.messaging.OrderEventPublisher;
import shop.order.repository.OrderRepository;

// expect: type shop.order.service.OrderServiceImpl supertypes=OrderService annotation=Service
@Service
public class OrderServiceImpl implements OrderService {
    private static final Logger LOGGER = LoggerFactory.getLogger(OrderServiceImpl.class); // expect: top-level-call LoggerFactory.getLogger
    private static final String INVENTORY = "http://shop-inventory-service:8083"; // expect: constant INVENTORY http://shop-inventory-service:8083
    private static final String STOCK_URI = INVENTORY + "/api/v1/stock"; // expect: constant STOCK_URI http://shop-inventory-service:8083/api/v1/stock

    @Autowired // expect: field orderRepository:OrderRepository @Autowired
    private OrderRepository orderRepository;

    @Autowired
    private RestTemplate restTemplate;

    private final OrderEventPublisher publisher; // expect: field publisher:OrderEventPublisher

    private final Tracer tracer;

    // expect: function shop.order.service.OrderServiceImpl.OrderServiceImpl params=publisher:OrderEventPublisher,tracer:Tracer
    public OrderServiceImpl(OrderEventPublisher publisher, Tracer tracer) {
        this.publisher = publisher;
        this.tracer = tracer;
    }

    @Override
    public Order getOrder(String orderId) {
        return orderRepository.findByOrderId(orderId).orElse(null); // expect: call orderRepository.findByOrderId ; call orderRepository.findByOrderId(orderId).orElse
    }

    @Override
    public Order createOrder(Order order) {
        Span span = tracer.spanBuilder("reserve-stock").startSpan(); // expect: span reserve-stock opentelemetry ; local span:Span
        try {
            for (String itemId : order.getItemIds()) { // expect: call order.getItemIds not-in-loop in-try
                restTemplate.exchange(STOCK_URI + "/" + itemId + "/reserve", HttpMethod.POST, null, Void.class); // expect: http-call POST /api/v1/stock/{}/reserve ; call restTemplate.exchange in-loop in-try
            }
        } catch (RestClientException e) { // expect: catch RestClientException log,rethrow
            LOGGER.error("stock reservation failed for order {}", order.getId(), e);
            throw new IllegalStateException("stock unavailable", e);
        } finally {
            span.end(); // expect: call span.end not-in-try
        }
        Order saved = orderRepository.save(order); // expect: call orderRepository.save not-in-try ; local saved:Order
        String url = "http://shop-payment-service:8082/api/v1/payments/" + saved.getId(); // expect: local url:String
        HttpEntity<Order> request = new HttpEntity<>(saved); // expect: local request:HttpEntity
        ResponseEntity<String> paid = restTemplate.exchange(url, HttpMethod.POST, request, String.class); // expect: http-call POST /api/v1/payments/{} ; url http://shop-payment-service:8082/api/v1/payments/{}
        if (!paid.getStatusCode().is2xxSuccessful()) {
            throw new IllegalStateException("payment refused"); // expect: throw
        }
        publisher.orderCreated(saved.getId()); // expect: call publisher.orderCreated
        return saved;
    }

    @Override
    public int cancelOrders(String accountId) {
        List<Order> orders = orderRepository.findByAccountId(accountId); // expect: call orderRepository.findByAccountId not-in-loop
        int cancelled = 0;
        for (Order order : orders) {
            order.setStatus(2);
            orderRepository.save(order); // expect: call orderRepository.save in-loop
            cancelled++;
        }
        orders.forEach(order -> restTemplate.delete(INVENTORY + "/api/v1/stock/holds/" + order.getId())); // expect: http-call DELETE /api/v1/stock/holds/{} ; call restTemplate.delete in-loop
        return cancelled;
    }

    public String stockOf(String itemId, boolean fresh) {
        String target;
        if (fresh) {
            target = STOCK_URI + "/" + itemId + "?fresh=true";
        } else {
            target = STOCK_URI + "/" + itemId;
        }
        try {
            return restTemplate.getForObject(target, String.class); // expect: alternatives http://shop-inventory-service:8083/api/v1/stock/{}?fresh=true | http://shop-inventory-service:8083/api/v1/stock/{} ; call restTemplate.getForObject in-try
        } catch (RestClientException e) { // expect: catch RestClientException log,return-error
            LOGGER.warn("stock lookup failed", e);
            return null;
        }
    }

    public String lookupOrNothing(String itemId) {
        try {
            return restTemplate.getForObject(String.format("%s/%s", STOCK_URI, itemId), String.class); // expect: url http://shop-inventory-service:8083/api/v1/stock/{} ; http-call GET /api/v1/stock/{}
        } catch (Exception ignored) { // expect: catch Exception swallow
        }
        return "";
    }
}
