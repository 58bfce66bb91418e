"""Card gateway client; this file is mid-edit and does not parse."""
import logging

import requests

log = logging.getLogger(__name__)


class GatewayError(Exception):
    pass


class Gateway:  # expect: syntax-error
    BASE = "https://gateway.example.com/v1"

    def charge(self, payment_id, amount):
        resp = requests.post(self.BASE + "/charges", json={"id": payment_id, "amount": amount}
        if resp.status_code != 200:
            raise GatewayError(resp.text)

    def refund(self, payment_id):  # expect: function payments.gateway.refund (recovered outside the class)
        requests.post(f"https://gateway.example.com/v1/charges/{payment_id}/refund")  # expect: http-call POST https://gateway.example.com/v1/charges/{}/refund
