package example.orders;

import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** Orders HTTP API, under the /shop context path. */
@RestController
@RequestMapping("/orders")
public class OrderController {

  /** The body of a new order. */
  public record NewOrder(String sku, int quantity) {}

  private final OrderRepository orders;
  private final InventoryClient inventory;

  public OrderController(OrderRepository orders, InventoryClient inventory) {
    this.orders = orders;
    this.inventory = inventory;
  }

  @GetMapping
  public List<PurchaseOrder> list(@RequestParam(defaultValue = "NEW") String status) {
    return orders.findByStatus(status);
  }

  @GetMapping("/{id}")
  public Map<String, Object> get(@PathVariable long id) {
    PurchaseOrder order =
        orders
            .findById(id)
            .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no order " + id));
    Map<String, Object> item = inventory.item(order.getSku());
    return Map.of("order", order, "item", item);
  }

  /** Reserves the stock first: an order inventory cannot serve fails with its 500. */
  @PostMapping
  @ResponseStatus(HttpStatus.CREATED)
  public PurchaseOrder create(@RequestBody NewOrder body) {
    inventory.reserve(body.sku(), body.quantity());
    return orders.save(new PurchaseOrder(body.sku(), body.quantity(), "NEW"));
  }
}
