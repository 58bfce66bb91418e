package example.orders;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.hc.client5.http.classic.methods.HttpPatch;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestTemplate;
import org.springframework.web.reactive.function.client.WebClient;

/** Calls the inventory service over HTTP, through four client libraries. */
@Component
public class InventoryClient {

  private final RestTemplate restTemplate;
  private final WebClient webClient;
  private final OkHttpClient okHttp;
  private final CloseableHttpClient httpClient;
  private final String baseUrl;

  public InventoryClient(
      RestTemplate restTemplate,
      WebClient webClient,
      OkHttpClient okHttp,
      CloseableHttpClient httpClient,
      @Value("${inventory.base-url}") String baseUrl) {
    this.restTemplate = restTemplate;
    this.webClient = webClient;
    this.okHttp = okHttp;
    this.httpClient = httpClient;
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

  /** Adds stock (WebClient). */
  public void restock(String sku, int quantity) {
    webClient
        .put()
        .uri(baseUrl + "/items/{sku}/stock?quantity={quantity}", sku, quantity)
        .retrieve()
        .toBodilessEntity()
        .block();
  }

  /** Gives a reservation back (OkHttp). */
  public void release(String sku, int quantity) {
    Request request =
        new Request.Builder()
            .url(baseUrl + "/items/" + sku + "/reservations?quantity=" + quantity)
            .delete()
            .build();
    try (Response response = okHttp.newCall(request).execute()) {
      if (!response.isSuccessful()) {
        throw new IllegalStateException("release failed: " + response.code());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Renames an item (Apache HttpClient 5). */
  public void rename(String sku, String name) {
    try {
      httpClient.execute(
          new HttpPatch(baseUrl + "/items/" + sku + "?name=" + name),
          response -> response.getCode());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
