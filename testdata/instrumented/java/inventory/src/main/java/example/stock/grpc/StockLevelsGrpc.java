package example.stock.grpc;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class StockLevelsGrpc {

  private StockLevelsGrpc() {}

  public static final java.lang.String SERVICE_NAME = "shop.stock.StockLevels";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<example.stock.grpc.LevelRequest,
      example.stock.grpc.Level> getGetLevelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetLevel",
      requestType = example.stock.grpc.LevelRequest.class,
      responseType = example.stock.grpc.Level.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<example.stock.grpc.LevelRequest,
      example.stock.grpc.Level> getGetLevelMethod() {
    io.grpc.MethodDescriptor<example.stock.grpc.LevelRequest, example.stock.grpc.Level> getGetLevelMethod;
    if ((getGetLevelMethod = StockLevelsGrpc.getGetLevelMethod) == null) {
      synchronized (StockLevelsGrpc.class) {
        if ((getGetLevelMethod = StockLevelsGrpc.getGetLevelMethod) == null) {
          StockLevelsGrpc.getGetLevelMethod = getGetLevelMethod =
              io.grpc.MethodDescriptor.<example.stock.grpc.LevelRequest, example.stock.grpc.Level>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetLevel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  example.stock.grpc.LevelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  example.stock.grpc.Level.getDefaultInstance()))
              .setSchemaDescriptor(new StockLevelsMethodDescriptorSupplier("GetLevel"))
              .build();
        }
      }
    }
    return getGetLevelMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static StockLevelsStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<StockLevelsStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<StockLevelsStub>() {
        @java.lang.Override
        public StockLevelsStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new StockLevelsStub(channel, callOptions);
        }
      };
    return StockLevelsStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static StockLevelsBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<StockLevelsBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<StockLevelsBlockingV2Stub>() {
        @java.lang.Override
        public StockLevelsBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new StockLevelsBlockingV2Stub(channel, callOptions);
        }
      };
    return StockLevelsBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static StockLevelsBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<StockLevelsBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<StockLevelsBlockingStub>() {
        @java.lang.Override
        public StockLevelsBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new StockLevelsBlockingStub(channel, callOptions);
        }
      };
    return StockLevelsBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static StockLevelsFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<StockLevelsFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<StockLevelsFutureStub>() {
        @java.lang.Override
        public StockLevelsFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new StockLevelsFutureStub(channel, callOptions);
        }
      };
    return StockLevelsFutureStub.newStub(factory, channel);
  }

  /**
   */
  public interface AsyncService {

    /**
     */
    default void getLevel(example.stock.grpc.LevelRequest request,
        io.grpc.stub.StreamObserver<example.stock.grpc.Level> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetLevelMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service StockLevels.
   */
  public static abstract class StockLevelsImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return StockLevelsGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service StockLevels.
   */
  public static final class StockLevelsStub
      extends io.grpc.stub.AbstractAsyncStub<StockLevelsStub> {
    private StockLevelsStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected StockLevelsStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new StockLevelsStub(channel, callOptions);
    }

    /**
     */
    public void getLevel(example.stock.grpc.LevelRequest request,
        io.grpc.stub.StreamObserver<example.stock.grpc.Level> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetLevelMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service StockLevels.
   */
  public static final class StockLevelsBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<StockLevelsBlockingV2Stub> {
    private StockLevelsBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected StockLevelsBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new StockLevelsBlockingV2Stub(channel, callOptions);
    }

    /**
     */
    public example.stock.grpc.Level getLevel(example.stock.grpc.LevelRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetLevelMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service StockLevels.
   */
  public static final class StockLevelsBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<StockLevelsBlockingStub> {
    private StockLevelsBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected StockLevelsBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new StockLevelsBlockingStub(channel, callOptions);
    }

    /**
     */
    public example.stock.grpc.Level getLevel(example.stock.grpc.LevelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetLevelMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service StockLevels.
   */
  public static final class StockLevelsFutureStub
      extends io.grpc.stub.AbstractFutureStub<StockLevelsFutureStub> {
    private StockLevelsFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected StockLevelsFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new StockLevelsFutureStub(channel, callOptions);
    }

    /**
     */
    public com.google.common.util.concurrent.ListenableFuture<example.stock.grpc.Level> getLevel(
        example.stock.grpc.LevelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetLevelMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_LEVEL = 0;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GET_LEVEL:
          serviceImpl.getLevel((example.stock.grpc.LevelRequest) request,
              (io.grpc.stub.StreamObserver<example.stock.grpc.Level>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getGetLevelMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              example.stock.grpc.LevelRequest,
              example.stock.grpc.Level>(
                service, METHODID_GET_LEVEL)))
        .build();
  }

  private static abstract class StockLevelsBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    StockLevelsBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return example.stock.grpc.Stock.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("StockLevels");
    }
  }

  private static final class StockLevelsFileDescriptorSupplier
      extends StockLevelsBaseDescriptorSupplier {
    StockLevelsFileDescriptorSupplier() {}
  }

  private static final class StockLevelsMethodDescriptorSupplier
      extends StockLevelsBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    StockLevelsMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (StockLevelsGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new StockLevelsFileDescriptorSupplier())
              .addMethod(getGetLevelMethod())
              .build();
        }
      }
    }
    return result;
  }
}
