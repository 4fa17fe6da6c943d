import GRDB
import Orbit

/// The `v3-analytics` migration: what reports and predictions need beyond the v1 tables.
enum AnalyticsSchema {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                -- Segment entries (entered = 1) and exits, written when a commit changes a customer's membership.
                -- History starts with this migration: memberships recorded before it have no entry row.
                CREATE TABLE segment_changes (
                    seq INTEGER PRIMARY KEY,
                    customer_id TEXT NOT NULL,
                    segment TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    entered INTEGER NOT NULL
                );

                -- Scores (0-10) of survey events, for NPS.
                CREATE TABLE survey_responses (
                    event_id TEXT PRIMARY KEY NOT NULL,
                    customer_id TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    score INTEGER NOT NULL
                ) WITHOUT ROWID;

                -- The last `orbit fit`: one row. Model parameters as JSON (BGNBDParameters, GammaGammaParameters).
                CREATE TABLE prediction_fit (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    calibration_end INTEGER NOT NULL,
                    horizon_days INTEGER NOT NULL,
                    currency TEXT,
                    purchases TEXT NOT NULL,
                    spend TEXT
                );

                -- What the last fit predicts per customer; money in minor units of prediction_fit.currency.
                CREATE TABLE customer_predictions (
                    customer_id TEXT PRIMARY KEY NOT NULL,
                    p_alive REAL NOT NULL,
                    expected_purchases REAL NOT NULL,
                    expected_order_value INTEGER,
                    predicted_clv INTEGER
                ) WITHOUT ROWID;
                """
        )
    }
}
