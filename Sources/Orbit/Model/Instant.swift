import Foundation
import Synchronization

/// A point in time, in UTC, with millisecond precision. Orbit never reads the wall clock in its logic: it gets
/// instants from events and from an injected ``EngineClock``.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// Creates an instant from milliseconds since the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// This instant moved by `days` whole days of 24 hours.
    public func adding(days: Int) -> Instant {
        Instant(millisecondsSinceEpoch: millisecondsSinceEpoch + Int64(days) * Self.millisecondsPerDay)
    }

    /// Whole days from `earlier` to this instant (rounded down).
    public func days(since earlier: Instant) -> Int {
        let difference = millisecondsSinceEpoch - earlier.millisecondsSinceEpoch
        return Int(difference >= 0 ? difference / Self.millisecondsPerDay : -((-difference + Self.millisecondsPerDay - 1) / Self.millisecondsPerDay))
    }

    static let millisecondsPerDay: Int64 = 86_400_000

    /// ISO 8601 in UTC: `2026-11-20T10:15:00Z` (milliseconds shown only when not zero).
    public var description: String {
        withISO8601UTF8 { text in String(unsafeUninitializedCapacity: text.count) { $0.initialize(fromContentsOf: text) } }
    }

    /// Calls `body` with ``description``'s UTF-8 bytes, without making a `String` (the store writes every order's and
    /// points batch's instant of every customer it saves). The bytes are valid only inside `body`.
    package func withISO8601UTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let (days, milliseconds) = millisecondsSinceEpoch.floorDivided(by: Self.millisecondsPerDay)
        let (year, month, day) = CivilDate.fromDays(days)
        let seconds = milliseconds / 1000
        // Written byte by byte. Years outside 0...9999 keep their sign and every digit.
        let wideYear = (0...9999).contains(year) ? nil : pad(year, 4)
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24 + (wideYear?.utf8.count ?? 0)) { buffer in
            var end = 0
            if let wideYear {
                for byte in wideYear.utf8 {
                    buffer[end] = byte
                    end += 1
                }
            } else {
                end = Self.write(digits: year, width: 4, into: buffer, at: 0)
            }
            end = Self.write(separator: "-", digits: month, width: 2, into: buffer, at: end)
            end = Self.write(separator: "-", digits: day, width: 2, into: buffer, at: end)
            end = Self.write(separator: "T", digits: seconds / 3600, width: 2, into: buffer, at: end)
            end = Self.write(separator: ":", digits: seconds / 60 % 60, width: 2, into: buffer, at: end)
            end = Self.write(separator: ":", digits: seconds % 60, width: 2, into: buffer, at: end)
            if milliseconds % 1000 != 0 {
                end = Self.write(separator: ".", digits: milliseconds % 1000, width: 3, into: buffer, at: end)
            }
            buffer[end] = UInt8(ascii: "Z")
            return try body(UnsafeBufferPointer(rebasing: buffer[...end]))
        }
    }

    /// Writes `separator` and then `value` (0 or more) as `width` decimal digits at `offset`; returns the end.
    private static func write(
        separator: Unicode.Scalar, digits value: Int64, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>,
        at offset: Int
    ) -> Int {
        buffer[offset] = UInt8(ascii: separator)
        return write(digits: value, width: width, into: buffer, at: offset + 1)
    }

    /// Writes `value` (0 or more, below 10^width) as `width` decimal digits at `offset`; returns the end.
    private static func write(
        digits value: Int64, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int
    ) -> Int {
        var rest = value
        for index in stride(from: offset + width - 1, through: offset, by: -1) {
            buffer[index] = UInt8(truncatingIfNeeded: 48 + rest % 10)
            rest /= 10
        }
        return offset + width
    }

    /// Parses ISO 8601 with a zone: `2026-11-20T10:15:00Z`, `2026-11-20T11:15:00+01:00`, fractional seconds allowed;
    /// a bare date `2026-11-20` means midnight UTC. Returns nil for anything else, years outside 0…9999 included (an
    /// event dated so is a mistake in its file).
    public init?(iso8601 text: String) {
        self.init(iso8601: text, anyYear: false)
    }

    /// Parses ISO 8601 like ``init(iso8601:)``, and with `anyYear` also years outside 0…9999 as ``description``
    /// writes them (`-0001-…`, `10000-…`): an instant the engine computed (a far expiry) must read back.
    private init?(iso8601 text: String, anyYear: Bool) {
        var bytes = Array(text.utf8)[...]
        func number(_ count: Int) -> Int64? {
            guard bytes.count >= count else { return nil }
            var value: Int64 = 0
            for byte in bytes.prefix(count) {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            bytes = bytes.dropFirst(count)
            return value
        }
        func expect(_ character: UInt8) -> Bool {
            guard bytes.first == character else { return false }
            bytes = bytes.dropFirst()
            return true
        }
        var year: Int64?
        if anyYear {
            let negative = expect(UInt8(ascii: "-"))
            let digits = bytes.prefix { $0 >= 48 && $0 <= 57 }.count
            year = digits >= 4 && digits <= 15 ? number(digits).map { negative ? -$0 : $0 } : nil
        } else {
            year = number(4)
        }
        guard let year, expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year)
        else { return nil }
        var milliseconds: Int64 = 0
        if !bytes.isEmpty {
            guard expect(UInt8(ascii: "T")) || expect(UInt8(ascii: " ")), let hour = number(2),
                expect(UInt8(ascii: ":")), let minute = number(2), hour < 24, minute < 60
            else { return nil }
            var second: Int64 = 0
            if expect(UInt8(ascii: ":")) {
                guard let value = number(2), value < 60 else { return nil }
                second = value
            }
            var fraction: Int64 = 0
            if expect(UInt8(ascii: ".")) {
                var digits = 0
                while let byte = bytes.first, byte >= 48, byte <= 57 {
                    if digits < 3 { fraction = fraction * 10 + Int64(byte - 48) }
                    digits += 1
                    bytes = bytes.dropFirst()
                }
                guard digits > 0 else { return nil }
                if digits < 3 { for _ in digits..<3 { fraction *= 10 } }
            }
            milliseconds = ((hour * 60 + minute) * 60 + second) * 1000 + fraction
            if expect(UInt8(ascii: "Z")) {
            } else if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                bytes = bytes.dropFirst()
                guard let offsetHours = number(2) else { return nil }
                _ = expect(UInt8(ascii: ":"))
                guard let offsetMinutes = number(2), offsetHours < 24, offsetMinutes < 60 else { return nil }
                let offset = (offsetHours * 60 + offsetMinutes) * 60_000
                milliseconds -= sign == UInt8(ascii: "+") ? offset : -offset
            } else {
                return nil  // a time without a zone is ambiguous
            }
        }
        guard bytes.isEmpty else { return nil }
        millisecondsSinceEpoch = CivilDate.days(year: year, month: month, day: day) * Self.millisecondsPerDay
            + milliseconds
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let instant = Instant(iso8601: text, anyYear: true) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 instant with a zone: '\(text)'"))
        }
        self = instant
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

private func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(value.magnitude)
    return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
}

extension Int64 {
    /// Division rounding toward negative infinity, with a non-negative remainder.
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = self / divisor
        let remainder = self % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's days-from-civil algorithms).
enum CivilDate {
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func fromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// Where the engine gets "now". Injected, so that replays and tests are deterministic.
public protocol EngineClock: Sendable {
    /// The current instant.
    func now() -> Instant
}

/// The real clock, for production.
public struct SystemClock: EngineClock {
    public init() {}

    public func now() -> Instant {
        Instant(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

/// A clock that says what it is told: for tests, and for replays that follow the events' own time.
public final class ManualClock: EngineClock {
    private let current: Mutex<Instant>

    /// Starts at `start`.
    public init(_ start: Instant) {
        current = Mutex(start)
    }

    public func now() -> Instant { current.withLock { $0 } }

    /// Moves the clock to `instant` (never backwards).
    public func advance(to instant: Instant) {
        current.withLock { $0 = max($0, instant) }
    }
}
