package example.inventory;

import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** Stock levels and reservations. */
@RestController
@RequestMapping("/items")
public class StockController {

  private final StockRepository stock;

  public StockController(StockRepository stock) {
    this.stock = stock;
  }

  @GetMapping
  public List<Map<String, Object>> list(@RequestParam(defaultValue = "0") int minQuantity) {
    return stock.atLeast(minQuantity);
  }

  @GetMapping("/{sku}")
  public Map<String, Object> item(@PathVariable String sku) {
    return stock.find(sku).stream()
        .findFirst()
        .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no item " + sku));
  }

  /** Fails with an unhandled exception (HTTP 500) when the stock is short. */
  @PostMapping("/{sku}/reservations")
  @ResponseStatus(HttpStatus.CREATED)
  public void reserve(@PathVariable String sku, @RequestParam int quantity) {
    if (stock.take(sku, quantity) == 0) {
      throw new OutOfStockException(sku, quantity);
    }
  }

  /** Gives reserved stock back. */
  @DeleteMapping("/{sku}/reservations")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  public void release(@PathVariable String sku, @RequestParam int quantity) {
    stock.add(sku, quantity);
  }

  /** Adds delivered stock. */
  @PutMapping("/{sku}/stock")
  public Map<String, Object> restock(@PathVariable String sku, @RequestParam int quantity) {
    stock.add(sku, quantity);
    return Map.of("sku", sku, "added", quantity);
  }

  @PatchMapping("/{sku}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  public void rename(@PathVariable String sku, @RequestParam String name) {
    stock.rename(sku, name);
  }
}
