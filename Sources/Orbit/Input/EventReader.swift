/// Reads the events of a file, one line at a time, for a replay: each non-blank line yields its 1-based line number
/// and either an ``Event`` or an ``EventInputError`` saying what is wrong with that line, so that one bad line does
/// not stop the others.
///
/// The native format is NDJSON, one event per line:
///
/// ```json
/// {"id":"e-1","type":"purchase","customer":"c-42","at":"2026-11-20T10:15:00Z","total":4999,"currency":"EUR",
///  "order":"o-1","items":[{"sku":"A1","category":"shoes","qty":1,"price":4999}]}
/// ```
///
/// - `id`, `type`, `customer`: required non-empty strings. The id is the idempotency key.
/// - `at`: required, ISO 8601 with a zone (`2026-11-20T10:15:00Z`, `2026-11-20T11:15:00+01:00`); a bare date is
///   midnight UTC.
/// - `total`: integer minor units (4999 is 49.99 EUR), 0 to 10^12; `currency`: an ISO 4217 code Orbit knows. Both are
///   required for `purchase` and `refund`, optional otherwise (`currency` is then required with `total`; a currency
///   alone stays in the event data).
/// - `order`: optional string. `items`: optional array of `{"sku", "category"?, "qty"?, "price"}` with `qty` an
///   integer above 0 (default 1) and `price` integer minor units; other item fields are errors.
/// - Every other field goes to ``Event/data`` as it is (integers stay integers). `null` counts as absent for the
///   optional fields. Blank lines are skipped; a UTF-8 byte order mark and `\r\n` line ends are accepted.
///
/// CSV files are read through a ``CSVMapping``. The whole file is read into memory when the reader is created.
public struct EventReader: Sequence, Sendable {
    /// One non-blank line: its 1-based number and what it decoded to.
    public typealias Element = (line: Int, result: Result<Event, EventInputError>)

    /// The file as named to the reader, for error messages.
    public let file: String
    /// How lines are decoded.
    public let format: EventFormat
    private let bytes: [UInt8]
    /// Where the first event line starts (after a byte order mark and a CSV header).
    private let start: Int
    private let startLine: Int
    private let csv: CompiledCSVMapping?

    /// Reads the file at `path`.
    ///
    /// - Throws: ``EventInputError`` when the file cannot be read, or the CSV mapping does not fit it (a column name
    ///   missing from the header, an invalid mapping).
    public init(path: String, format: EventFormat) throws(EventInputError) {
        try self.init(bytes: try readFile(path), file: path, format: format)
    }

    /// Reads events from `contents` as if it were a file named `file`.
    public init(contents: String, file: String = "<input>", format: EventFormat) throws(EventInputError) {
        try self.init(bytes: Array(contents.utf8), file: file, format: format)
    }

    init(bytes: [UInt8], file: String, format: EventFormat) throws(EventInputError) {
        self.bytes = bytes
        self.file = file
        self.format = format
        var position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        guard case .csv(let mapping) = format else {
            start = position
            startLine = line
            csv = nil
            return
        }
        var header: [String]?
        if mapping.header {
            while let found = Self.nextLine(in: bytes, from: position) {
                position = found.next
                defer { line += 1 }
                if Self.isBlank(bytes, found.range) { continue }
                do {
                    header = try bytes.withUnsafeBufferPointer { (buffer) throws(InputProblem) in
                        let text = UnsafeBufferPointer(rebasing: buffer[found.range])
                        return try CSVSplitter.split(text, delimiter: mapping.delimiter).map { String(trimmed($0)) }
                    }
                } catch {
                    throw EventInputError(file: file, line: line, message: "header: \(error.message)")
                }
                break
            }
        }
        do {
            csv = try CompiledCSVMapping(mapping, header: header)
        } catch {
            throw EventInputError(file: file, line: header == nil ? nil : line - 1,
                message: "column mapping: \(error.message)")
        }
        start = position
        startLine = line
    }

    /// Iterates over the lines of an ``EventReader``.
    public struct Iterator: IteratorProtocol, Sendable {
        private let reader: EventReader
        private var position: Int
        private var line: Int
        /// For CSV whose ids could repeat: the line of each id seen, to report one that does.
        private let remembersIDs: Bool
        private var seenIDs: [String: Int] = [:]

        init(reader: EventReader) {
            self.reader = reader
            remembersIDs = reader.csv.map { !$0.idsAreUniquePerLine } ?? false
            position = reader.start
            line = reader.startLine
        }

        public mutating func next() -> Element? {
            while let found = EventReader.nextLine(in: reader.bytes, from: position) {
                position = found.next
                let number = line
                line += 1
                if EventReader.isBlank(reader.bytes, found.range) { continue }
                let result: Result<Event, InputProblem> = reader.bytes.withUnsafeBufferPointer { buffer in
                    let text = UnsafeBufferPointer(rebasing: buffer[found.range])
                    guard let csv = reader.csv else {
                        return Result { () throws(InputProblem) in try NDJSONEventDecoder.decode(line: text) }
                    }
                    return Result { () throws(InputProblem) in
                        try csv.decode(try CSVSplitter.split(text, delimiter: csv.delimiter), line: number)
                    }
                }
                switch result {
                case .success(let event):
                    if remembersIDs {
                        if let first = seenIDs.updateValue(number, forKey: event.id) {
                            seenIDs[event.id] = first
                            let message =
                                "the id \(quoteForMessage(event.id)) repeats the one of line \(first): the mapping's "
                                + "id template must make ids unique (include {line})"
                            return (number, .failure(reader.error(line: number, message)))
                        }
                    }
                    return (number, .success(event))
                case .failure(let problem):
                    return (number, .failure(reader.error(line: number, problem.message)))
                }
            }
            return nil
        }
    }

    private func error(line: Int, _ message: String) -> EventInputError {
        EventInputError(file: file, line: line, message: message)
    }

    public func makeIterator() -> Iterator {
        Iterator(reader: self)
    }

    /// All events and all errors, in file order.
    public func readAll() -> (events: [Event], errors: [EventInputError]) {
        var events: [Event] = []
        var errors: [EventInputError] = []
        for (_, result) in self {
            switch result {
            case .success(let event): events.append(event)
            case .failure(let error): errors.append(error)
            }
        }
        return (events, errors)
    }

    /// The line starting at `position` (without `\n` or `\r\n`) and where the next one starts; nil at the end.
    static func nextLine(in bytes: [UInt8], from position: Int) -> (range: Range<Int>, next: Int)? {
        guard position < bytes.count else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            var end = position
            while end < buffer.count, buffer[end] != 0x0A { end += 1 }
            let next = end < buffer.count ? end + 1 : end
            if end > position, buffer[end - 1] == 0x0D { end -= 1 }
            return (position..<end, next)
        }
    }

    static func isBlank(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            buffer[range].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        }
    }
}
