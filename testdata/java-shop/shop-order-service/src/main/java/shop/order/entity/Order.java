package shop.order.entity;

import java.util.List;
import org.springframework.data.annotation.Id;
import org.springframework.data.mongodb.core.mapping.Document;

// expect: type shop.order.entity.Order annotation=Document
@Document(collection = "orders") // expect: annotation Document collection=orders
public class Order {
    @Id // expect: field id:String @Id
    private String id;
    private String accountId; // expect: field accountId:String
    private List<String> itemIds; // expect: field itemIds:List
    private int status;

    public String getId() {
        return id;
    }

    public String getAccountId() {
        return accountId;
    }

    public List<String> getItemIds() {
        return itemIds;
    }

    public void setStatus(int status) {
        this.status = status;
    }
}
