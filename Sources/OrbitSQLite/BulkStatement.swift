import GRDB
import GRDBSQLite
import Orbit

/// One SQL statement executed many times inside one write transaction, bound through SQLite's C API directly.
///
/// Why: a 2,500-event replay batch makes ~14,000 row writes; through GRDB's `StatementArguments` each binding is
/// boxed as a `DatabaseValue` in an array, which added about 45 % to SQLite's own work (profiled on the CDNOW
/// replay). Here a value goes straight to `sqlite3_bind_*`. The statement is prepared on the transaction's connection
/// and finalised when the value is released: it never outlives the closure that `DatabaseWriter.write` runs it in,
/// and GRDB's statement cache is not involved. Only `apply` (every batch of commits) uses it; everything else goes
/// through GRDB.
final class BulkStatement {
    private let connection: OpaquePointer
    private let statement: OpaquePointer
    private var index: Int32 = 0

    /// Prepares `sql` on `db`'s connection.
    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else { throw StoreError("the database connection is closed") }
        var prepared: OpaquePointer?
        let code = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard code == SQLITE_OK, let prepared else { throw Self.error(code, connection, sql: sql) }
        self.connection = connection
        self.statement = prepared
    }

    deinit { sqlite3_finalize(statement) }

    /// Binds the next parameter (parameters are bound in order, then ``execute()`` runs the statement) to a value
    /// read from an ``EncodedRows`` buffer. Text is bound where it lies, without SQLite's copy (`SQLITE_STATIC`): the
    /// caller keeps the buffer alive and unchanged until the statement has run and calls ``clearBindings()`` before
    /// letting it go.
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
        index = 0
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            let error = Self.error(code, connection, sql: String(cString: sqlite3_sql(statement)))
            sqlite3_reset(statement)
            throw error
        }
        sqlite3_reset(statement)
    }

    private static func error(_ code: Int32, _ connection: OpaquePointer?, sql: String) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: connection.map { String(cString: sqlite3_errmsg($0)) },
            sql: sql)
    }

    /// An empty C string that lives as long as the process.
    nonisolated(unsafe) private static let emptyText: UnsafePointer<CChar> = {
        let empty = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        empty.initialize(to: 0)
        return UnsafePointer(empty)
    }()
}
