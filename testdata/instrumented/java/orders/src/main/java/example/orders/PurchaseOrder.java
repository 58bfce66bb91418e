package example.orders;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One order of a quantity of one stock item. */
@Entity
@Table(name = "purchase_orders")
public class PurchaseOrder {

  @Id @GeneratedValue private Long id;
  private String sku;
  private int quantity;
  private String status;

  protected PurchaseOrder() {}

  public PurchaseOrder(String sku, int quantity, String status) {
    this.sku = sku;
    this.quantity = quantity;
    this.status = status;
  }

  public Long getId() {
    return id;
  }

  public String getSku() {
    return sku;
  }

  public int getQuantity() {
    return quantity;
  }

  public String getStatus() {
    return status;
  }
}
