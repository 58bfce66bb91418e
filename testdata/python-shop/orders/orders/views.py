"""Order routes."""
import logging

from flask import Blueprint, abort, jsonify, request
from opentelemetry import trace

from . import clients
from .clients import PaymentsClient
from .models import Order, OrderLine, db

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("orders")

bp = Blueprint("orders", __name__, url_prefix="/api/orders")  # expect: global-call Blueprint url_prefix=/api/orders
payments = PaymentsClient()  # expect: global payments PaymentsClient


@bp.route("", methods=["POST"])  # expect: http-route POST
def create_order():  # expect: function orders.orders.views.create_order
    body = request.get_json()
    order = Order(customer_id=body["customer_id"])  # expect: local order Order
    total = 0
    for line in body["lines"]:
        product = clients.product(line["product_id"])  # expect: loop-call product
        if product is None:
            abort(400)  # expect: exit raise
        total += product["price"] * line["qty"]
        order.lines.append(OrderLine(product_id=line["product_id"], qty=line["qty"]))
    order.total = total
    db.session.add(order)  # expect: db-query add
    db.session.commit()

    with tracer.start_as_current_span("orders.charge") as span:  # expect: span orders.charge opentelemetry
        span.set_attribute("order.total", float(total))
        try:
            payment_id = payments.charge(order.id, total)  # expect: call charge
        except Exception:  # expect: handler except log,return-error
            logger.error("payment failed for order %s", order.id)
            order.status = "payment_failed"
            db.session.commit()
            return jsonify(error="payment failed"), 502
    order.status = "paid"
    db.session.commit()
    return jsonify(id=order.id, payment_id=payment_id), 201


@bp.route("/<int:order_id>")  # expect: http-route GET /<int:order_id>
def get_order(order_id):
    order = db.session.query(Order).filter_by(id=order_id).first()  # expect: db-query first
    if order is None:
        abort(404)
    return jsonify(id=order.id, status=order.status, total=float(order.total))


@bp.get("/customer/<customer_id>")  # expect: http-route GET /customer/<customer_id>
def orders_of_customer(customer_id):
    orders = Order.query.filter_by(customer_id=customer_id).all()
    result = []
    for o in orders:
        lines = db.session.query(OrderLine).filter_by(order_id=o.id).all()  # expect: loop-call all
        result.append({"id": o.id, "lines": len(lines)})
    return jsonify(result)


@bp.route("/<int:order_id>/cancel", methods=["POST", "DELETE"])  # expect: http-route DELETE /<int:order_id>/cancel
def cancel(order_id):
    order = db.session.get(Order, order_id)
    try:
        clients.reserve([])  # expect: call reserve
        payments.refund(order.payment_id)
    except ValueError:  # expect: handler except swallow
        pass
    order.status = "cancelled"
    db.session.commit()
    return "", 204
