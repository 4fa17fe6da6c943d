/// One finding of `orbit check`, printed like a compiler's: `file:line:col: error: message`, the source line and a
/// caret under the column.
public struct Diagnostic: Sendable, Hashable {
    public enum Severity: String, Sendable {
        case error, warning
    }

    public var severity: Severity
    public var file: String
    /// 1-based.
    public var line: Int
    /// 1-based, in characters.
    public var column: Int
    public var message: String

    public init(_ severity: Severity, file: String, line: Int, column: Int, _ message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// The diagnostic with its source line and caret, when `source` (the file's text) has that line.
    public func rendered(source: String?) -> String {
        let head = "\(file):\(line):\(column): \(severity.rawValue): \(message)"
        let lines = source.map { $0.split(separator: "\n", omittingEmptySubsequences: false) } ?? []
        guard line >= 1, line <= lines.count else { return head }
        let text = String(lines[line - 1]).replacingTabs
        let caret = String(repeating: " ", count: max(0, column - 1)) + "^"
        return "\(head)\n\(text)\n\(caret)"
    }
}

extension String {
    /// Tabs as single spaces, so that a caret counted in characters lines up.
    fileprivate var replacingTabs: String { String(map { $0 == "\t" ? " " : $0 }) }
}
