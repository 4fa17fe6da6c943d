import Orbit
import Testing

@testable import OrbitSQLite

@Suite("EncodedRows")
struct EncodedRowsTests {
    /// A value read back, owning its text.
    enum Read: Equatable {
        case null
        case integer(Int64)
        case text(String)
    }

    private func readBack(_ rows: EncodedRows) throws -> [(EncodedRows.Target, Int, [Read])] {
        var read: [(EncodedRows.Target, Int, [Read])] = []
        try rows.withRows { rows in
            while var next = try rows.next() {
                var row: [Read] = []
                while let value = next.values.next() {
                    switch value {
                    case .null: row.append(.null)
                    case .integer(let number): row.append(.integer(number))
                    case .text(let utf8): row.append(.text(String(decoding: utf8, as: UTF8.self)))
                    }
                }
                read.append((next.target, next.commit, row))
            }
        }
        return read
    }

    @Test("reads back every row with its target, commit and values, in order")
    func roundTrip() throws {
        var rows = EncodedRows()
        rows.startRow(.ledgerEntry, commit: 0)
        rows.append("e-1#0")
        rows.append(String?.none)
        rows.append("")
        rows.append(Int64.min)
        rows.append(Int64?.none)
        rows.append(true)
        rows.append("jos\u{E9} \u{1F600}")
        rows.startRow(.segmentsAgainstStore, commit: 7)
        rows.startRow(.customer, commit: 70_000)
        rows.append(Int64.max)
        rows.appendText { $0.append(contentsOf: #"{"id":"c-1"}"#.utf8) }
        rows.append(false)

        let read = try readBack(rows)
        #expect(read.map(\.0) == [.ledgerEntry, .segmentsAgainstStore, .customer])
        #expect(read.map(\.1) == [0, 7, 70_000])
        #expect(
            read[0].2 == [
                .text("e-1#0"), .null, .text(""), .integer(.min), .null, .integer(1), .text("jos\u{E9} \u{1F600}"),
            ])
        #expect(read[1].2 == [])
        #expect(read[2].2 == [.integer(.max), .text(#"{"id":"c-1"}"#), .integer(0)])
    }

    @Test("a row whose values are left unread does not shift the next row")
    func unreadValuesAreSkipped() throws {
        var rows = EncodedRows()
        rows.startRow(.tierChange, commit: 1)
        rows.append("ada")
        rows.append(Int64(5))
        rows.startRow(.appliedEvent, commit: 2)
        rows.append("e-2")
        var seen: [(EncodedRows.Target, Int, Read?)] = []
        try rows.withRows { rows in
            while var row = try rows.next() {
                let first = row.values.next().map { value -> Read in
                    if case .text(let utf8) = value { return .text(String(decoding: utf8, as: UTF8.self)) }
                    return .null
                }
                seen.append((row.target, row.commit, first))
            }
        }
        #expect(seen.map(\.0) == [.tierChange, .appliedEvent])
        #expect(seen.map(\.2) == [.text("ada"), .text("e-2")])
    }

    @Test("a failing writer of a text value fails the encoding")
    func failingTextWriter() {
        struct Refused: Error {}
        var rows = EncodedRows()
        rows.startRow(.customer, commit: 0)
        #expect(throws: Refused.self) { try rows.appendText { _ in throw Refused() } }
    }
}

@Suite("PreparedBatch parts")
struct PreparedBatchPartsTests {
    @Test(
        "the parts cover every commit once, in order, none empty, for any batch and number of cores",
        arguments: [0, 1, 255, 256, 300, 2_500, 2_501, 10_000], [1, 2, 16, 24, 32, 64])
    func partsCoverTheBatch(commits: Int, cores: Int) {
        let parts = PreparedBatch.parts(of: commits, cores: cores)
        #expect(parts.flatMap { Array($0) } == Array(0..<commits))
        #expect(parts.allSatisfy { !$0.isEmpty } || commits == 0)
        #expect(parts.count <= max(1, cores))
        if commits < 256 { #expect(parts.count == 1) }
    }
}
