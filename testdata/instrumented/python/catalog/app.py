"""Catalog: products and categories, served with FastAPI. Reviews are not available: that
endpoint fails with an unhandled exception (HTTP 500)."""

from fastapi import FastAPI, HTTPException

PRODUCTS = {
    1: {"id": 1, "name": "sencha", "category": "tea", "price": 12.5},
    2: {"id": 2, "name": "oolong", "category": "tea", "price": 15.0},
    3: {"id": 3, "name": "teapot", "category": "ware", "price": 40.0},
}

app = FastAPI(title="catalog")


class ReviewsUnavailableError(RuntimeError):
    """The reviews store is not part of this deployment."""


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/products")
def list_products(category: str | None = None):
    return [p for p in PRODUCTS.values() if category is None or p["category"] == category]


@app.get("/products/{product_id}")
def get_product(product_id: int):
    if product_id not in PRODUCTS:
        raise HTTPException(status_code=404, detail="no such product")
    return PRODUCTS[product_id]


@app.get("/products/{product_id}/reviews")
def get_reviews(product_id: int):
    raise ReviewsUnavailableError(f"no reviews store for product {product_id}")


def list_categories():
    return sorted({p["category"] for p in PRODUCTS.values()})


# A route registered without a decorator.
app.add_api_route("/categories", list_categories, methods=["GET"])
