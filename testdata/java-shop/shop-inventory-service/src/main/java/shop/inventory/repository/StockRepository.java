package shop.inventory.repository;

import org.springframework.data.mongodb.repository.MongoRepository;
import shop.inventory.model.Stock;

// expect: type shop.inventory.repository.StockRepository kind=interface supertypes=MongoRepository args=MongoRepository<Stock,String>
public interface StockRepository extends MongoRepository<Stock, String> {
}
