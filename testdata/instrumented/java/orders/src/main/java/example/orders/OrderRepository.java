package example.orders;

import java.util.List;
import org.springframework.data.jpa.repository.JpaRepository;

/** Orders in the database, through Spring Data JPA and Hibernate. */
public interface OrderRepository extends JpaRepository<PurchaseOrder, Long> {

  List<PurchaseOrder> findByStatus(String status);
}
