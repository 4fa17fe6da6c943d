import GRDB
import Orbit

/// Checks, inside a batch's write transaction, that every customer the batch writes is still at the version its
/// engine read: another process that wrote the customer meanwhile makes the batch fail with ``StaleCustomer``, and
/// nothing of it is written.
struct CustomerVersionCheck: Sendable {
    private let expected: [(id: String, key: String, version: Int64)]

    init(_ commits: [EventCommit]) {
        var seen = Set<String>()
        var expected: [(id: String, key: String, version: Int64)] = []
        for index in commits.indices {
            guard let version = commits[index].expectedVersion, seen.insert(commits[index].customerID).inserted else {
                continue
            }
            expected.append((commits[index].customerID, SQLiteStore.key(commits[index].customerID), version))
        }
        self.expected = expected
    }

    func check(_ db: Database) throws {
        guard !expected.isEmpty else { return }
        let statement = try BulkStatement(db, sql: "SELECT version FROM customers WHERE id = ?")
        defer { statement.clearBindings() }
        for customer in expected {
            var key = customer.key
            let stored = try key.withUTF8 { key in
                statement.bind(.text(UnsafeRawBufferPointer(key)))
                return try statement.integer() ?? -1
            }
            if stored != customer.version { throw StaleCustomer(customerID: customer.id) }
        }
    }
}

extension SQLiteStore {
    public func customerVersions() async throws -> [String: Int64] {
        try await read("read customer versions") { db in
            var versions: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT json_extract(data, '$.id') AS id, version FROM customers") {
                versions[try row.decode(forColumn: "id")] = try row.decode(forColumn: "version")
            }
            return versions
        }
    }
}
