package shop.payment.client;

import org.springframework.cloud.openfeign.FeignClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;

// expect: type shop.payment.client.InventoryClient kind=interface annotation=FeignClient
@FeignClient(name = "shop-inventory-service", path = "/api/v1/stock") // expect: annotation FeignClient name=shop-inventory-service path=/api/v1/stock
public interface InventoryClient {
    @GetMapping("/{itemId}/price") // expect: annotation GetMapping _=/{itemId}/price
    long priceOf(@PathVariable("itemId") String itemId); // expect: function shop.payment.client.InventoryClient.priceOf params=itemId:String@PathVariable
}
