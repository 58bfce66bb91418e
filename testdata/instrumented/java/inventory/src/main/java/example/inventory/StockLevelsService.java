package example.inventory;

import example.stock.grpc.Level;
import example.stock.grpc.LevelRequest;
import example.stock.grpc.StockLevelsGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/** The StockLevels gRPC service (proto/stock.proto): an item's quantity, from the stock table. */
@Component
public class StockLevelsService extends StockLevelsGrpc.StockLevelsImplBase {

  private final StockRepository stock;

  public StockLevelsService(StockRepository stock) {
    this.stock = stock;
  }

  @Override
  public void getLevel(LevelRequest request, StreamObserver<Level> responseObserver) {
    List<Map<String, Object>> rows = stock.find(request.getSku());
    if (rows.isEmpty()) {
      responseObserver.onError(
          Status.NOT_FOUND.withDescription("no item " + request.getSku()).asRuntimeException());
      return;
    }
    int quantity = ((Number) rows.get(0).get("QUANTITY")).intValue();
    responseObserver.onNext(
        Level.newBuilder().setSku(request.getSku()).setQuantity(quantity).build());
    responseObserver.onCompleted();
  }
}
