import Orbit

/// The rows of part of a batch, encoded before the write transaction into one byte buffer: for each row, the table
/// it goes to, the commit it comes from and its values in the statement's parameter order.
///
/// Why: the writer holds SQLite's one write lock. Converting Swift values (walking each commit, retaining its strings,
/// and SQLite copying every text it is given) took about a quarter of the writer's time on the CDNOW replay; encoded
/// beforehand, on all cores, the writer only hands SQLite pointers into this buffer, which outlives every statement
/// step that reads them (see ``BulkStatement/bind(_:)-(EncodedRows.Value)``).
///
/// Layout: a row is its target (1 byte), its commit's index in the batch (4 bytes, so at most 2³¹ − 1 commits) and
/// its value count (1 byte, at most 255), then each value: a tag (0 null, 1 integer, 2 text), then 8 bytes of integer
/// or a 4-byte length and the UTF-8 bytes. Integers are in the machine's byte order: a buffer never leaves the
/// process.
struct EncodedRows: Sendable {
    /// Where a row goes: which of the batch's statements runs it.
    enum Target: UInt8, CaseIterable, Sendable {
        case appliedEvent, customer, ledgerEntry, outboxMessage, segmentEntered, segmentLeft, segmentChange,
            surveyResponse, tierChange
        /// The count of one rule's effects of one kind over the batch, added to what `rule_effects` holds.
        case ruleEffects
        /// Not a row: the commit's segment changes, which the writer works out against the stored membership (for
        /// a commit that does not say what the customer's segments were before).
        case segmentsAgainstStore
    }

    /// A value as the writer reads it back.
    enum Value {
        case null
        case integer(Int64)
        /// UTF-8 bytes inside the buffer.
        case text(UnsafeRawBufferPointer)
    }

    private(set) var bytes: [UInt8] = []
    /// Where the value count of the row being written is, to fill in when the row ends.
    private var countOffset = 0

    private enum Tag: UInt8 { case null, integer, text }

    init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Starts a row for `target`, from the commit at `commit` in the batch.
    mutating func startRow(_ target: Target, commit: Int) {
        bytes.append(target.rawValue)
        append(fixedWidth: Int32(commit))  // traps beyond Int32: a batch that large is a bug upstream
        countOffset = bytes.count
        bytes.append(0)
    }

    /// Appends the next value of the current row.
    mutating func append(_ text: String?) {
        guard var text else { return appendNull() }
        text.withUTF8 { appendText($0) }
    }

    /// Appends the next value of the current row.
    mutating func append(_ value: Int64?) {
        guard let value else { return appendNull() }
        startValue(.integer)
        append(fixedWidth: value)
    }

    /// Appends the next value of the current row, as SQLite stores booleans (0 or 1).
    mutating func append(_ value: Bool) { append(Int64(value ? 1 : 0)) }

    /// Appends the next value of the current row: text that `write` appends to the buffer it is given. When `write`
    /// throws, the buffer is left with half a value and must not be read (the batch that made it fails).
    mutating func appendText(written write: (inout [UInt8]) throws -> Void) rethrows {
        startValue(.text)
        let lengthOffset = bytes.count
        append(fixedWidth: UInt32(0))
        let start = bytes.count
        try write(&bytes)
        let length = UInt32(bytes.count - start)
        withUnsafeBytes(of: length) { length in
            for index in 0..<length.count { bytes[lengthOffset + index] = length[index] }
        }
    }

    private mutating func appendText(_ utf8: UnsafeBufferPointer<UInt8>) {
        startValue(.text)
        append(fixedWidth: UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    private mutating func appendNull() { startValue(.null) }

    private mutating func startValue(_ tag: Tag) {
        precondition(bytes[countOffset] < .max, "an encoded row holds at most 255 values")
        bytes[countOffset] += 1
        bytes.append(tag.rawValue)
    }

    private mutating func append<T: FixedWidthInteger>(fixedWidth value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    /// Calls `body` with a reader of the rows, in order. The rows and values it reads point into the buffer: they are
    /// valid only inside `body`.
    func withRows<R>(_ body: (inout RowReader) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { buffer in
            var reader = RowReader(buffer: buffer)
            return try body(&reader)
        }
    }

    /// One row: where it goes, the index of the commit it comes from, and its values.
    struct Row {
        let target: Target
        let commit: Int
        var values: ValueReader
    }

    /// Reads the rows of a buffer, in order.
    struct RowReader {
        private let buffer: UnsafeRawBufferPointer
        private var offset = 0

        fileprivate init(buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

        /// The next row, or nil after the last. However much of a row its reader reads, or when, the next row starts
        /// where it should.
        mutating func next() throws -> Row? {
            guard offset < buffer.count else { return nil }
            guard let target = Target(rawValue: buffer[offset]) else {
                throw StoreError("internal error: an encoded row has an unknown target")
            }
            let commit = Int(buffer.loadUnaligned(fromByteOffset: offset + 1, as: Int32.self))
            let values = ValueReader(buffer: buffer, offset: offset + 6, remaining: Int(buffer[offset + 5]))
            var end = values
            while end.next() != nil {}
            offset = end.offset
            return Row(target: target, commit: commit, values: values)
        }
    }

    /// Reads the values of one row, in order.
    struct ValueReader {
        fileprivate let buffer: UnsafeRawBufferPointer
        fileprivate var offset: Int
        /// Values of the row not read yet.
        fileprivate(set) var remaining: Int

        fileprivate init(buffer: UnsafeRawBufferPointer, offset: Int, remaining: Int) {
            self.buffer = buffer
            self.offset = offset
            self.remaining = remaining
        }

        /// The next value of the row, or nil when none is left.
        mutating func next() -> Value? {
            guard remaining > 0 else { return nil }
            remaining -= 1
            let tag = Tag(rawValue: buffer[offset])
            offset += 1
            switch tag {
            case .integer:
                defer { offset += 8 }
                return .integer(buffer.loadUnaligned(fromByteOffset: offset, as: Int64.self))
            case .text:
                let length = Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                defer { offset += 4 + length }
                return .text(UnsafeRawBufferPointer(rebasing: buffer[(offset + 4)..<(offset + 4 + length)]))
            case .null:
                return .null
            case nil:
                preconditionFailure("an encoded row has a value with an unknown tag")
            }
        }
    }
}
