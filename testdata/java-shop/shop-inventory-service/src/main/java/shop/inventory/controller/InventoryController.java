package shop.inventory.controller;

import org.springframework.web.bind.annotation.*;
import shop.inventory.model.Stock;
import shop.inventory.service.InventoryService;

@RestController
@RequestMapping("/api/v1/stock")
public class InventoryController {
    private final InventoryService inventoryService;

    public InventoryController(InventoryService inventoryService) {
        this.inventoryService = inventoryService;
    }

    @GetMapping("/{itemId}") // expect: annotation GetMapping _=/{itemId}
    public Stock get(@PathVariable String itemId) {
        return inventoryService.find(itemId);
    }

    @GetMapping("/{itemId}/price")
    public long price(@PathVariable String itemId) {
        return inventoryService.find(itemId).getPriceCents();
    }

    @PostMapping("/{itemId}/reserve") // expect: annotation PostMapping _=/{itemId}/reserve
    public void reserve(@PathVariable String itemId) {
        inventoryService.reserve(itemId);
    }

    @DeleteMapping("/holds/{orderId}")
    public void release(@PathVariable String orderId) {
    }
}
