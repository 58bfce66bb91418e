package example.inventory;

import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

/** The stock table, through JdbcTemplate. */
@Repository
public class StockRepository {

  private final JdbcTemplate jdbc;

  public StockRepository(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  public List<Map<String, Object>> find(String sku) {
    return jdbc.queryForList("SELECT sku, name, quantity FROM stock WHERE sku = ?", sku);
  }

  public List<Map<String, Object>> atLeast(int quantity) {
    return jdbc.queryForList(
        "SELECT sku, name, quantity FROM stock WHERE quantity >= ? ORDER BY sku", quantity);
  }

  /** Takes quantity out of stock if that much is there; returns the rows changed. */
  public int take(String sku, int quantity) {
    return jdbc.update(
        "UPDATE stock SET quantity = quantity - ? WHERE sku = ? AND quantity >= ?",
        quantity,
        sku,
        quantity);
  }

  public int add(String sku, int quantity) {
    return jdbc.update("UPDATE stock SET quantity = quantity + ? WHERE sku = ?", quantity, sku);
  }

  public int rename(String sku, String name) {
    return jdbc.update("UPDATE stock SET name = ? WHERE sku = ?", name, sku);
  }
}
