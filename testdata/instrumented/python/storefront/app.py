"""Storefront: the shop's web front. Reads products from the catalog service over HTTP
(requests, httpx), asks the stock service for units on hand and reserves them (aiohttp),
prices orders with the quotes service (gRPC), and keeps orders in SQLite through
SQLAlchemy."""

import asyncio
import os

import aiohttp
import grpc
import httpx
import quotes_pb2
import quotes_pb2_grpc
import requests
from flask import Flask, abort, jsonify, request
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

CATALOG_URL = os.environ.get("CATALOG_URL", "http://127.0.0.1:8001")
STOCK_URL = os.environ.get("STOCK_URL", "http://127.0.0.1:8002")
QUOTES_ADDRESS = os.environ.get("QUOTES_ADDRESS", "127.0.0.1:50051")
DATABASE_URL = os.environ.get("STOREFRONT_DATABASE_URL", "sqlite:///storefront.db")


class Base(DeclarativeBase):
    pass


class Order(Base):
    """One order of a quantity of one product."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="new")


class QuotesClient:
    """The quotes service's stub over one channel."""

    def __init__(self, address):
        self.stub = quotes_pb2_grpc.QuotesStub(grpc.insecure_channel(address))

    def total(self, product_id, quantity):
        request = quotes_pb2.QuoteRequest(product_id=product_id, quantity=quantity)
        try:
            return self.stub.GetQuote(request, timeout=5).total
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise


engine = create_engine(DATABASE_URL)
Base.metadata.create_all(engine)
app = Flask(__name__)
quotes = QuotesClient(QUOTES_ADDRESS)


def catalog(path, **params):
    """GET from the catalog service; a failure there fails the request here."""
    response = requests.get(f"{CATALOG_URL}{path}", params=params, timeout=5)
    if response.status_code == 404:
        abort(404)
    response.raise_for_status()
    return response.json()


async def stock_of(product_id):
    url = f"{STOCK_URL}/stock/{product_id}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        if response.status == 404:
            return None
        response.raise_for_status()
        return await response.json()


async def reserve(product_id, quantity):
    """Takes units off the stock; False when there are not enough."""
    url = f"{STOCK_URL}/stock/{product_id}/reservations"
    async with (
        aiohttp.ClientSession() as session,
        session.request("POST", url, json={"quantity": quantity}) as response,
    ):
        if response.status == 409:
            return False
        response.raise_for_status()
        return True


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/products")
def list_products():
    return jsonify(catalog("/products", category=request.args.get("category", "tea")))


@app.get("/products/<int:product_id>")
def show_product(product_id):
    return catalog(f"/products/{product_id}")


@app.get("/categories")
def list_categories():
    response = httpx.get(f"{CATALOG_URL}/categories", timeout=5)
    response.raise_for_status()
    return jsonify(response.json())


@app.get("/products/<int:product_id>/stock")
def product_stock(product_id):
    stock = asyncio.run(stock_of(product_id))
    if stock is None:
        abort(404)
    return stock


@app.get("/products/<int:product_id>/quote")
def product_quote(product_id):
    quantity = int(request.args.get("quantity", "1"))
    total = quotes.total(product_id, quantity)
    if total is None:
        abort(404)
    return {"product_id": product_id, "quantity": quantity, "total": total}


@app.get("/products/<int:product_id>/reviews")
def product_reviews(product_id):
    # The catalog's reviews endpoint fails; raise_for_status turns that into a 500 here.
    return jsonify(catalog(f"/products/{product_id}/reviews"))


@app.post("/orders")
def place_order():
    body = request.get_json(force=True)
    product = catalog(f"/products/{int(body['product_id'])}")
    quantity = int(body.get("quantity", 1))
    if not asyncio.run(reserve(product["id"], quantity)):
        abort(409)
    with Session(engine) as session:
        order = Order(product_id=product["id"], quantity=quantity)
        session.add(order)
        session.commit()
        return {"id": order.id, "status": order.status}, 201


@app.get("/orders/<int:order_id>")
def show_order(order_id):
    with Session(engine) as session:
        order = session.scalars(select(Order).where(Order.id == order_id)).first()
        if order is None:
            abort(404)
        return {"id": order.id, "product_id": order.product_id, "quantity": order.quantity}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), use_reloader=False)
