import GRDB
import GRDBSQLite
import Orbit

/// One SQL statement executed many times inside one write transaction, bound through SQLite's C API directly.
///
/// Why: a 2,500-event replay batch makes ~14,000 row writes; through GRDB's `StatementArguments` each binding is
/// boxed as a `DatabaseValue` in an array, which added about 45 % to SQLite's own work (profiled on the CDNOW
/// replay), and fetching one value through a GRDB cursor cost twice what SQLite's step did. Here a value goes
/// straight to `sqlite3_bind_*`. The statement is GRDB's cached statement for `sql` on the transaction's
/// connection: prepared once per connection, and kept alive by this object should GRDB's cache drop it. No GRDB code
/// runs these SQL texts; they are stepped here only, inside the closure that `DatabaseWriter.write` runs. Only
/// `apply` (every batch of commits: its writes and the customer-version check) uses it; everything else goes through
/// GRDB.
final class BulkStatement {
    private let connection: OpaquePointer
    /// Keeps GRDB's statement, and so `statement`, alive.
    private let owner: Statement
    private let statement: OpaquePointer
    private var index: Int32 = 0

    /// The statement for `sql` on `db`'s connection.
    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else { throw StoreError("the database connection is closed") }
        owner = try db.cachedStatement(sql: sql)
        self.connection = connection
        statement = owner.sqliteStatement
    }

    /// Binds the next parameter (parameters are bound in order, then ``execute()`` or ``integer()`` runs the
    /// statement). Text is bound where it lies, without SQLite's copy (`SQLITE_STATIC`): in an ``EncodedRows`` buffer,
    /// or a string's UTF-8 inside `withUTF8`. The caller keeps those bytes alive and unchanged until the statement has
    /// run, and calls ``clearBindings()`` before they go.
    func bind(_ value: EncodedRows.Value) {
        index += 1
        switch value {
        case .null:
            sqlite3_bind_null(statement, index)
        case .integer(let number):
            sqlite3_bind_int64(statement, index, number)
        case .text(let utf8):
            // A null pointer would bind NULL. A slice of a non-empty buffer always has an address, so this fallback to
            // a static empty string is a guard only.
            _ = sqlite3_bind_text(
                statement, index, utf8.baseAddress?.assumingMemoryBound(to: CChar.self) ?? Self.emptyText,
                Int32(utf8.count), nil)  // nil: SQLITE_STATIC
        }
    }

    /// How many parameters the statement has.
    var parameterCount: Int { Int(sqlite3_bind_parameter_count(statement)) }

    /// Forgets every bound value (after binding text from a buffer that is about to go away).
    func clearBindings() { sqlite3_clear_bindings(statement) }

    /// Runs the statement with the parameters bound since the last run, then readies it for the next.
    ///
    /// - Throws: GRDB's `DatabaseError` with SQLite's code and message, as GRDB itself would report it.
    func execute() throws {
        try step { code in
            guard code == SQLITE_DONE else { throw error(code) }
        }
    }

    /// Runs a query with the parameters bound since the last run and returns the integer in the first column of its
    /// first row (nil when it has none), then readies it for the next.
    ///
    /// - Throws: GRDB's `DatabaseError` with SQLite's code and message.
    func integer() throws -> Int64? {
        try step { code in
            switch code {
            case SQLITE_ROW: return sqlite3_column_int64(statement, 0)
            case SQLITE_DONE: return nil
            default: throw error(code)
            }
        }
    }

    /// Steps the statement once with the parameters bound since the last run, hands `body` SQLite's result code while
    /// a row is readable, then readies the statement for the next run.
    ///
    /// It refuses to run outside a transaction. GRDB checks this for the statements it runs; stepped here directly,
    /// a statement after an error that ended the transaction (an interruption, an I/O error) would be saved on its own.
    private func step<T>(_ body: (Int32) throws -> T) throws -> T {
        index = 0
        defer { sqlite3_reset(statement) }
        guard sqlite3_get_autocommit(connection) == 0 else {
            throw StoreError("internal error: a batch statement ran outside its write transaction")
        }
        return try body(sqlite3_step(statement))
    }

    /// SQLite's error `code` for this statement, as GRDB reports errors.
    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)),
            sql: String(cString: sqlite3_sql(statement)))
    }

    /// An empty C string that lives as long as the process.
    nonisolated(unsafe) private static let emptyText: UnsafePointer<CChar> = {
        let empty = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        empty.initialize(to: 0)
        return UnsafePointer(empty)
    }()
}
