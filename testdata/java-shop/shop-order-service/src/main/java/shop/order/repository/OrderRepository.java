package shop.order.repository;

import java.util.List;
import java.util.Optional;
import org.springframework.data.mongodb.repository.MongoRepository;
import org.springframework.stereotype.Repository;
import shop.order.entity.Order;

// expect: type shop.order.repository.OrderRepository kind=interface supertypes=MongoRepository args=MongoRepository<Order,String> annotation=Repository
@Repository
public interface OrderRepository extends MongoRepository<Order, String> {
    Optional<Order> findByOrderId(String orderId); // expect: function shop.order.repository.OrderRepository.findByOrderId params=orderId:String

    List<Order> findByAccountId(String accountId);
}
