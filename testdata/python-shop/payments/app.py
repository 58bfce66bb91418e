"""Payments service."""
import logging
import uuid

from flask import Flask, jsonify, request
from opentelemetry import trace

from gateway import Gateway, GatewayError

app = Flask(__name__)  # expect: global app Flask
log = logging.getLogger("payments")
tracer = trace.get_tracer(__name__)
gateway = Gateway()


@app.route("/api/payments", methods=["POST"])  # expect: http-route POST /api/payments
@tracer.start_as_current_span("payments.create")  # expect: span payments.create opentelemetry
def create_payment():  # expect: function payments.app.create_payment
    body = request.get_json(force=True)
    payment_id = str(uuid.uuid4())
    try:
        gateway.charge(payment_id, body["amount"])  # expect: call charge
    except GatewayError as err:  # expect: handler except log,return-error
        log.exception("gateway rejected %s", payment_id)
        return jsonify(error=str(err)), 402
    except KeyError:  # expect: handler except return-error
        return jsonify(error="amount missing"), 400
    return jsonify(payment_id=payment_id), 201


@app.post("/api/payments/<payment_id>/refund")  # expect: http-route POST /api/payments/<payment_id>/refund
def refund(payment_id):
    span = tracer.start_span("payments.refund")  # expect: span payments.refund opentelemetry
    try:
        gateway.refund(payment_id)
    finally:
        span.end()
    return "", 204


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)  # expect: global-call run
