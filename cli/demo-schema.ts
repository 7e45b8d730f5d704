// The demo's sample application database: a realistic mix of tables (foreign keys, a composite key,
// a table without a primary key, JSON, decimals, utf8mb4 text, DATETIME(6)/TIMESTAMP, ENUM/SET, BLOB,
// a generated column, a view and a trigger), generated server-side with MariaDB's sequence engine.
import type { Connection } from 'mysql2/promise';

export const DEMO_SCHEMA = 'shop';

/** Creates `shop` with about `rows` rows in total (at least a few hundred). Returns the row count. */
export async function createSampleSchema(admin: Connection, rows: number): Promise<number> {
  const scale = Math.max(1, Math.round(rows / 162));
  const customers = 10 * scale;
  const products = Math.max(10, 2 * scale);
  const orders = 40 * scale;
  const items = 80 * scale;
  const views = rows - customers - products - orders - items > 0 ? rows - customers - products - orders - items : 30 * scale;
  await admin.query(`CREATE DATABASE ${DEMO_SCHEMA} CHARACTER SET utf8mb4`);
  await admin.query(`USE ${DEMO_SCHEMA}`);
  await admin.query(`
    CREATE TABLE customers (
      id INT UNSIGNED NOT NULL PRIMARY KEY,
      email VARCHAR(120) NOT NULL UNIQUE,
      name VARCHAR(100) NOT NULL,
      country CHAR(2) NOT NULL,
      tier SET('newsletter','vip','beta') NOT NULL DEFAULT '',
      created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
    ) ENGINE=InnoDB;
    CREATE TABLE products (
      sku VARCHAR(16) NOT NULL PRIMARY KEY,
      title VARCHAR(200) NOT NULL,
      price DECIMAL(12,4) NOT NULL,
      attributes JSON NULL,
      thumbnail BLOB NULL,
      price_with_vat DECIMAL(12,4) AS (ROUND(price * 1.2, 4)) VIRTUAL
    ) ENGINE=InnoDB;
    CREATE TABLE orders (
      id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
      customer_id INT UNSIGNED NOT NULL,
      status ENUM('new','paid','shipped','cancelled') NOT NULL,
      total DECIMAL(14,2) NOT NULL DEFAULT 0,
      placed_at DATETIME(6) NOT NULL,
      note TEXT NULL,
      KEY (customer_id),
      CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
    ) ENGINE=InnoDB;
    CREATE TABLE order_items (
      order_id BIGINT UNSIGNED NOT NULL,
      line SMALLINT UNSIGNED NOT NULL,
      sku VARCHAR(16) NOT NULL,
      qty INT NOT NULL,
      unit_price DECIMAL(12,4) NOT NULL,
      PRIMARY KEY (order_id, line),
      CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES orders (id),
      CONSTRAINT fk_items_product FOREIGN KEY (sku) REFERENCES products (sku)
    ) ENGINE=InnoDB;
    CREATE TABLE page_views (
      customer_id INT UNSIGNED NULL,
      path VARCHAR(200) NOT NULL,
      viewed_at DATETIME(3) NOT NULL,
      referrer VARCHAR(200) NULL
    ) ENGINE=InnoDB;
    CREATE TABLE order_audit (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      order_id BIGINT UNSIGNED NOT NULL,
      what VARCHAR(40) NOT NULL
    ) ENGINE=InnoDB;`);
  await admin.query(`
    INSERT INTO customers (id, email, name, country, tier, created_at)
      SELECT seq, CONCAT('user', seq, '@example.com'), CONCAT(ELT(1 + seq % 5, 'Ana', 'Björn', 'Chloé', 'Dmitrij', 'Eun-ji'), ' ', seq, IF(seq % 7 = 0, ' 🚀', '')),
             ELT(1 + seq % 6, 'DE','FR','US','JP','BR','KR'), ELT(1 + seq % 4, '', 'newsletter', 'vip,newsletter', 'beta'),
             TIMESTAMP('2025-01-01') + INTERVAL seq MINUTE + INTERVAL (seq % 999999) MICROSECOND
      FROM seq_1_to_${customers};
    INSERT INTO products (sku, title, price, attributes, thumbnail)
      SELECT CONCAT('SKU-', LPAD(seq, 6, '0')), CONCAT('Product ', seq, ' – ', ELT(1 + seq % 3, 'Kaffeemühle', 'théière', '急須')),
             ROUND(1 + (seq * 7919 % 100000) / 100, 4),
             IF(seq % 9 = 0, NULL, JSON_OBJECT('color', ELT(1 + seq % 3, 'red', 'green', 'blue'), 'weight_g', seq % 5000, 'tags', JSON_ARRAY('a', seq % 10))),
             IF(seq % 4 = 0, UNHEX(SHA2(seq, 256)), NULL)
      FROM seq_1_to_${products};
    INSERT INTO orders (id, customer_id, status, total, placed_at, note)
      SELECT seq, 1 + seq % ${customers}, ELT(1 + seq % 4, 'new','paid','shipped','cancelled'), ROUND((seq * 31 % 50000) / 100, 2),
             TIMESTAMP('2025-06-01') + INTERVAL seq SECOND + INTERVAL (seq % 1000000) MICROSECOND,
             IF(seq % 5 = 0, CONCAT('Leave at the door\\nline 2 \\'quoted\\' #', seq), NULL)
      FROM seq_1_to_${orders};
    INSERT INTO order_items (order_id, line, sku, qty, unit_price)
      SELECT 1 + (seq - 1) DIV 2, 1 + (seq - 1) % 2, CONCAT('SKU-', LPAD(1 + seq % ${products}, 6, '0')), 1 + seq % 3, ROUND(1 + (seq % 997) / 10, 4)
      FROM seq_1_to_${Math.min(items, orders * 2)};
    INSERT INTO page_views (customer_id, path, viewed_at, referrer)
      SELECT IF(seq % 3 = 0, NULL, 1 + seq % ${customers}), CONCAT('/products/', seq % 500), TIMESTAMP('2025-07-01') + INTERVAL seq SECOND,
             IF(seq % 2 = 0, 'https://search.example/?q=caf%C3%A9', NULL)
      FROM seq_1_to_${views};
    CREATE VIEW order_totals AS SELECT customer_id, COUNT(*) AS orders, SUM(total) AS spent FROM orders GROUP BY customer_id;
    CREATE TRIGGER orders_status_audit AFTER UPDATE ON orders FOR EACH ROW
      INSERT INTO order_audit (order_id, what) VALUES (NEW.id, CONCAT(OLD.status, ' -> ', NEW.status));
    ANALYZE TABLE customers, products, orders, order_items, page_views;`);
  return customers + products + orders + Math.min(items, orders * 2) + views;
}
