package example.orders;

import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
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

  /** The body of a restock request. */
  public record Restock(String sku, int quantity) {}

  private final OrderRepository orders;
  private final InventoryClient inventory;
  private final StockLevelsClient stockLevels;

  public OrderController(
      OrderRepository orders, InventoryClient inventory, StockLevelsClient stockLevels) {
    this.orders = orders;
    this.inventory = inventory;
    this.stockLevels = stockLevels;
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

  /** Cancels an order: its reservation goes back to inventory. */
  @DeleteMapping("/{id}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  public void cancel(@PathVariable long id) {
    PurchaseOrder order =
        orders
            .findById(id)
            .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no order " + id));
    inventory.release(order.getSku(), order.getQuantity());
  }

  /** Asks inventory for more stock of an item. */
  @PostMapping("/restocks")
  @ResponseStatus(HttpStatus.ACCEPTED)
  public void restock(@RequestBody Restock body) {
    inventory.restock(body.sku(), body.quantity());
  }

  /** How much inventory has of an item, asked over gRPC. */
  @GetMapping("/levels/{sku}")
  public Map<String, Object> level(@PathVariable String sku) {
    return Map.of("sku", sku, "quantity", stockLevels.level(sku));
  }

  /** Corrects the name inventory shows for an item. */
  @PatchMapping("/items/{sku}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  public void renameItem(@PathVariable String sku, @RequestParam String name) {
    inventory.rename(sku, name);
  }
}
