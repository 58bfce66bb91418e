package example.inventory;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/** Serves {@link StockLevelsService} on grpc.port while the application runs. */
@Component
public class GrpcServer implements SmartLifecycle {

  private final Server server;
  private volatile boolean running;

  public GrpcServer(StockLevelsService stockLevels, @Value("${grpc.port}") int port) {
    this.server = ServerBuilder.forPort(port).addService(stockLevels).build();
  }

  @Override
  public void start() {
    try {
      server.start();
      running = true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void stop() {
    server.shutdown();
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
