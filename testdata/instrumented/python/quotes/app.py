"""Quotes: prices a quantity of a product over gRPC (shop.quotes.Quotes), with a volume
discount. An unknown product is NOT_FOUND."""

import os
from concurrent import futures

import grpc
import quotes_pb2
import quotes_pb2_grpc

UNIT_PRICES = {1: 12.5, 2: 15.0, 3: 40.0}


class QuotesServicer(quotes_pb2_grpc.QuotesServicer):
    def GetQuote(self, request, context):  # noqa: N802 (the RPC's name)
        unit = UNIT_PRICES.get(request.product_id)
        if unit is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such product")
        discount = 0.9 if request.quantity >= 10 else 1.0
        total = unit * request.quantity * discount
        return quotes_pb2.Quote(product_id=request.product_id, total=total)


def serve(port):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    quotes_pb2_grpc.add_QuotesServicer_to_server(QuotesServicer(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=1)


if __name__ == "__main__":
    serve(int(os.environ.get("PORT", "50051")))
