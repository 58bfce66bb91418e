"""Order tables (Flask-SQLAlchemy)."""
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()  # expect: global db SQLAlchemy


class Order(db.Model):  # expect: class orders.orders.models.Order db.Model
    __tablename__ = "orders"

    id = db.Column(db.Integer, primary_key=True)
    customer_id = db.Column(db.String(64), nullable=False)
    status = db.Column(db.String(16), default="new")
    total = db.Column(db.Numeric(10, 2))


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"))
    product_id = db.Column(db.Integer)
    qty = db.Column(db.Integer)
