"""Database engine and sessions for the catalog."""
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

DATABASE_URL = os.getenv("CATALOG_DB", "postgresql://catalog:catalog@catalog-db:5432/catalog")  # expect: constant DATABASE_URL postgresql://catalog:catalog@catalog-db:5432/catalog

engine = create_engine(DATABASE_URL, pool_pre_ping=True)  # expect: global engine Engine
SessionLocal = sessionmaker(bind=engine, autoflush=False)  # expect: global SessionLocal sessionmaker


def get_db():  # expect: function catalog.app.db.get_db
    db = SessionLocal()  # expect: local db SessionLocal
    try:
        yield db
    finally:
        db.close()
