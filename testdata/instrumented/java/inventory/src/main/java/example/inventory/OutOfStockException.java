package example.inventory;

/** Thrown when a reservation asks for more than is in stock; unhandled, it becomes a 500. */
public class OutOfStockException extends RuntimeException {

  public OutOfStockException(String sku, int quantity) {
    super("cannot reserve " + quantity + " of " + sku);
  }
}
