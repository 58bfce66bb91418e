package example.inventory;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.servlet.ServletComponentScan;

/**
 * The inventory service: stock levels in H2, read and reserved with JdbcTemplate; a plain
 * servlet ({@link HealthServlet}) beside the Spring MVC controllers.
 */
@SpringBootApplication
@ServletComponentScan
public class InventoryApplication {

  public static void main(String[] args) {
    SpringApplication.run(InventoryApplication.class, args);
  }
}
