"""Product routes."""
import logging

from fastapi import APIRouter, Depends, HTTPException
from opentelemetry import trace
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import get_db
from .models import Product

logger = logging.getLogger(__name__)  # expect: global logger Logger
tracer = trace.get_tracer(__name__)
router = APIRouter(prefix="/products")  # expect: global-call APIRouter /products


@router.get("/{product_id}")  # expect: http-route GET /{product_id}
def get_product(product_id: int, db: Session = Depends(get_db)):  # expect: param db Session
    product = db.get(Product, product_id)  # expect: db-query get
    if product is None:
        raise HTTPException(status_code=404, detail="no such product")  # expect: exit raise
    return {"id": product.id, "name": product.name, "price": float(product.price)}


@router.get("")  # expect: http-route GET
def list_products(limit: int = 50, db: Session = Depends(get_db)):
    rows = db.execute(select(Product).limit(limit)).scalars().all()  # expect: db-query execute
    return [{"id": p.id, "name": p.name} for p in rows]


@router.post("/reserve")  # expect: http-route POST /reserve
def reserve(items: list[dict], db: Session = Depends(get_db)):  # expect: function catalog.app.routes.reserve
    with tracer.start_as_current_span("catalog.reserve"):  # expect: span catalog.reserve opentelemetry
        reserved = []
        for item in items:
            product = db.execute(  # expect: loop-call execute
                select(Product).where(Product.id == item["id"]).with_for_update()
            ).scalar_one_or_none()
            if product is None or product.stock < item["qty"]:
                db.rollback()
                raise HTTPException(status_code=409, detail="out of stock")
            product.stock -= item["qty"]
            reserved.append(product.id)
        try:
            db.commit()  # expect: db-query commit
        except Exception:  # expect: handler except log,return-error
            logger.exception("commit failed")
            raise HTTPException(status_code=500, detail="could not reserve")
    return {"reserved": reserved}
