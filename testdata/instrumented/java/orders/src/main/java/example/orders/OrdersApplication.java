package example.orders;

import okhttp3.OkHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.web.client.RestTemplateBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.web.client.RestTemplate;
import org.springframework.web.reactive.function.client.WebClient;

/** The orders service: takes orders, stores them with JPA, reserves stock in inventory. */
@SpringBootApplication
public class OrdersApplication {

  public static void main(String[] args) {
    SpringApplication.run(OrdersApplication.class, args);
  }

  /**
   * On the JDK's HttpClient, as without the other client libraries: with HttpClient 5 on
   * the class path the builder would pick it.
   */
  @Bean
  RestTemplate restTemplate(RestTemplateBuilder builder) {
    return builder.requestFactoryBuilder(ClientHttpRequestFactoryBuilder.jdk()).build();
  }

  @Bean
  WebClient webClient(WebClient.Builder builder) {
    return builder.build();
  }

  @Bean
  OkHttpClient okHttpClient() {
    return new OkHttpClient();
  }

  @Bean(destroyMethod = "close")
  CloseableHttpClient httpClient() {
    return HttpClients.createDefault();
  }
}
