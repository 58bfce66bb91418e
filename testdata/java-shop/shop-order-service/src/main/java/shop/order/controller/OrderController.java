package shop.order.controller;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.*;
import shop.order.entity.Order;
import shop.order.service.OrderService;

// expect: type shop.order.controller.OrderController annotation=RestController annotation=RequestMapping
@RestController
@RequestMapping("/api/v1/orders") // expect: annotation RequestMapping _=/api/v1/orders
public class OrderController {
    @Autowired
    private OrderService orderService; // expect: field orderService:OrderService @Autowired

    @GetMapping("/{orderId}") // expect: annotation GetMapping _=/{orderId}
    public ResponseEntity<Order> getOrder(@PathVariable String orderId) { // expect: function shop.order.controller.OrderController.getOrder params=orderId:String@PathVariable
        Order order = orderService.getOrder(orderId); // expect: call orderService.getOrder
        if (order == null) {
            return ResponseEntity.notFound().build(); // expect: return-error
        }
        return ResponseEntity.ok(order);
    }

    @PostMapping // expect: annotation PostMapping
    public Order create(@RequestBody Order order) {
        return orderService.createOrder(order);
    }

    @DeleteMapping(path = {"/account/{accountId}", "/by-account/{accountId}"}) // expect: annotation DeleteMapping path=/account/{accountId} path=/by-account/{accountId}
    public int cancelAll(@PathVariable("accountId") String accountId) {
        return orderService.cancelOrders(accountId);
    }

    @RequestMapping(value = "/stock/{itemId}", method = RequestMethod.GET) // expect: annotation RequestMapping value=/stock/{itemId} method=RequestMethod.GET
    public String stock(@PathVariable String itemId) {
        return ((shop.order.service.OrderServiceImpl) orderService).stockOf(itemId, false);
    }
}
