package shop.inventory.model;

import org.springframework.data.annotation.Id;
import org.springframework.data.mongodb.core.mapping.Document;

@Document(collection = "stock")
public class Stock {
    @Id
    private String itemId;
    private int available;
    private long priceCents;

    public int getAvailable() {
        return available;
    }

    public void setAvailable(int available) {
        this.available = available;
    }

    public long getPriceCents() {
        return priceCents;
    }

    // expect: type shop.inventory.model.Stock.Hold
    public static class Hold {
        private String orderId;

        public String getOrderId() { // expect: function shop.inventory.model.Stock.Hold.getOrderId
            return orderId;
        }
    }
}
