"""Orders service: Flask application factory."""
from flask import Flask

from .models import db


def create_app():  # expect: function orders.orders.create_app
    app = Flask(__name__)  # expect: local app Flask
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://orders@orders-db/orders"
    db.init_app(app)

    from .views import bp

    app.register_blueprint(bp)  # expect: call register_blueprint
    return app
