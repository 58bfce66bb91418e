package shop.payment.controller;

import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import shop.payment.entity.Payment;
import shop.payment.service.PaymentService;

@RestController
@RequestMapping(PaymentController.BASE) // expect: annotation RequestMapping _=/api/v1/payments
public class PaymentController {
    static final String BASE = "/api/v1/payments"; // expect: constant BASE /api/v1/payments

    private final PaymentService paymentService;

    public PaymentController(PaymentService paymentService) {
        this.paymentService = paymentService;
    }

    @PostMapping("/{orderId}") // expect: annotation PostMapping _=/{orderId}
    public ResponseEntity<Payment> pay(@PathVariable String orderId, @RequestBody List<String> itemIds) {
        if (itemIds.isEmpty()) {
            return ResponseEntity.status(HttpStatus.BAD_REQUEST).build(); // expect: return-error
        }
        return ResponseEntity.ok(paymentService.pay(orderId, itemIds));
    }

    @PostMapping("/{orderId}/refund")
    public ResponseEntity<Void> refund(@PathVariable String orderId) {
        boolean done = paymentService.refund(orderId); // expect: local done:boolean
        return done ? ResponseEntity.ok().build() : ResponseEntity.internalServerError().build();
    }
}
