"""Catalog tables."""
from sqlalchemy import Integer, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Product(Base):  # expect: class catalog.app.models.Product Base
    __tablename__ = "products"  # expect: constant Product.__tablename__ products

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # expect: field Product.id Mapped
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[float] = mapped_column(Numeric(10, 2))
    stock: Mapped[int] = mapped_column(Integer, default=0)
