package shop.payment.repository;

import java.util.List;
import org.springframework.data.jpa.repository.JpaRepository;
import shop.payment.entity.Payment;

// expect: type shop.payment.repository.PaymentRepository kind=interface supertypes=JpaRepository args=JpaRepository<Payment,Long>
public interface PaymentRepository extends JpaRepository<Payment, Long> {
    List<Payment> findByOrderId(String orderId);
}
