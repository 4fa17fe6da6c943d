import Foundation
import Testing

@testable import Orbit

@Suite("Instant")
struct InstantTests {
    @Test(
        "is written as ISO 8601 in UTC, milliseconds only when not zero, whatever the year",
        arguments: [
            (0, "1970-01-01T00:00:00Z"),
            (1_763_633_700_000, "2025-11-20T10:15:00Z"),
            (1_763_633_700_250, "2025-11-20T10:15:00.250Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (-62_198_755_200_000, "-0001-01-01T00:00:00Z"),
            (253_402_300_800_000, "10000-01-01T00:00:00Z"),
        ] as [(Int64, String)])
    func description(milliseconds: Int64, text: String) {
        let instant = Instant(millisecondsSinceEpoch: milliseconds)
        #expect(instant.description == text)
        #expect(instant.withISO8601UTF8 { Array($0) } == Array(text.utf8))
    }

    @Test("reads back what it writes")
    func roundTrip() throws {
        for milliseconds: Int64 in [0, 1_763_633_700_250, -1, 951_782_400_000] {
            let instant = Instant(millisecondsSinceEpoch: milliseconds)
            #expect(Instant(iso8601: instant.description) == instant)
        }
    }

    /// A rule can compute an instant beyond year 9999 (points that expire in ten million days): stored, it must read
    /// back, or the customer holding it could not be loaded. Input stays limited to years 0…9999.
    @Test("decodes what it encodes, whatever the year; input takes years 0…9999 only")
    func anyYearDecodes() throws {
        for milliseconds: Int64 in [-62_198_755_200_000, 253_402_300_800_000, 864_000_000_000_000_000, -1] {
            let instant = Instant(millisecondsSinceEpoch: milliseconds)
            let json = try JSONEncoder().encode([instant])
            #expect(try JSONDecoder().decode([Instant].self, from: json) == [instant])
        }
        #expect(Instant(iso8601: "10000-01-01T00:00:00Z") == nil)
        #expect(Instant(iso8601: "-0001-01-01T00:00:00Z") == nil)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Instant].self, from: Data(#"["1-01-01"]"#.utf8)) }
    }
}
