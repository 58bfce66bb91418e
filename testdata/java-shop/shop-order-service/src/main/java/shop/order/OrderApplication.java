package shop.order;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

// expect: type shop.order.OrderApplication annotation=SpringBootApplication
@SpringBootApplication
public class OrderApplication {
    public static void main(String[] args) {
        SpringApplication.run(OrderApplication.class, args); // expect: call SpringApplication.run
    }
}
