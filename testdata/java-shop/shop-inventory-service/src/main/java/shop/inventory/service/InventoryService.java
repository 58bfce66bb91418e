package shop.inventory.service;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.stereotype.Service;
import shop.inventory.model.Stock;
import shop.inventory.repository.StockRepository;

@Service
public class InventoryService {
    private static final Logger LOGGER = LoggerFactory.getLogger(InventoryService.class);
    private static final String QUEUE = "order.created";

    private final StockRepository stockRepository;

    public InventoryService(StockRepository stockRepository) {
        this.stockRepository = stockRepository;
    }

    public Stock find(String itemId) {
        return stockRepository.findById(itemId) // expect: call stockRepository.findById
                .orElseThrow(() -> new IllegalArgumentException("no stock for " + itemId)); // expect: call stockRepository.findById(itemId).orElseThrow
    }

    public void reserve(String itemId) {
        var stock = find(itemId); // expect: call find ; local stock:Stock
        if (stock.getAvailable() <= 0) {
            throw new IllegalStateException("sold out: " + itemId); // expect: throw
        }
        stock.setAvailable(stock.getAvailable() - 1);
        stockRepository.save(stock); // expect: call stockRepository.save arg0=none
    }

    @RabbitListener(queues = QUEUE) // expect: annotation RabbitListener queues=order.created
    public void onOrderCreated(String message) {
        LOGGER.info("order event {}", message); // expect: call LOGGER.info arg0=order~event~{}
        stockRepository.deleteById(message); // expect: call stockRepository.deleteById
    }
}
