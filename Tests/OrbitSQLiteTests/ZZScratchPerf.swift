import Foundation
import Orbit
import OrbitSQLite
import Testing

@Test func scratchPerf() async throws {
    let commits = try (0..<10_000).map { try syntheticCommit($0, customers: 5_000) }
    let clock = ContinuousClock()
    let encoder = JSONEncoder()
    var bytes = 0
    let enc = try clock.measure {
        for c in commits { bytes += try encoder.encode(c.customer).count }
    }
    print("encode customers: \(enc), avg bytes \(bytes / 10_000)")
    let enc2 = try clock.measure {
        for c in commits { for m in c.messages { bytes += try encoder.encode(m.data).count } }
    }
    print("encode messages: \(enc2)")
    let desc = clock.measure {
        for c in commits { bytes += c.customer.lastEventAt.description.utf8.count }
    }
    print("instant description x10k: \(desc)")
    try await withTemporaryDirectory { dir in
        let store = try SQLiteStore(path: databasePath(in: dir))
        let t = try await clock.measure {
            for b in 0..<10 { try await store.apply(Array(commits[(b * 1000)..<(b * 1000 + 1000)])) }
        }
        print("apply: \(t)")
    }
}
