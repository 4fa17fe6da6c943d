import ArgumentParser
import Orbit
import OrbitSQLite

/// Where a command that changes state keeps it: a SQLite file, or memory for a dry run.
struct StoreOptions: ParsableArguments {
    @Option(help: "SQLite database file (created when missing).")
    var db: String = "orbit.db"

    @Flag(help: "Keep state in memory instead of a database (a dry run: nothing is kept).")
    var inMemory = false

    /// The store the options name.
    func store() throws -> any Store {
        inMemory ? MemoryStore() : try SQLiteStore(path: db)
    }
}
