"""HTTP clients for the other services."""
import logging
import os

import requests

log = logging.getLogger(__name__)

CATALOG_URL = os.environ.get("CATALOG_URL", "http://catalog:8000")  # expect: constant CATALOG_URL http://catalog:8000
PAYMENTS_URL = "http://payments:5000"  # expect: constant PAYMENTS_URL http://payments:5000


class PaymentsClient:  # expect: class orders.orders.clients.PaymentsClient
    def __init__(self, timeout=3.0):
        self.session = requests.Session()  # expect: call Session
        self.timeout = timeout

    def charge(self, order_id, amount):  # expect: function orders.orders.clients.PaymentsClient.charge
        resp = self.session.post(  # expect: http-call POST http://payments:5000/api/payments
            PAYMENTS_URL + "/api/payments",
            json={"order_id": order_id, "amount": str(amount)},
            timeout=self.timeout,
        )
        resp.raise_for_status()
        return resp.json()["payment_id"]

    def refund(self, payment_id):
        url = "%s/api/payments/%s/refund" % (PAYMENTS_URL, payment_id)
        try:
            requests.post(url, timeout=self.timeout)  # expect: http-call POST http://payments:5000/api/payments/{}/refund
        except requests.RequestException as exc:  # expect: handler except log,rethrow
            log.warning("refund of %s failed: %s", payment_id, exc)
            raise


def product(product_id):
    resp = requests.get(f"{CATALOG_URL}/api/products/{product_id}", timeout=2)  # expect: http-call GET http://catalog:8000/api/products/{}
    if resp.status_code == 404:
        return None
    return resp.json()


def reserve(items):
    return requests.post("{}/api/products/reserve".format(CATALOG_URL), json=items).json()  # expect: http-call POST http://catalog:8000/api/products/reserve
