package shop.order.config;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.client.RestTemplate;

@Configuration
public class RestConfig {
    // expect: function shop.order.config.RestConfig.restTemplate ; annotation Bean
    @Bean
    public RestTemplate restTemplate() {
        return new RestTemplate();
    }
}
