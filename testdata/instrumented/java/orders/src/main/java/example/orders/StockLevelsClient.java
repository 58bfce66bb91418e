package example.orders;

import example.stock.grpc.LevelRequest;
import example.stock.grpc.StockLevelsGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import jakarta.annotation.PreDestroy;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/** Asks inventory's StockLevels gRPC service (proto/stock.proto) through a blocking stub. */
@Component
public class StockLevelsClient {

  private final ManagedChannel channel;
  private final StockLevelsGrpc.StockLevelsBlockingStub stockLevels;

  public StockLevelsClient(@Value("${inventory.grpc-target}") String target) {
    this.channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
    this.stockLevels = StockLevelsGrpc.newBlockingStub(channel);
  }

  /** The quantity inventory has of an item. */
  public int level(String sku) {
    return stockLevels.getLevel(LevelRequest.newBuilder().setSku(sku).build()).getQuantity();
  }

  @PreDestroy
  void close() {
    channel.shutdownNow();
  }
}
