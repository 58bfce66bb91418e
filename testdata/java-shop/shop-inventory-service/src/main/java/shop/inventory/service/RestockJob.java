package shop.inventory.service;

import java.util.List;
import shop.inventory.repository.StockRepository;

// This file does not compile: the facts of its well-formed parts still come out.
// expect: syntax-errors
public class RestockJob {
    private final StockRepository stockRepository;

    public RestockJob(StockRepository stockRepository) {
        this.stockRepository = stockRepository;
    }

    public void restock(List<String> itemIds) {
        for (String itemId : itemIds) {
            stockRepository.findById(itemId); // expect: call stockRepository.findById in-loop
        }
    }

    public void broken(int amount {
        stockRepository.deleteAll(;
    }
}
