package shop.payment.entity;

import javax.persistence.Entity;
import javax.persistence.GeneratedValue;
import javax.persistence.Id;

// expect: type shop.payment.entity.Payment annotation=Entity
@Entity
public class Payment {
    @Id
    @GeneratedValue // expect: field id:Long @Id @GeneratedValue
    private Long id;
    private String orderId;
    private long amountCents;

    public Payment() {
    }

    public Payment(String orderId, long amountCents) {
        this.orderId = orderId;
        this.amountCents = amountCents;
    }

    public String getOrderId() {
        return orderId;
    }
}
