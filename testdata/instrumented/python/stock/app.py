"""Stock: units on hand per product, served with Tornado. Reservations take units off;
asking for more than is on hand is refused (HTTP 409)."""

import json
import os

import tornado.ioloop
import tornado.web

ON_HAND = {1: 40, 2: 25, 3: 4}


class HealthHandler(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "ok"})


class StockHandler(tornado.web.RequestHandler):
    def get(self, product_id):
        units = ON_HAND.get(int(product_id))
        if units is None:
            raise tornado.web.HTTPError(404)
        self.write({"product_id": int(product_id), "units": units})


class ReservationHandler(tornado.web.RequestHandler):
    def post(self, product_id):
        wanted = int(json.loads(self.request.body or b"{}").get("quantity", 1))
        units = ON_HAND.get(int(product_id), 0)
        if wanted > units:
            raise tornado.web.HTTPError(409)
        ON_HAND[int(product_id)] = units - wanted
        self.set_status(201)
        self.write({"product_id": int(product_id), "reserved": wanted})


def make_app():
    return tornado.web.Application(
        [
            (r"/health", HealthHandler),
            (r"/stock/(\d+)", StockHandler),
            (r"/stock/(\d+)/reservations", ReservationHandler),
        ]
    )


if __name__ == "__main__":
    make_app().listen(int(os.environ.get("PORT", "8002")), address="127.0.0.1")
    tornado.ioloop.IOLoop.current().start()
