INSERT INTO stock (sku, name, quantity) VALUES ('A-100', 'kettle', 500), ('B-200', 'teapot', 300), ('C-300', 'cup', 2);
