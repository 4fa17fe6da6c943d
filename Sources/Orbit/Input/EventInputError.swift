/// A problem with event input: a file that cannot be read, a column mapping that does not make sense, or one line
/// that does not decode into an ``Event``. Its description reads like a compiler diagnostic:
/// `events.ndjson:12: missing field 'customer'`.
public struct EventInputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as it was named to the reader (or `<input>` for in-memory text).
    public var file: String
    /// The 1-based line of the problem; nil for problems with the whole file (unreadable, bad mapping).
    public var line: Int?
    /// What is wrong, in words, without the file and line.
    public var message: String

    /// Creates an error.
    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, or `file: message` without a line.
    public var description: String {
        if let line { "\(file):\(line): \(message)" } else { "\(file): \(message)" }
    }
}

/// A problem found while decoding one line, before the reader attaches the file and line.
struct InputProblem: Error {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}

/// How the lines of an event file are turned into events.
public enum EventFormat: Sendable, Hashable {
    /// Orbit's native format: one JSON object per line (see ``EventReader``).
    case ndjson
    /// A shop's CSV export read through a column mapping.
    case csv(CSVMapping)

    /// The format of the file at `path`, from its extension: `.ndjson` and `.jsonl` are NDJSON; `.csv` and `.txt` are
    /// CSV and need `mapping`. A file with another extension is CSV when a mapping is given.
    ///
    /// - Throws: ``EventInputError`` when the format cannot be told, or a mapping is given for an NDJSON file.
    public static func detect(path: String, mapping: CSVMapping? = nil) throws(EventInputError) -> EventFormat {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let pathExtension = name.contains(".") ? (name.split(separator: ".").last.map { $0.lowercased() } ?? "") : ""
        switch (pathExtension, mapping) {
        case ("ndjson", nil), ("jsonl", nil):
            return .ndjson
        case ("ndjson", .some), ("jsonl", .some):
            throw EventInputError(
                file: path, line: nil,
                message: "a column mapping applies to CSV files only; .\(pathExtension) files are NDJSON events")
        case (_, let mapping?):
            return .csv(mapping)
        case ("csv", nil), ("txt", nil):
            throw EventInputError(
                file: path, line: nil,
                message: ".\(pathExtension) files need a column mapping (a JSON file describing the columns, "
                    + "see examples/loyalty/data/README.md)")
        default:
            throw EventInputError(
                file: path, line: nil,
                message: "cannot tell the event format from the file name: use .ndjson or .jsonl for Orbit events, "
                    + "or give a column mapping for CSV")
        }
    }

    /// Like ``detect(path:mapping:)``, loading the mapping from the JSON file at `mappingPath` when one is given.
    public static func detect(path: String, mappingPath: String?) throws(EventInputError) -> EventFormat {
        let mapping: CSVMapping? =
            if let mappingPath { try CSVMapping.load(path: mappingPath) } else { nil }
        return try detect(path: path, mapping: mapping)
    }
}
