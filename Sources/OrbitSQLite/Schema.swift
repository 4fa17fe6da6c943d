import GRDB

/// The versioned schema of an Orbit database. Migrations are named, applied in order, each once, and recorded by
/// GRDB in `grdb_migrations`; a released migration is never edited, a change is a new `vN-…` migration.
///
/// Conventions of the schema:
/// - Instants are INTEGER milliseconds since the Unix epoch (compact, sortable, comparable in SQL).
/// - Customer and event ids are stored as keys in Unicode NFC (see `SQLiteStore.key(_:)`), so that two ids Swift
///   considers equal (canonically equivalent) are one row, exactly as in ``MemoryStore``'s dictionaries.
/// - Append-only tables (`ledger`, `outbox`, `tier_changes`) have an INTEGER `seq` primary key
///   (the rowid): it gives insertion order, which is the order the protocol returns, and appending to a rowid table
///   is the cheapest insert SQLite has. Ledger and outbox ids are stored, not constrained unique: ``MemoryStore``
///   does not enforce that either. Their ids derive from the id of the event or lapse that made them, which is
///   applied once: an event by `applied_events`, a lapse by the customer's state and the customer-version check.
/// - No foreign keys: every row of a commit is written in the same transaction as its customer, and a check per
///   insert would cost replay throughput for nothing.
enum Schema {
    /// The migration identifiers, in order.
    static let versions = ["v1-initial", "v2-checkout", "v3-analytics", "v4-customer-versions"]

    /// The migrator for the schema.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial") { db in
            // The latest state of each customer: the Codable blob is the source of truth, the other columns are
            // copies kept for SQL (tier counts, inactivity scans, forgotten customers).
            try db.execute(
                sql: """
                    CREATE TABLE customers (
                        id TEXT PRIMARY KEY NOT NULL,
                        tier TEXT,
                        last_event_at INTEGER NOT NULL,
                        is_forgotten INTEGER NOT NULL DEFAULT 0,
                        data TEXT NOT NULL
                    );
                    -- Tier counts read this covering index instead of every customer's blob. last_event_at has no
                    -- index: nothing queries it by range yet, and it changes on every commit.
                    CREATE INDEX customers_tier ON customers(tier);

                    -- The idempotency guard: an event id is applied at most once (primary key).
                    CREATE TABLE applied_events (
                        event_id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        customer_id TEXT NOT NULL,
                        at INTEGER NOT NULL
                    ) WITHOUT ROWID;

                    -- The append-only points ledger. entry_customer_id is set only when the entry's own customer id
                    -- differs (byte for byte) from customer_id, the key it is filed under.
                    CREATE TABLE ledger (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL,
                        customer_id TEXT NOT NULL,
                        entry_customer_id TEXT,
                        kind TEXT NOT NULL,
                        points INTEGER NOT NULL,
                        at INTEGER NOT NULL,
                        expires_at INTEGER,
                        rule TEXT,
                        event_id TEXT,
                        reason TEXT
                    );
                    CREATE INDEX ledger_customer ON ledger(customer_id);

                    -- Messages for the sender. delivered_at is for the sender to set; Orbit only appends.
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL,
                        customer_id TEXT NOT NULL,
                        message_customer_id TEXT,
                        channel TEXT NOT NULL,
                        template TEXT NOT NULL,
                        data TEXT NOT NULL,
                        queued_at INTEGER NOT NULL,
                        rule TEXT NOT NULL,
                        delivered_at INTEGER
                    );
                    CREATE INDEX outbox_customer ON outbox(customer_id);

                    -- Segment membership as last recorded for each customer.
                    CREATE TABLE segment_members (
                        customer_id TEXT NOT NULL,
                        segment TEXT NOT NULL,
                        PRIMARY KEY (customer_id, segment)
                    ) WITHOUT ROWID;

                    -- Tier history.
                    CREATE TABLE tier_changes (
                        seq INTEGER PRIMARY KEY,
                        customer_id TEXT NOT NULL,
                        event_id TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        from_tier TEXT,
                        to_tier TEXT
                    );
                    CREATE INDEX tier_changes_customer ON tier_changes(customer_id);

                    -- Applied effects counted per rule and kind, for reports. A counter rather than a row per effect:
                    -- apply() adds up a batch in Swift and upserts each (rule, kind) once, so a 1,000-commit batch
                    -- costs a handful of writes instead of ~1,000; and no effect detail (which may quote personal
                    -- data) is kept. The audit trail of points and messages is in ledger and outbox (rule, event).
                    CREATE TABLE rule_effects (
                        rule TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (rule, kind)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v2-checkout") { db in
            try db.execute(
                sql: """
                    -- Committed orders, by order id (the idempotency key of commit): the quote as committed and the
                    -- running refund totals, as JSON.
                    CREATE TABLE orders (
                        order_id TEXT PRIMARY KEY NOT NULL,
                        customer_id TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        data TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX orders_customer ON orders(customer_id);

                    -- Applied refunds, by refund id (the idempotency key of refund).
                    CREATE TABLE refunds (
                        refund_id TEXT PRIMARY KEY NOT NULL,
                        order_id TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        data TEXT NOT NULL
                    ) WITHOUT ROWID;

                    -- Usage counters: uses of offers and coupons, budget spent. A commit adds its claims and checks
                    -- each against its limit inside the write transaction, so no cap or budget is ever overspent,
                    -- however many processes commit at once (SQLite serialises writers).
                    CREATE TABLE usage (
                        key TEXT PRIMARY KEY NOT NULL,
                        used INTEGER NOT NULL
                    ) WITHOUT ROWID;

                    -- Coupons issued by rules (coupons declared in rule files live in the rules).
                    CREATE TABLE coupons (
                        code TEXT PRIMARY KEY NOT NULL,
                        offer TEXT NOT NULL,
                        customer_id TEXT,
                        data TEXT NOT NULL
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v3-analytics", migrate: AnalyticsSchema.migrate)
        migrator.registerMigration("v4-customer-versions") { db in
            // Grows by one each time a batch writes the customer: engines in other processes compare it with the
            // version they read, so that none writes back a customer it holds in an outdated state.
            try db.execute(sql: "ALTER TABLE customers ADD COLUMN version INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }
}
