package example.orders;

import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestTemplate;

/** Calls the inventory service over HTTP. */
@Component
public class InventoryClient {

  private final RestTemplate restTemplate;
  private final String baseUrl;

  public InventoryClient(RestTemplate restTemplate, @Value("${inventory.base-url}") String baseUrl) {
    this.restTemplate = restTemplate;
    this.baseUrl = baseUrl;
  }

  /** The stock record of one item. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> item(String sku) {
    return restTemplate.getForObject(baseUrl + "/items/{sku}", Map.class, sku);
  }

  /** Reserves stock; inventory answers 500 when there is not enough. */
  public void reserve(String sku, int quantity) {
    restTemplate.postForLocation(
        baseUrl + "/items/{sku}/reservations?quantity={quantity}", null, sku, quantity);
  }
}
