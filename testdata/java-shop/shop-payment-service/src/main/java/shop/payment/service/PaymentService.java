package shop.payment.service;

import io.opentelemetry.instrumentation.annotations.WithSpan;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Service;
import shop.payment.client.InventoryClient;
import shop.payment.entity.Payment;
import shop.payment.repository.PaymentRepository;

@Service
public class PaymentService {
    private static final Logger log = LoggerFactory.getLogger(PaymentService.class);

    private final PaymentRepository payments;
    private final InventoryClient inventory;

    public PaymentService(PaymentRepository payments, InventoryClient inventory) { // expect: function shop.payment.service.PaymentService.PaymentService params=payments:PaymentRepository,inventory:InventoryClient
        this.payments = payments;
        this.inventory = inventory;
    }

    @WithSpan // expect: span "" opentelemetry
    public Payment pay(String orderId, List<String> itemIds) {
        long total = 0;
        for (int i = 0; i < itemIds.size(); i++) { // expect: call itemIds.size in-loop
            total += inventory.priceOf(itemIds.get(i)); // expect: call inventory.priceOf in-loop
        }
        try {
            return payments.save(new Payment(orderId, total)); // expect: call payments.save in-try
        } catch (DataAccessException | IllegalArgumentException e) { // expect: catch DataAccessException,IllegalArgumentException log,rethrow
            log.error("saving payment for {} failed", orderId);
            throw e;
        }
    }

    @WithSpan("refund") // expect: span refund opentelemetry
    public boolean refund(String orderId) {
        try {
            payments.findByOrderId(orderId).forEach(payments::delete); // expect: call payments.delete in-loop in-try ; call payments.findByOrderId(orderId).forEach
            return true;
        } catch (DataAccessException e) { // expect: catch DataAccessException log,return-error
            e.printStackTrace();
            return false;
        }
    }
}
